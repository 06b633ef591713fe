/**
 * No-cookie modes: deterministic single-connection TFO, where the
 * very first connection already carries its data in the SYN. Each mode runs
 * in its own private namespace with its own net.ipv4.tcp_fastopen.
 *
 * Bits (Documentation/networking/ip-sysctl.rst): 0x1 client, 0x2 server,
 * 0x4 client sends SYN data without a cookie, 0x200 server accepts SYN data
 * without a cookie, 0x400 TFO on every listener without TCP_FASTOPEN.
 */
import { describe, expect, test } from "bun:test";
import { netnsUnavailable } from "../support/netns.ts";
import type { Exchange } from "./common.ts";
import { counters, expectDelivered, expectTfo } from "./expect.ts";
import { runCoreCase } from "./run.ts";

const unavailable = netnsUnavailable();
if (unavailable !== null) console.log(`core.nocookie: skipped: ${unavailable}`);

function exchanges(name: string, tcpFastopen: number): Exchange[] {
  return runCoreCase<{ exchanges: Exchange[] }>(name, tcpFastopen).exchanges;
}

/** Every connection, the first included, is proven TFO with the whole payload in the SYN and no cookie request. */
function expectEveryConnectionTfo(list: Exchange[]): void {
  expect(list.length).toBeGreaterThan(0);
  list.forEach((e, i) => {
    expectTfo(e);
    expect(e.returned).toBe(e.length);
    expect(e.delta.TCPFastOpenCookieReqd).toBe(0);
    expectDelivered(e, i + 1);
  });
}

describe.skipIf(unavailable !== null)("no-cookie modes: the first connection already carries data", () => {
  test("client socketFastopenNoCookie, server sysctl 0x200 (tcp_fastopen=0x203)", () => {
    expectEveryConnectionTfo(exchanges("noCookieClient", 0x203));
  });

  test("client and listener socketFastopenNoCookie, sysctl 3 only (the per-socket form of 0x4 and 0x200)", () => {
    expectEveryConnectionTfo(exchanges("noCookieBoth", 3));
  });

  test("sysctl only, 0x607 (0x4 client, 0x200 + 0x400 server): plain client, listener without socketFastopen", () => {
    expectEveryConnectionTfo(exchanges("plainListener", 0x607));
  });

  test("sysctl 0x404|0x3 (1031): the SYN carries the data, but without 0x200 the server still wants a cookie", () => {
    // The client puts the data in the SYN without a cookie (0x4); the server
    // (no 0x200, no per-socket no-cookie) does not take it, so the kernel
    // sends it again after the handshake. Delivered exactly once all the same.
    const list = exchanges("sysctlOnly", 0x407);
    list.forEach((e, i) => {
      expect(e.returned).toBe(e.length);
      expect(e.client).toMatchObject({ sent: true, acked: false, reason: "data-not-acked" });
      expect(e.server).toMatchObject({ sent: false, acked: false });
      expect(e.delta).toEqual(counters({ TCPFastOpenActiveFail: 1 }));
      expectDelivered(e, i + 1);
    });
  });
});
