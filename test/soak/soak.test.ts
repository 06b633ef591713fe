/**
 * The soak's --quick variant (test/soak/soak.ts): 3000 TFO connections through
 * the async `connect()` at concurrency 256 against a local TFO `listen()`
 * server, random payloads of 0..64 KiB, every one checked by the server's
 * checksum; this process's fds back to their baseline. The soak runs itself in
 * a private network namespace. The full run (200000 connections) is
 * `bun run soak`.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { netnsUnavailable } from "../support/netns.ts";

interface SoakReport {
  connections: number;
  failureCount: number;
  failures: { index: number; size: number; what: string }[];
  baseline: { fds: number; rssMiB: number };
  end: { fds: number; rssMiB: number };
  counters: FastOpenCounters;
  server: { served: number; protocolErrors: number; socketErrors: number };
  payloadMiB: number;
}

test.skipIf(netnsUnavailable() !== null)(
  "soak --quick: 3000 TFO connections, every byte delivered once and in order, fds back to baseline",
  () => {
    const run = spawnSync(process.execPath, [join(import.meta.dir, "soak.ts"), "--quick"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    const last = (run.stdout ?? "").trim().split("\n").pop() ?? "";
    if (!last.startsWith("{")) throw new Error(`soak failed (status ${run.status}):\n${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(last) as SoakReport;
    expect(report.failures).toEqual([]);
    expect(report.failureCount).toBe(0);
    expect(report.connections).toBe(3000);
    expect(report.server.protocolErrors).toBe(0);
    expect(report.server.served).toBeGreaterThanOrEqual(report.connections);
    // Every connection's SYN carried data (acknowledged, or not when the TFO queue overflowed).
    expect(report.counters.TCPFastOpenActive + report.counters.TCPFastOpenActiveFail).toBe(report.connections);
    expect(report.counters.TCPFastOpenActive).toBeGreaterThan(0);
    expect(report.end.fds).toBe(report.baseline.fds);
    // A leak of the payloads (64 KiB x 3000) would be ~190 MiB.
    expect(report.end.rssMiB - report.baseline.rssMiB).toBeLessThan(64);
    expect(run.status).toBe(0);
  },
  120_000,
);
