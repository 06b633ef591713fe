/**
 * Issue 11.6: one refusal of TFO (client TFO off) must not switch TFO off for
 * the life of the process. In a private namespace started with
 * `net.ipv4.tcp_fastopen=2`, then set to 3 by the scenario: the refusal is
 * remembered for a bounded time that `support()` reports, and the first
 * connect after it tries TFO again (proven by the TcpExt counters).
 */
import { expect, test } from "bun:test";
import type { FastOpenOutcome } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { FASTOPEN_REFUSAL_MS } from "../../src/lowlevel/socket.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";

const suite = namespaceSuite("connect.refusal");

interface FlipReport {
  refused: FastOpenOutcome;
  atRefusal: { now: number; refusedUntil: number | null; advice: string[] };
  afterWait: { refusedUntil: number | null; client: boolean };
  again: FastOpenOutcome[];
  counters: FastOpenCounters;
}

suite("a refusal of TFO is remembered for a bounded time", () => {
  test("client TFO off, then on: support() says until when; after it, TFO is tried again and works", () => {
    const r = runScenarioCase<FlipReport>(`${import.meta.dir}/refusal.scenario.ts`, ["flip"], 2);
    expect(r.refused).toBe("disabled");
    // What is remembered and until when: at most FASTOPEN_REFUSAL_MS ahead.
    expect(r.atRefusal.refusedUntil).not.toBeNull();
    expect(r.atRefusal.refusedUntil!).toBeGreaterThan(r.atRefusal.now - FASTOPEN_REFUSAL_MS);
    expect(r.atRefusal.refusedUntil!).toBeLessThanOrEqual(r.atRefusal.now + FASTOPEN_REFUSAL_MS);
    expect(r.atRefusal.advice.join("\n")).toContain("connects without it until");
    expect(r.afterWait).toEqual({ refusedUntil: null, client: true });
    // Tried again: the first connect asks for a cookie, the second's payload rides in the SYN.
    expect(r.again).toEqual(["no-cookie", "none"]);
    expect(r.counters.TCPFastOpenCookieReqd).toBe(1);
    expect(r.counters.TCPFastOpenActive).toBe(1);
    expect(r.counters.TCPFastOpenPassive).toBe(1);
  });
});
