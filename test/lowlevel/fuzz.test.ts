/**
 * The FFI-boundary fuzzer (test/scenarios/rel-fuzz.ts), in a private network
 * namespace with TFO on. Seeded: set FUZZ_SEED to replay a run (each run
 * prints its seed; without FUZZ_SEED a fresh one is drawn), FUZZ_CASES and
 * FUZZ_ASYNC_CASES to change its size.
 *
 *   FUZZ_SEED=1234 bun test test/fuzz.ffi.test.ts
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { netnsUnavailable, runScenario } from "../support/netns.ts";

interface FuzzReport {
  seed: number;
  cases: number;
  asyncCases: number;
  syncMs: number;
  asyncMs: number;
  violationCount: number;
  violations: string[];
  asyncViolationCount: number;
  asyncViolations: string[];
  outcomes: Record<string, Record<string, number>>;
  asyncOutcomes: Record<string, Record<string, number>>;
  asyncOpened: number;
  syncFdDiff: string[];
  asyncFdDiff: string[];
  foreignIntact: boolean;
  pipeUsable: boolean;
  refusedAt: number;
}

const skip = netnsUnavailable();
const seed = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 0x1_0000_0000));
const cases = process.env.FUZZ_CASES ?? "120000";
const asyncCases = process.env.FUZZ_ASYNC_CASES ?? "1500";
const replay = `replay with FUZZ_SEED=${seed} FUZZ_CASES=${cases} FUZZ_ASYNC_CASES=${asyncCases}`;

let report: FuzzReport;

/** Sum of one outcome label over every function of a table. */
function total(table: Record<string, Record<string, number>>, label: string): number {
  return Object.values(table).reduce((sum, outcomes) => sum + (outcomes[label] ?? 0), 0);
}

describe.skipIf(skip !== null)("FFI-boundary fuzzer", () => {
  beforeAll(() => {
    const script = join(import.meta.dir, "fuzz.scenario.ts");
    const env = { FUZZ_SEED: seed, FUZZ_CASES: cases, FUZZ_ASYNC_CASES: asyncCases };
    report = runScenario<FuzzReport>(script, [], { sysctl: { tcp_fastopen: "3" }, env, timeoutMs: 150_000 }).report;
    console.log(
      `fuzz: seed ${report.seed}, ${report.cases} calls in ${report.syncMs} ms, ${report.asyncCases} ` +
        `async calls in ${report.asyncMs} ms (${replay})`,
    );
  }, 160_000);

  test("low-level and address layers: only documented results and errors, guards intact", () => {
    expect(report.seed).toBe(Number(seed) >>> 0);
    expect(report.cases).toBe(Number(cases));
    expect({ replay, violations: report.violations }).toEqual({ replay, violations: [] });
    expect(report.violationCount).toBe(0);
  });

  test("no fd leaked or closed: the table returns to its baseline, foreign fds stay open and usable", () => {
    expect({ replay, diff: report.syncFdDiff }).toEqual({ replay, diff: [] });
    expect(report.foreignIntact).toBe(true);
    expect(report.pipeUsable).toBe(true);
  });

  test("TFO is never switched off for the process by a bad call", () => {
    expect({ replay, refusedAt: report.refusedAt }).toEqual({ replay, refusedAt: -1 });
  });

  test("the run reached the kernel (not only the argument checks)", () => {
    if (Number(cases) < 100_000) return;
    for (const code of [
      "EBADF",
      "ENOTSOCK",
      "EPROTOTYPE",
      "EAFNOSUPPORT",
      "EINPROGRESS",
      "EAGAIN",
      "ENETUNREACH",
      "TypeError",
      "RangeError",
    ]) {
      expect({ code, seen: total(report.outcomes, code) > 0 }).toEqual({ code, seen: true });
    }
    expect(report.outcomes.socketFastopenConnect6?.ok ?? 0).toBeGreaterThan(0);
    const recvReached = Object.entries(report.outcomes.socketRecv ?? {}).filter(([label]) => !label.endsWith("Error"));
    expect(recvReached.reduce((sum, [, n]) => sum + n, 0)).toBeGreaterThan(1000);
  });

  test("async layer (connect, listen): settles with a TypeError/RangeError or a SystemError, no fd left", () => {
    expect({ replay, violations: report.asyncViolations }).toEqual({ replay, violations: [] });
    expect({ replay, diff: report.asyncFdDiff }).toEqual({ replay, diff: [] });
    if (Number(asyncCases) >= 1000) {
      expect(report.asyncOutcomes.connect?.ok ?? 0).toBeGreaterThan(0);
      expect(report.asyncOutcomes.connect?.ECONNREFUSED ?? 0).toBeGreaterThan(0);
    }
  });
});
