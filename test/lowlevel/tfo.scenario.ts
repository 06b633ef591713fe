/**
 * Loopback TFO scenarios for the libowfat-style layer. Run one case per
 * private network namespace (`runScenario(script, [case], { sysctl })`), so
 * that no cookie cached by one case can change another, and every counter
 * delta belongs to this case alone. Prints `{ case, ... }` as JSON.
 */

import { must } from "../../src/lowlevel/errors.ts";
import {
  counterDelta,
  type Endpoint6,
  fastOpenCounters,
  fastopenRefused,
  fastopenReset,
  lastError,
  POLLIN,
  POLLOUT,
  parseIp4,
  parseIp6,
  socketAccept6,
  socketBind6,
  socketClose,
  socketConnected,
  socketFastopenConnect6,
  socketFastopenNoCookie,
  socketFastopenStatus,
  socketLocal6,
  socketPoll,
  socketRecv,
  socketShutdownWrite,
  socketTcp6,
  socketTcp6b,
  v4Mapped,
} from "../../src/lowlevel.ts";
import { runCase } from "../support/scenario-main.ts";
import {
  assertPrivateNetns,
  type ClientKind,
  type Exchange,
  exchange,
  type Listener,
  listen4,
  listen6,
  ONE_MSS,
  pattern,
  viewVariants,
} from "./common.ts";

const LOOPBACK6 = parseIp6("::1").ip;
const ANY6 = parseIp6("::").ip;

/** Where a series of clients connects, and how. */
interface Target {
  kind: ClientKind;
  ip: Uint8Array;
  noCookie?: boolean;
  lazy?: boolean;
}

/** `count` exchanges with `listener`, each with its own `size`-byte payload (seeds 1..count). */
function series(listener: Listener, count: number, size: number, target: Target): Exchange[] {
  return Array.from({ length: count }, (_, i) => exchange(listener, { ...target, payload: pattern(size, i + 1) }));
}

const cases: Record<string, () => object> = {
  /** tcp_fastopen=3: the first connection fetches a cookie, later ones carry data in the SYN. */
  cookie() {
    const listener = listen6(LOOPBACK6);
    return { exchanges: series(listener, 3, 100, { kind: "tcp6", ip: LOOPBACK6 }) };
  },

  /** A closed port: -1/EINPROGRESS, then writable, then socketConnected 0 with ECONNREFUSED. */
  closed() {
    const probe = must(socketTcp6(), "socketTcp6");
    must(socketBind6(probe, LOOPBACK6, 0), "socketBind6");
    const local = {} as Endpoint6;
    must(socketLocal6(probe, local), "socketLocal6");
    must(socketClose(probe), "socketClose"); // bound, never listened: the port refuses
    const fd = must(socketTcp6(), "socketTcp6");
    const returned = socketFastopenConnect6(fd, LOOPBACK6, local.port, 0, pattern(10, 1));
    const error = returned < 0 ? (lastError()?.code ?? null) : null;
    const pollEvents = socketPoll(fd, POLLOUT, 10_000);
    const connected = socketConnected(fd);
    const connectedError = lastError();
    const status = socketFastopenStatus(fd);
    must(socketClose(fd), "socketClose");
    const blockingFd = must(socketTcp6b(), "socketTcp6b");
    const blocking = socketFastopenConnect6(blockingFd, LOOPBACK6, local.port, 0, pattern(10, 1));
    const blockingError = lastError();
    must(socketClose(blockingFd), "socketClose");
    return { returned, error, pollEvents, connected, connectedError, status, blocking, blockingError };
  },

  /**
   * Blocking sockets return every byte. The non-blocking control with the
   * same payload and a cookie returns only what the SYN carried.
   */
  blocking() {
    const listener = listen6(ANY6);
    const size = 5000;
    const blocking6 = series(listener, 2, size, { kind: "tcp6b", ip: LOOPBACK6 });
    const nonBlocking6 = series(listener, 1, size, { kind: "tcp6", ip: LOOPBACK6 });
    const blocking4 = series(listener, 2, size, { kind: "tcp4b", ip: parseIp4("127.0.0.1") });
    return { blocking6, nonBlocking6, blocking4 };
  },

  /** Payload sizes 0, 1, one MSS, 64 KiB after a cookie fetch. */
  sizes() {
    const listener = listen6(LOOPBACK6);
    const target: Target = { kind: "tcp6", ip: LOOPBACK6 };
    const cookie = exchange(listener, { ...target, payload: pattern(10, 99) });
    const sizes = [0, 1, ONE_MSS, 64 * 1024];
    return { cookie, sizes: sizes.map((size) => exchange(listener, { ...target, payload: pattern(size, size + 7) })) };
  },

  /** IPv4 on socketTcp4 through socketFastopenConnect4; IPv4 as ::ffff:a.b.c.d on an IPv6 socket. */
  ipv4() {
    const ip4 = parseIp4("127.0.0.1");
    const listener4 = listen4(ip4);
    const v4 = series(listener4, 2, 200, { kind: "tcp4", ip: ip4 });
    // A different destination, so that its cookie is fetched afresh.
    const dual = listen6(ANY6);
    const mapped = series(dual, 2, 200, { kind: "tcp6", ip: v4Mapped(parseIp4("127.0.0.2")) });
    return { v4, mapped };
  },

  /**
   * A listener without socketFastopen (tcp_fastopen=3, no 0x400) never gives
   * a cookie nor takes SYN data; then one with it does. Order matters: the
   * cookie cache is per destination address.
   */
  passive() {
    const plain = listen6(LOOPBACK6, { fastopen: false });
    const withoutOption = series(plain, 2, 300, { kind: "tcp6", ip: LOOPBACK6 });
    const noCookieClient = series(plain, 1, 300, { kind: "tcp6", ip: LOOPBACK6, noCookie: true });
    const tfo = listen6(LOOPBACK6);
    const withOption = series(tfo, 2, 300, { kind: "tcp6", ip: LOOPBACK6 });
    return { withoutOption, noCookieClient, withOption };
  },

  /** Plain client, listener without socketFastopen: the sysctl decides (0x400 enables every listener). */
  plainListener() {
    const listener = listen6(LOOPBACK6, { fastopen: false });
    return { exchanges: series(listener, 2, 120, { kind: "tcp6", ip: LOOPBACK6 }) };
  },

  /** Client socketFastopenNoCookie against a listener with socketFastopen. */
  noCookieClient() {
    const listener = listen6(LOOPBACK6);
    return { exchanges: series(listener, 2, 120, { kind: "tcp6", ip: LOOPBACK6, noCookie: true }) };
  },

  /** Both ends per socket: client and listener socketFastopenNoCookie, sysctl 3 only. */
  noCookieBoth() {
    const listener = listen6(LOOPBACK6, { noCookie: true });
    return { exchanges: series(listener, 2, 120, { kind: "tcp6", ip: LOOPBACK6, noCookie: true }) };
  },

  /** Plain client and TFO listener; the sysctl decides (for example 0x407 sends data without a cookie). */
  sysctlOnly() {
    const listener = listen6(LOOPBACK6);
    return { exchanges: series(listener, 2, 120, { kind: "tcp6", ip: LOOPBACK6 }) };
  },

  /**
   * Other buffer shapes through the SYN path: every view's offset and `len`
   * honoured, strings UTF-8. The server reads with a `len` of 7 into a larger
   * buffer, so socketRecv's `len` is checked too.
   */
  views() {
    const listener = listen6(LOOPBACK6);
    const cookie = exchange(listener, { kind: "tcp6", ip: LOOPBACK6, payload: pattern(10, 99) });
    const variants = viewVariants().map((variant) => {
      const before = fastOpenCounters();
      const fd = must(socketTcp6(), "socketTcp6");
      const returned = socketFastopenConnect6(fd, LOOPBACK6, listener.port, 0, variant.buf, variant.len);
      must(socketPoll(fd, POLLOUT, 10_000), "socketPoll");
      const connected = socketConnected(fd);
      must(socketShutdownWrite(fd), "socketShutdownWrite");
      must(socketPoll(listener.fd, POLLIN, 10_000), "socketPoll(listener)");
      const server = must(socketAccept6(listener.fd), "socketAccept6");
      const scratch = new Uint8Array(64);
      const received: number[] = [];
      let largestRead = 0;
      for (;;) {
        const n = socketRecv(server, scratch, 7);
        if (n === 0) break;
        if (n < 0) {
          if (lastError()?.code !== "EAGAIN") throw new Error(`recv: ${JSON.stringify(lastError())}`);
          socketPoll(server, POLLIN, 50);
          continue;
        }
        largestRead = Math.max(largestRead, n);
        received.push(...scratch.subarray(0, n));
      }
      const result = {
        name: variant.name,
        returned,
        connected,
        client: socketFastopenStatus(fd),
        delta: counterDelta(before, fastOpenCounters()),
        received,
        largestRead,
      };
      must(socketClose(fd), "socketClose");
      must(socketClose(server), "socketClose(server)");
      return result;
    });
    return { cookie, variants };
  },

  /** socketFastopenLazy6: the SYN leaves with the first socketSend, carrying its data once a cookie is known. */
  lazy() {
    const listener = listen6(LOOPBACK6);
    return { exchanges: series(listener, 3, 900, { kind: "tcp6", ip: LOOPBACK6, lazy: true }) };
  },

  /** Client TFO disabled (tcp_fastopen=2): the fallback keeps the contract and is remembered. */
  fallback() {
    const listener = listen6(ANY6);
    const refusedAtStart = fastopenRefused();
    const target: Target = { kind: "tcp6", ip: LOOPBACK6 };
    const first = series(listener, 2, 700, target);
    const blocking = series(listener, 1, 700, { ...target, kind: "tcp6b" });
    const v4 = series(listener, 1, 700, { kind: "tcp4", ip: parseIp4("127.0.0.1") });
    fastopenReset();
    const refusedAfterReset = fastopenRefused();
    const again = series(listener, 1, 700, target);
    fastopenReset();
    // The lazy form is refused too (TCP_FASTOPEN_CONNECT), and falls back the same way.
    const lazy = series(listener, 1, 700, { ...target, lazy: true });
    // socketFastopenNoCookie is a TCP option, accepted whatever the sysctl says.
    const probe = must(socketTcp6(), "socketTcp6");
    const noCookieOption = socketFastopenNoCookie(probe);
    must(socketClose(probe), "socketClose");
    return { refusedAtStart, first, blocking, v4, refusedAfterReset, again, lazy, noCookieOption };
  },
};

await runCase(cases, assertPrivateNetns);
