/**
 * Assertions shared by the core tests over `Exchange` reports: what a cookie
 * fetch, a proven TFO connection, a plain connection and an exact delivery
 * look like.
 */
import { expect } from "bun:test";
import { type Exchange, pattern, sha256 } from "./common.ts";

/** A counter delta with every TFO counter at zero except `nonZero`. */
export function counters(nonZero: Partial<Record<keyof Exchange["delta"], number>> = {}): Exchange["delta"] {
  return {
    TCPFastOpenActive: 0,
    TCPFastOpenActiveFail: 0,
    TCPFastOpenPassive: 0,
    TCPFastOpenPassiveFail: 0,
    TCPFastOpenListenOverflow: 0,
    TCPFastOpenCookieReqd: 0,
    TCPFastOpenBlackhole: 0,
    ...nonZero,
  };
}

/**
 * No cookie yet: -1/EINPROGRESS, nothing sent (nothing at the server until
 * the caller's socketSend), the kernel says "no-cookie" and counts exactly one
 * cookie request (client and server share the namespace).
 */
export function expectCookieFetch(e: Exchange): void {
  expect(e.returned).toBe(-1);
  expect(e.error).toBe("EINPROGRESS");
  expect(e.arrivedWithConnect).toBe(0);
  expect(e.sentAfter).toBe(e.length);
  expect(e.client).toMatchObject({ known: true, sent: false, acked: false, reason: "no-cookie" });
  expect(e.server).toMatchObject({ known: true, sent: false, acked: false });
  expect(e.delta).toEqual(counters({ TCPFastOpenCookieReqd: 1 }));
}

/**
 * Data in the SYN, proven: the call returned the bytes it queued into the
 * SYN, both ends' TCP_INFO say SYN data sent and acknowledged, and the
 * namespace counted exactly one active and one passive TFO open. Plain
 * connect + write would leave all of these at false / 0.
 */
export function expectTfo(e: Exchange): void {
  expect(e.error).toBeNull();
  expect(e.returned).toBeGreaterThan(0);
  expect(e.returned).toBeLessThanOrEqual(e.length);
  expect(e.arrivedWithConnect).toBe(e.returned);
  expect(e.sentAfter).toBe(e.length - e.returned);
  expect(e.client).toMatchObject({ known: true, sent: true, acked: true, established: true, reason: "none" });
  expect(e.server).toMatchObject({ known: true, sent: true, acked: true, established: true });
  expect(e.delta).toEqual(counters({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 }));
}

/** The server read exactly `pattern(length, seed)`: nothing lost, doubled or reordered. */
export function expectDelivered(e: Exchange, seed: number): void {
  expect(e.received).toBe(e.length);
  expect(e.sha256).toBe(sha256(pattern(e.length, seed)));
}
