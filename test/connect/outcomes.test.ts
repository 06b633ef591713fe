/**
 * Issue 11.3 and 11.7: what `connect()` reports is what happened. A lazy
 * connect whose `open` writes and ends is not "reset" when its request was
 * delivered; a lazy `open` runs once per connect() call, not once per
 * address; a peer's half-close during a large payload is not a reset.
 * Private network namespaces.
 */
import { expect, test } from "bun:test";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { Settled } from "./outcomes.scenario.ts";

const suite = namespaceSuite("connect.outcomes");
const SCENARIO = `${import.meta.dir}/outcomes.scenario.ts`;

suite("outcomes that match what happened", () => {
  test("lazy connect, cookie known, open writes then ends: resolves, the request in the SYN (bytesInSyn), once", () => {
    const r = runScenarioCase<{
      tries: Array<Settled & { status: FastOpenStatus | null; received: string; opens: number; requestLength: number }>;
      extra: boolean;
      fdsBefore: number;
      fdsAfter: number;
    }>(SCENARIO, ["lazyEnd"]);
    expect(r.tries).toHaveLength(20);
    for (const t of r.tries) {
      expect({ resolved: t.resolved, code: t.code, received: t.received, opens: t.opens }).toEqual({
        resolved: true,
        code: null,
        received: "request",
        opens: 1,
      });
      // The whole request rode in the SYN: the status says how many bytes (the first write's, as the kernel took it).
      expect(t.status).toMatchObject({ sent: true, acked: true, reason: "none", mode: "lazy" });
      expect(t.status!.bytesInSyn).toBe(t.requestLength);
    }
    expect(r.extra).toBe(false);
    expect(r.fdsAfter).toBe(r.fdsBefore);
  }, 30_000);

  for (const then of ["stay", "end"]) {
    test(`lazy, the first address refuses: open (${then}) runs once, the next gets the request once in its SYN`, () => {
      const r = runScenarioCase<{
        opens: number;
        remoteAddress: string;
        received: string;
        status: FastOpenStatus;
        request: string;
      }>(SCENARIO, ["lazyOpens", then]);
      // With "end", the server's record completes only on the client's FIN: the end was replayed.
      expect(r).toMatchObject({ opens: 1, remoteAddress: "127.0.0.1", received: "request" });
      // The replayed request rode in the SYN to 127.0.0.1 (its cookie known, TCP_INFO): the status says so.
      expect(r.status).toMatchObject({ sent: true, acked: true, reason: "none", mode: "lazy" });
      expect({ inSyn: r.status.bytesInSyn, after: r.status.bytesAfterHandshake }).toEqual({
        inSyn: r.request.length,
        after: 0,
      });
    }, 30_000);
  }

  test("a peer's half-close during an 8 MiB payload: not ECONNRESET; with allowHalfOpen every byte arrives", () => {
    const r = runScenarioCase<{
      results: Record<string, Settled & { delivered: boolean; receivedBytes: number }>;
      payloadBytes: number;
    }>(SCENARIO, ["halfClose"]);
    const closed = r.results.false!;
    expect(closed.resolved).toBe(false);
    expect(closed.code).toBe("EPIPE");
    expect(closed.message).toContain("ended by the peer");
    expect(closed.receivedBytes).toBeLessThan(r.payloadBytes);
    expect(r.results.true).toMatchObject({ resolved: true, delivered: true, receivedBytes: r.payloadBytes });
  }, 30_000);
});
