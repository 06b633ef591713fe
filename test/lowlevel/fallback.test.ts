/**
 * Fallback: client TFO disabled in the namespace (tcp_fastopen=2,
 * server only). sendto(MSG_FASTOPEN) is refused, the library falls back to
 * connect + send with the same contract, and remembers the refusal for a
 * while (fastopenRefused / fastopenReset; its expiry: test/connect/refusal.test.ts).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { netnsUnavailable } from "../support/netns.ts";
import type { Exchange } from "./common.ts";
import { counters, expectDelivered } from "./expect.ts";
import { runCoreCase } from "./run.ts";

const unavailable = netnsUnavailable();
if (unavailable !== null) console.log(`core.fallback: skipped: ${unavailable}`);

interface FallbackReport {
  refusedAtStart: boolean;
  first: Exchange[];
  blocking: Exchange[];
  v4: Exchange[];
  refusedAfterReset: boolean;
  again: Exchange[];
  lazy: Exchange[];
  noCookieOption: number;
}

/** Plain connection: no SYN data on either end, no TFO counter moved. */
function expectPlain(e: Exchange): void {
  expect(e.client).toMatchObject({ known: true, sent: false, acked: false });
  expect(e.server).toMatchObject({ known: true, sent: false, acked: false });
  expect(e.delta).toEqual(counters());
}

describe.skipIf(unavailable !== null)("fallback when the client side of TFO is disabled (tcp_fastopen=2)", () => {
  let report: FallbackReport;
  beforeAll(() => {
    report = runCoreCase<FallbackReport>("fallback", 2);
  });

  test("non-blocking: same contract as without a cookie (-1/EINPROGRESS, nothing sent), status not sent", () => {
    expect(report.refusedAtStart).toBe(false);
    for (const e of [...report.first, ...report.v4, ...report.again, ...report.lazy]) {
      expect(e.returned).toBe(-1);
      expect(e.error).toBe("EINPROGRESS");
      expect(e.arrivedWithConnect).toBe(0);
      expect(e.connected).toBe(1);
      expect(e.refused).toBe(true);
      expectPlain(e);
    }
  });

  test("blocking: returns the whole buffer", () => {
    const e = report.blocking[0]!;
    expect(e.returned).toBe(e.length);
    expect(e.refused).toBe(true);
    expectPlain(e);
  });

  test("fastopenRefused() is remembered, and fastopenReset() clears it until the next refusal", () => {
    expect(report.first.map((e) => e.refused)).toEqual([true, true]);
    expect(report.refusedAfterReset).toBe(false);
    expect(report.again[0]!.refused).toBe(true);
    // After another reset, socketFastopenLazy6 meets the refusal and records it the same way.
    expect(report.lazy[0]!.lazyConnect).toBe(-1);
    expect(report.lazy[0]!.refused).toBe(true);
    expect(report.noCookieOption).toBe(0);
  });

  test("every byte is delivered exactly once", () => {
    report.first.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
    expectDelivered(report.blocking[0]!, 1);
    expectDelivered(report.v4[0]!, 1);
    expectDelivered(report.again[0]!, 1);
    expectDelivered(report.lazy[0]!, 1);
  });
});
