/**
 * The libowfat-style TFO core over loopback, each case in its own
 * private network namespace (net.ipv4.tcp_fastopen set there, never on the
 * host). Every TFO claim is proven by both ends' TCP_INFO and by exact
 * TcpExt counter deltas; plain connect + write fails these tests.
 */
import { beforeAll, expect, test } from "bun:test";
import type { ErrnoInfo, KernelFastOpenStatus } from "../../src/lowlevel.ts";
import { POLLOUT } from "../../src/lowlevel.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { type Exchange, ONE_MSS, viewVariants } from "./common.ts";
import { counters, expectCookieFetch, expectDelivered, expectTfo } from "./expect.ts";
import { runCoreCase } from "./run.ts";

const suite = namespaceSuite("core.tfo");

suite("cookie, then data in the SYN (tcp_fastopen=3)", () => {
  let exchanges: Exchange[];
  beforeAll(() => {
    exchanges = runCoreCase<{ exchanges: Exchange[] }>("cookie", 3).exchanges;
  });

  test("the first connection only fetches a cookie: -1/EINPROGRESS, nothing sent", () => {
    expectCookieFetch(exchanges[0]!);
  });

  test("later connections send the whole payload in the SYN, acked on both ends, counted exactly", () => {
    for (const e of exchanges.slice(1)) {
      expectTfo(e);
      expect(e.returned).toBe(e.length);
    }
  });

  test("the server receives exactly the bytes of every connection", () => {
    exchanges.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
  });
});

suite("non-blocking contract", () => {
  let exchanges: Exchange[];
  let closed: {
    returned: number;
    error: string | null;
    pollEvents: number;
    connected: number;
    connectedError: ErrnoInfo | null;
    status: KernelFastOpenStatus | null;
    blocking: number;
    blockingError: ErrnoInfo | null;
  };
  beforeAll(() => {
    exchanges = runCoreCase<{ exchanges: Exchange[] }>("cookie", 3).exchanges;
    closed = runCoreCase<typeof closed>("closed", 3);
  });

  test("-1 + EINPROGRESS, then writable, then socketConnected 1, then the remainder goes with socketSend", () => {
    const e = exchanges[0]!;
    expect(e.returned).toBe(-1);
    expect(e.error).toBe("EINPROGRESS");
    expect(e.pollEvents! & POLLOUT).toBe(POLLOUT);
    expect(e.connected).toBe(1);
    expect(e.sentAfter).toBe(e.length);
    expectDelivered(e, 1);
  });

  test("a closed port: writable, then socketConnected 0 with ECONNREFUSED", () => {
    expect(closed.returned).toBe(-1);
    expect(closed.error).toBe("EINPROGRESS");
    expect(closed.pollEvents & POLLOUT).toBe(POLLOUT);
    expect(closed.connected).toBe(0);
    expect(closed.connectedError).toMatchObject({ code: "ECONNREFUSED", syscall: "socket_connected" });
    expect(closed.status).toMatchObject({ sent: false, acked: false, established: false });
  });

  test("a closed port on a blocking socket: -1 with ECONNREFUSED at once", () => {
    expect(closed.blocking).toBe(-1);
    expect(closed.blockingError).toMatchObject({ code: "ECONNREFUSED", syscall: "socket_fastopen_connect6" });
  });
});

suite("blocking sockets (socketTcp6b, socketTcp4b) return every byte", () => {
  let report: { blocking6: Exchange[]; nonBlocking6: Exchange[]; blocking4: Exchange[] };
  beforeAll(() => {
    report = runCoreCase<typeof report>("blocking", 3);
  });

  test("without a cookie: the whole buffer, sent after the handshake", () => {
    for (const e of [report.blocking6[0]!, report.blocking4[0]!]) {
      expect(e.returned).toBe(e.length);
      expect(e.client).toMatchObject({ sent: false, acked: false, reason: "no-cookie" });
      expect(e.delta).toEqual(counters({ TCPFastOpenCookieReqd: 1 }));
    }
  });

  test("with a cookie: the whole buffer, its start in the SYN (proven)", () => {
    for (const e of [report.blocking6[1]!, report.blocking4[1]!]) {
      expect(e.returned).toBe(e.length);
      expect(e.sentAfter).toBe(0);
      expect(e.client).toMatchObject({ sent: true, acked: true, reason: "none" });
      expect(e.server).toMatchObject({ sent: true, acked: true });
      expect(e.delta).toEqual(counters({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 }));
    }
  });

  test("control: a non-blocking socket returns only what the SYN carried", () => {
    const e = report.nonBlocking6[0]!;
    expectTfo(e);
    expect(e.returned).toBeLessThan(e.length);
  });

  test("every byte arrives once", () => {
    report.blocking6.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
    report.blocking4.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
    expectDelivered(report.nonBlocking6[0]!, 1);
  });
});

suite("IPv4: socketFastopenConnect4 on socketTcp4, and ::ffff:a.b.c.d on an IPv6 socket", () => {
  let report: { v4: Exchange[]; mapped: Exchange[] };
  beforeAll(() => {
    report = runCoreCase<typeof report>("ipv4", 3);
  });

  test("socketTcp4 + socketFastopenConnect4: cookie, then proven TFO", () => {
    expectCookieFetch(report.v4[0]!);
    expectTfo(report.v4[1]!);
    report.v4.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
    for (const e of report.v4) expect(e.peer).toBe("::ffff:127.0.0.1");
  });

  test("v4-mapped on socketTcp6 + socketFastopenConnect6: cookie, then proven TFO", () => {
    expectCookieFetch(report.mapped[0]!);
    expectTfo(report.mapped[1]!);
    report.mapped.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
    for (const e of report.mapped) expect(e.peer).toStartWith("::ffff:127.");
  });
});

suite(`payload sizes 0, 1, one MSS (${ONE_MSS}), 64 KiB`, () => {
  let report: { cookie: Exchange; sizes: Exchange[] };
  const bySize = (size: number): Exchange => report.sizes.find((e) => e.length === size)!;
  beforeAll(() => {
    report = runCoreCase<typeof report>("sizes", 3);
  });

  test("a cookie is fetched first", () => {
    expectCookieFetch(report.cookie);
    expectDelivered(report.cookie, 99);
  });

  test("0 bytes: nothing to put in the SYN, so -1/EINPROGRESS; the SYN still presents the cookie", () => {
    const e = bySize(0);
    expect(e.returned).toBe(-1);
    expect(e.error).toBe("EINPROGRESS");
    expect(e.connected).toBe(1);
    expect(e.client).toMatchObject({ sent: false, acked: false, reason: "none" });
    // Linux opens a TFO child for a data-less SYN with a valid cookie: Passive counts, Active does not.
    expect(e.delta).toEqual(counters({ TCPFastOpenPassive: 1 }));
    expect(e.received).toBe(0);
  });

  test("1 byte and one MSS: in the SYN, proven", () => {
    expectTfo(bySize(1));
    expect(bySize(1).returned).toBe(1);
    expectTfo(bySize(ONE_MSS));
  });

  test("64 KiB: the SYN carries a part, the rest follows with socketSend after socketConnected", () => {
    const e = bySize(64 * 1024);
    expectTfo(e);
    expect(e.returned).toBeLessThan(e.length);
    expect(e.connected).toBe(1);
    expect(e.returned + e.sentAfter).toBe(e.length);
  });

  test("every size arrives exactly, nothing lost or doubled", () => {
    for (const e of report.sizes) expectDelivered(e, e.length + 7);
  });
});

suite("server side: socketFastopen on the listener", () => {
  let report: { withoutOption: Exchange[]; noCookieClient: Exchange[]; withOption: Exchange[] };
  beforeAll(() => {
    report = runCoreCase<typeof report>("passive", 3);
  });

  test("without it (and without sysctl 0x400): no cookie is ever given, Passive stays 0, data arrives", () => {
    for (const e of report.withoutOption) expectCookieFetch(e);
    report.withoutOption.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
  });

  test("without it, SYN data without a cookie is not taken: sent once more after the handshake, exactly once", () => {
    const e = report.noCookieClient[0]!;
    expect(e.returned).toBe(e.length);
    expect(e.client).toMatchObject({ sent: true, acked: false, reason: "data-not-acked" });
    expect(e.server).toMatchObject({ sent: false, acked: false });
    expect(e.delta).toEqual(counters({ TCPFastOpenActiveFail: 1 }));
    expectDelivered(e, 1);
  });

  test("with it: cookie, then TCPFastOpenPassive counts", () => {
    expectCookieFetch(report.withOption[0]!);
    expectTfo(report.withOption[1]!);
    report.withOption.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
  });
});

suite("server side: sysctl 0x400 enables TFO on listeners without socketFastopen", () => {
  test("tcp_fastopen=0x403: cookie, then proven TFO; tcp_fastopen=3: never", () => {
    const all = runCoreCase<{ exchanges: Exchange[] }>("plainListener", 0x403).exchanges;
    expectCookieFetch(all[0]!);
    expectTfo(all[1]!);
    all.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
    const none = runCoreCase<{ exchanges: Exchange[] }>("plainListener", 3).exchanges;
    for (const e of none) expectCookieFetch(e);
    none.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
  });
});

suite("lazy connect (socketFastopenLazy6): the SYN leaves with the first socketSend", () => {
  let exchanges: Exchange[];
  beforeAll(() => {
    exchanges = runCoreCase<{ exchanges: Exchange[] }>("lazy", 3).exchanges;
  });

  test("without a cookie: a plain SYN asking for one, -1/EINPROGRESS, nothing sent", () => {
    expect(exchanges[0]!.lazyConnect).toBe(-1);
    expectCookieFetch(exchanges[0]!);
  });

  test("with a cookie: connect returns 0 at once, the first socketSend's data rides in the SYN (proven)", () => {
    for (const e of exchanges.slice(1)) {
      expect(e.lazyConnect).toBe(0);
      expectTfo(e);
      expect(e.returned).toBe(e.length);
    }
    exchanges.forEach((e, i) => {
      expectDelivered(e, i + 1);
    });
  });
});

suite("buffers of every shape through the SYN path", () => {
  interface Variant {
    name: string;
    returned: number;
    connected: number;
    client: KernelFastOpenStatus | null;
    delta: Exchange["delta"];
    received: number[];
    largestRead: number;
  }
  let report: { cookie: Exchange; variants: Variant[] };
  beforeAll(() => {
    report = runCoreCase<typeof report>("views", 3);
  });

  test.each(viewVariants().map((v) => [v.name, v] as const))(
    "%s: offset and len honoured, in the SYN (proven)",
    (name, variant) => {
      expectCookieFetch(report.cookie);
      const got = report.variants.find((v) => v.name === name)!;
      expect(got.returned).toBe(variant.expected.byteLength);
      expect(got.connected).toBe(1);
      expect(got.client).toMatchObject({ sent: true, acked: true });
      expect(got.delta).toEqual(counters({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 }));
      expect(got.received).toEqual(Array.from(variant.expected));
    },
  );

  test("socketRecv never reads more than its len", () => {
    for (const v of report.variants) expect(v.largestRead).toBeLessThanOrEqual(7);
    expect(Math.max(...report.variants.map((v) => v.largestRead))).toBe(7);
  });
});
