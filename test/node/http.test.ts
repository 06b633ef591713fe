/**
 * node:net interop: `createConnection` and `FastOpenAgent` with a
 * real `node:http` server, each case in its own private network namespace.
 * That the request rode in the SYN is proven by the client's TCP_INFO (via
 * `socket.fastOpenStatus()`: sent, acked, bytes taken with the SYN) and by
 * exact TcpExt counter deltas (TCPFastOpenActive/Passive), so a connect +
 * write fallback fails these tests. `tcp_fastopen=1027` (0x403) turns TFO on
 * for every listener in the namespace, node:http's included.
 */
import { beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { MAX_PAYLOAD } from "../../src/node/socket.ts";
import type { ErrorFields } from "../support/error-fields.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { BODY_SIZES, NET_DROP_PORT } from "../support/ports.ts";
import { ONE_MSS, runScenarioCase } from "../support/run.ts";
import type { Exchange } from "./http.scenario.ts";

const suite = namespaceSuite("net.http");

/** TFO client and server, and TFO on every listener (node:http's server has no TCP_FASTOPEN of its own). */
const ALL_LISTENERS = 0x403;

interface SocketFailure {
  error: ErrorFields | null;
  closed: boolean;
  hadError: boolean | null;
  connected: boolean;
}

function run<T>(args: string[], tcpFastopen = ALL_LISTENERS, setup: string[] = []): T {
  return runScenarioCase<T>(`${import.meta.dir}/http.scenario.ts`, args, tcpFastopen, setup);
}

/** Byte-exact both ways: the server's digest of the body and the echoed response. */
function expectDelivered(e: Exchange): void {
  expect(e.httpStatus).toBe(200);
  expect(e.serverDigestOk).toBe(true);
  expect(e.echoed).toBe(true);
}

/** What `connect()` got as its payload: the first turn's writes, up to MAX_PAYLOAD (the rest went later). */
function payloadBytes(e: Exchange): number {
  return Math.min(e.bytesWritten, MAX_PAYLOAD);
}

/** The first connection to a server: the SYN asked for a cookie, the whole request went after the handshake. */
function expectCookieFetch(e: Exchange): void {
  expectDelivered(e);
  expect(e.client).toMatchObject({
    sent: false,
    acked: false,
    reason: "no-cookie",
    bytesInSyn: 0,
    bytesAfterHandshake: payloadBytes(e),
  });
  expect(e.counters).toMatchObject({ TCPFastOpenCookieReqd: 1, TCPFastOpenActive: 0, TCPFastOpenPassive: 0 });
}

/** The request head (its line included) rode in the SYN and the server took it: TCP_INFO and counters. */
function expectRequestInSyn(e: Exchange): void {
  expectDelivered(e);
  expect(e.client).toMatchObject({ sent: true, acked: true, reason: "none", mode: "syn-data" });
  expect(e.client!.kernel).toMatchObject({ sent: true, acked: true });
  const head = e.bytesWritten - e.size;
  expect(head).toBeGreaterThan(16);
  // The head (request line first) rode whole; never more than one MSS (IPv4's is ONE_MSS + 20).
  expect(e.client!.bytesInSyn).toBeGreaterThanOrEqual(head);
  expect(e.client!.bytesInSyn).toBeLessThanOrEqual(ONE_MSS + 20);
  expect(e.client!.bytesInSyn + e.client!.bytesAfterHandshake).toBe(payloadBytes(e));
  expect(e.counters).toMatchObject({
    TCPFastOpenActive: 1,
    TCPFastOpenPassive: 1,
    TCPFastOpenCookieReqd: 0,
    TCPFastOpenActiveFail: 0,
  });
}

for (const host of ["::1", "127.0.0.1"]) {
  suite(`FastOpenAgent with a node:http server on ${host}`, () => {
    let gets: Exchange[];
    let posts: Exchange[];
    beforeAll(() => {
      ({ gets, posts } = run<{ gets: Exchange[]; posts: Exchange[] }>(["http", host]));
    });

    test("the first request fetches the cookie; the whole request went after the handshake", () => {
      expectCookieFetch(gets[0]!);
    });

    test("the second request rides whole in the SYN, acked by the server", () => {
      expectRequestInSyn(gets[1]!);
      expect(gets[1]!.client!.bytesInSyn).toBe(gets[1]!.bytesWritten);
      expect(gets[1]!.client!.bytesAfterHandshake).toBe(0);
    });

    test("POST bodies of 0 B, 1 B, one MSS, 64 KiB, 1 MiB: the head in the SYN, every byte echoed exactly", () => {
      expect(posts.map((p) => p.size)).toEqual(BODY_SIZES);
      for (const p of posts) expectRequestInSyn(p);
      // Small requests ride whole; larger ones fill the SYN (one MSS less the TFO option).
      expect(posts[0]!.client!.bytesInSyn).toBe(posts[0]!.bytesWritten);
      expect(posts[1]!.client!.bytesInSyn).toBe(posts[1]!.bytesWritten);
      for (const p of posts.slice(2)) expect(p.client!.bytesInSyn).toBeLessThan(p.bytesWritten);
    });
  });
}

suite("http.request({ createConnection })", () => {
  test("the second request rides in the SYN", () => {
    const { gets } = run<{ gets: Exchange[] }>(["requestOption"]);
    expectCookieFetch(gets[0]!);
    expectRequestInSyn(gets[1]!);
    expect(gets[1]!.client!.bytesInSyn).toBe(gets[1]!.bytesWritten);
  });
});

suite("a keep-alive FastOpenAgent", () => {
  test("the connection's first request rides in the SYN; the next two reuse the connection", () => {
    const { warm, requests, total } = run<{ warm: Exchange; requests: Exchange[]; total: FastOpenCounters }>([
      "keepAlive",
    ]);
    expectCookieFetch(warm);
    for (const r of requests) expectDelivered(r);
    expect(requests[0]!.localPort).not.toBeNull();
    // One connection (the later requests never emitted 'connect' again) ...
    expect(requests[1]!.localPort).toBeNull();
    expect(requests[2]!.localPort).toBeNull();
    // ... whose SYN carried the first request, whole.
    expect(requests[0]!.client).toMatchObject({ sent: true, acked: true, bytesInSyn: requests[0]!.bytesWritten });
    expect(requests[2]!.bytesWritten).toBe(3 * requests[0]!.bytesWritten);
    expect(total).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1, TCPFastOpenCookieReqd: 0 });
  });
});

suite("FastOpenAgent without TFO at the server or the client", () => {
  test("a server without TFO: no cookie ever, every request delivered after the handshake", () => {
    // tcp_fastopen=1: client on, no listener takes SYN data.
    const { gets, posts } = run<{ gets: Exchange[]; posts: Exchange[] }>(["http", "::1"], 1);
    for (const e of [...gets, ...posts]) expectCookieFetch(e);
  });

  test("client TFO disabled: plain connects, reason 'disabled', every request delivered", () => {
    // tcp_fastopen=0x402: listeners take SYN data, the client may not send it.
    const { gets, posts } = run<{ gets: Exchange[]; posts: Exchange[] }>(["http", "::1"], 0x402);
    for (const e of [...gets, ...posts]) {
      expectDelivered(e);
      expect(e.client).toMatchObject({
        sent: false,
        acked: false,
        reason: "disabled",
        bytesInSyn: 0,
        bytesAfterHandshake: payloadBytes(e),
      });
      expect(e.counters).toMatchObject({ TCPFastOpenCookieReqd: 0, TCPFastOpenActive: 0, TCPFastOpenPassive: 0 });
    }
  });
});

suite("createConnection to a listen() server", () => {
  test("a payload written in the same turn rides in the SYN (both ends' TCP_INFO); later writes follow", () => {
    interface Bare {
      delivered: boolean;
      receivedBytes: number;
      client: FastOpenStatus;
      server: FastOpenStatus;
      counters: FastOpenCounters;
      bytesWritten: number;
    }
    const { outcomes } = run<{ outcomes: Bare[] }>(["bare"], 3);
    for (const o of outcomes) {
      expect(o.delivered).toBe(true);
      expect(o.receivedBytes).toBe(5300);
      expect(o.bytesWritten).toBe(5300);
    }
    expect(outcomes[0]!.client).toMatchObject({ sent: false, reason: "no-cookie", bytesAfterHandshake: 300 });
    expect(outcomes[0]!.server.acked).toBe(false);
    expect(outcomes[1]!.client).toMatchObject({
      sent: true,
      acked: true,
      reason: "none",
      bytesInSyn: 300,
      bytesAfterHandshake: 0,
    });
    expect(outcomes[1]!.server).toMatchObject({ acked: true, mode: "accepted" });
    expect(outcomes[1]!.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
  });

  test("a server that speaks first: nothing written, the socket connects and reads the greeting", () => {
    type Greeted = { connected: boolean; greeting: string; status: FastOpenStatus };
    const { results } = run<{ results: Greeted[] }>(["serverFirst"], 3);
    for (const r of results) {
      expect(r.connected).toBe(true);
      expect(r.greeting).toBe("220 hello\r\n");
    }
    // Optimistic (the default): lazy, the first asks for the cookie, the second's SYN leaves empty; else plain.
    expect(results[0]!.status).toMatchObject({ sent: false, reason: "no-cookie", mode: "lazy" });
    expect(results[1]!.status).toMatchObject({ sent: false, reason: "no-data", mode: "lazy" });
    expect(results[2]!.status).toMatchObject({ sent: false, reason: "not-attempted", mode: "plain" });
  });

  test("net.Socket API: pending/readyState, addresses, connect then ready, idle 'timeout' without closing", () => {
    const r = run<{
      port: number;
      pendingBefore: boolean;
      readyStateBefore: string;
      events: string[];
      properties: Record<string, unknown>;
      timedOut: boolean;
      stillOpen: boolean;
      reply: string;
      bytesRead: number;
      readyStateAfter: string;
    }>(["socketApi"], 3);
    expect(r.pendingBefore).toBe(true);
    expect(r.readyStateBefore).toBe("opening");
    expect(r.events).toEqual(["connect", "ready"]);
    expect(r.properties).toMatchObject({
      remoteAddress: "::1",
      remotePort: r.port,
      remoteFamily: "IPv6",
      localAddress: "::1",
      localPortOk: true,
      pending: false,
      connecting: false,
      readyState: "open",
    });
    expect(r.properties.address).toMatchObject({ address: "::1", family: "IPv6" });
    expect(r.timedOut).toBe(true);
    expect(r.stillOpen).toBe(true);
    expect(r.reply).toBe("ok");
    expect(r.bytesRead).toBe(2);
    expect(r.readyStateAfter).toBe("closed");
  });
});

function expectSystemError(f: ErrorFields | null, code: string, address: string, port: number): void {
  expect(f).toMatchObject({ code, syscall: "connect", address, port, isError: true });
  expect(typeof f!.errno).toBe("number");
}

suite("createConnection failures", () => {
  test("ECONNREFUSED: an 'error' on the http request and the bare socket, SystemError fields; fds unchanged", () => {
    const r = run<{
      port: number;
      viaAgent: ErrorFields;
      viaOption: ErrorFields;
      bare: SocketFailure;
      v4: SocketFailure;
      fdsBefore: number;
      fdsAfter: number;
    }>(["refused"], 3);
    expectSystemError(r.viaAgent, "ECONNREFUSED", "::1", r.port);
    expect(r.viaAgent.errno).toBe(-111);
    expectSystemError(r.viaOption, "ECONNREFUSED", "::1", r.port);
    expectSystemError(r.bare.error, "ECONNREFUSED", "::1", r.port);
    expect(r.bare).toMatchObject({ closed: true, hadError: true, connected: false });
    expectSystemError(r.v4.error, "ECONNREFUSED", "127.0.0.1", r.port);
    expect(r.fdsAfter).toBe(r.fdsBefore);
  });

  test("a peer that drops SYNs: connectTimeout (agent, bare), signal, destroy() end the attempt; fds unchanged", () => {
    const iptables = spawnSync("iptables", ["--version"], { stdio: "ignore" });
    if (iptables.status !== 0)
      throw new Error("iptables is needed for the SYN-drop tests: apt-get install -y iptables (npm run setup does)");
    const setup = [`iptables -A INPUT -p tcp --dport ${NET_DROP_PORT} --syn -j DROP`];
    const r = run<{
      viaAgent: ErrorFields;
      timeout: SocketFailure;
      abort: SocketFailure;
      destroyed: SocketFailure;
      fdsBefore: number;
      fdsAfter: number;
    }>(["dropped"], 3, setup);
    expectSystemError(r.viaAgent, "ETIMEDOUT", "127.0.0.1", NET_DROP_PORT);
    expectSystemError(r.timeout.error, "ETIMEDOUT", "127.0.0.1", NET_DROP_PORT);
    expect(r.timeout).toMatchObject({ closed: true, hadError: true, connected: false });
    expect(r.abort.error).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    expect(r.abort).toMatchObject({ closed: true, hadError: true, connected: false });
    expect(r.destroyed).toMatchObject({ error: null, closed: true, hadError: false, connected: false });
    expect(r.fdsAfter).toBe(r.fdsBefore);
  });
});

suite("new FastOpenSocket() then connect(), as net.Socket", () => {
  test("construct, setNoDelay, cork, connect(port, host), two writes, uncork: both in the second SYN", () => {
    interface Outcome {
      idle: { connecting: boolean; pending: boolean };
      opening: { connecting: boolean; readyState: string };
      delivered: boolean;
      client: FastOpenStatus;
    }
    const { outcomes } = run<{ outcomes: Outcome[] }>(["constructThenConnect"], 3);
    for (const o of outcomes) {
      expect(o.idle).toEqual({ connecting: false, pending: true });
      expect(o.opening).toEqual({ connecting: true, readyState: "opening" });
      expect(o.delivered).toBe(true);
    }
    expect(outcomes[0]!.client).toMatchObject({ sent: false, reason: "no-cookie", bytesAfterHandshake: 300 });
    expect(outcomes[1]!.client).toMatchObject({ sent: true, acked: true, reason: "none", bytesInSyn: 300 });
  });

  test("'lookup' for a host name as (null, address, family, host), none for a literal; the lookup option", () => {
    const r = run<{
      seen: unknown[][];
      literalLookups: number;
      remote: string | null;
      custom: unknown[][];
      asked: unknown[];
      failed: string[];
      error: ErrorFields;
    }>(["lookup"], 3);
    expect(r.seen).toEqual([[null, "127.0.0.1", 4, "localhost"]]);
    expect(r.literalLookups).toBe(0);
    expect(r.remote).toBe("127.0.0.1");
    // The `lookup` option, called as dns.lookup, in both of its answer forms.
    expect(r.asked).toEqual([{ hostname: "db.test", family: 0, all: true }]);
    expect(r.custom).toEqual([
      [null, "127.0.0.1", 4, "db.test"],
      [null, "127.0.0.1", 4, "db.test"],
    ]);
    expect(r.failed).toEqual(["lookup no"]);
    expect(r.error).toMatchObject({ code: "ENOTFOUND", syscall: "getaddrinfo" });
  });

  test("destroySoon() after a write: every byte delivered, then 'close' without error", () => {
    const r = run<{ delivered: boolean; hadError: boolean; destroyed: boolean }>(["destroySoon"], 3);
    expect(r).toMatchObject({ delivered: true, hadError: false, destroyed: true });
  });

  test("pg's stream option and unref(), in child processes that must end on their own", () => {
    type Child = { status: number | null; hung: boolean; stdout: string };
    const r = run<{ pgFactory: Child; pgConnecting: Child; ref: Child; unref: Child }>(["children"], 3);
    // pg constructs the socket and calls connect(port, host) itself.
    expect(r.pgFactory).toEqual({ status: 0, hung: false, stdout: JSON.stringify({ connected: true }) });
    // A socket already connecting: pg's connect() is a second one, EALREADY as in node:net, and nothing lingers.
    expect(r.pgConnecting).toEqual({
      status: 0,
      hung: false,
      stdout: JSON.stringify({ connected: false, code: "EALREADY" }),
    });
    // unref() before the connection exists takes effect once it does; the control stays alive.
    expect(r.ref).toEqual({ status: 0, hung: false, stdout: JSON.stringify({ alive: true }) });
    expect(r.unref).toEqual({ status: 0, hung: false, stdout: "" });
  });

  test("ref()/unref() before connect() and while connecting: an unref'd pending connect lets the process end", () => {
    const setup = [`iptables -A INPUT -p tcp --dport ${NET_DROP_PORT} --syn -j DROP`];
    type Child = { status: number | null; hung: boolean; stdout: string };
    const r = run<Record<string, Child>>(["connectingChildren"], 3, setup);
    // The control: a connecting socket keeps the process alive (its unref'd timer fires, still connecting).
    const alive = { status: 0, hung: false, stdout: JSON.stringify({ alive: true, connecting: true }) };
    expect(r["connecting-ref"]).toEqual(alive);
    expect(r["connecting-unref-ref"]).toEqual(alive);
    // unref() before connect(), or right after createConnection(): nothing keeps the process, it ends at once.
    expect(r["connecting-unref"]).toEqual({ status: 0, hung: false, stdout: "" });
    expect(r["connecting-started-unref"]).toEqual({ status: 0, hung: false, stdout: "" });
  });
});

suite("a listener that throws", () => {
  test("surfaces as uncaught (printed, exit 1), as with node:http's own agent; never a hang or exit 0", () => {
    type Outcome = { status: number | null; printed: boolean; hung: boolean; stdout: string };
    const { outcomes } = run<{ outcomes: Record<string, Outcome> }>(["uncaught"], 3);
    // The control: node:http with its own agent.
    expect(outcomes["response-plain-agent"]).toMatchObject({ status: 1, printed: true, hung: false });
    for (const where of ["response", "connect", "data", "end"])
      expect({ where, ...outcomes[where] }).toMatchObject({ where, status: 1, printed: true, hung: false });
    // An 'uncaughtException' handler gets it, as in node:net.
    expect(outcomes.handled).toMatchObject({ status: 0, hung: false, stdout: "handled: thrown in handled" });
  });
});

suite("1000 sequential requests through FastOpenAgent", () => {
  test("every one rides in the SYN and is echoed exactly; the process fd count is unchanged", () => {
    const r = run<{ count: number; ok: number; fdsBefore: number; fdsAfter: number; counters: FastOpenCounters }>([
      "many",
      "1000",
    ]);
    expect(r.ok).toBe(1000);
    expect(r.counters).toMatchObject({ TCPFastOpenActive: 1000, TCPFastOpenPassive: 1000, TCPFastOpenCookieReqd: 0 });
    expect(r.fdsAfter).toBe(r.fdsBefore);
  });
});
