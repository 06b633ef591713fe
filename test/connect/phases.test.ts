/**
 * Timeout and abort in every phase after the SYN-ACK, for
 * `connect()` and `createConnection()`, each in a private network namespace:
 * during the TLS handshake (a peer that reads the ClientHello and never
 * answers), during the payload's remainder write (a peer that accepts and
 * never reads 8 MiB), and with lazy TFO and a cookie before the first write.
 * (Before the SYN-ACK, iptables DROP: async.failures.test.ts and
 * net.http.test.ts.) Each case checks the rejection's code and fields, that
 * no user handler runs after the rejection, that the peer saw the client's
 * side end, that no rejection went unhandled, and the process fd count.
 */
import { beforeAll, expect, test } from "bun:test";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import type { ErrorFields } from "../support/error-fields.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { ConnectOutcome, SocketOutcome } from "./phases.scenario.ts";

const suite = namespaceSuite("async.phases");

interface PhaseReport {
  port: number;
  outcomes: ConnectOutcome[];
  unhandled: string[];
}

/** The rejection that `how` must produce, with the connect's address and port. */
function expectStopped(error: ErrorFields | null, how: "timeout" | "abort", port: number): void {
  if (how === "timeout")
    expect(error).toMatchObject({
      isError: true,
      name: "SystemError",
      code: "ETIMEDOUT",
      errno: -110,
      syscall: "connect",
      address: "::1",
      port,
    });
  else
    expect(error).toMatchObject({
      isError: true,
      name: "AbortError",
      code: "ABORT_ERR",
      syscall: "connect",
      address: "::1",
      port,
    });
}

/** What every stopped connect() must show, whatever the phase. */
function expectCleanStop(o: ConnectOutcome, port: number): void {
  const where = `${o.mode}/${o.how}`;
  expectStopped(o.error, o.how, port);
  // Only connectError, and nothing once the promise rejected.
  expect({ where, calls: o.calls }).toEqual({ where, calls: ["connectError", "rejected"] });
  // Stopped in the phase meant: the peer had the connection and data while the promise was pending.
  expect({ where, pendingWithData: o.pendingWithData }).toEqual({ where, pendingWithData: true });
  // The fd was closed: the peer saw the end, and the process holds no more fds than before.
  expect({ where, peerSawEnd: o.peerSawEnd }).toEqual({ where, peerSawEnd: true });
  expect({ where, fds: o.fdsAfter }).toEqual({ where, fds: o.fdsBefore });
}

/** The TFO path each mode took, from the namespace's TcpExt counters. */
function expectPath(o: ConnectOutcome): void {
  if (o.mode === "cookie")
    expect(o.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1, TCPFastOpenCookieReqd: 0 });
  if (o.mode === "noCookie") expect(o.counters).toMatchObject({ TCPFastOpenActive: 0, TCPFastOpenCookieReqd: 1 });
  if (o.mode === "noTfo") expect(o.counters).toMatchObject({ TCPFastOpenActive: 0, TCPFastOpenCookieReqd: 0 });
}

/** The runs of a phase scenario: every mode, stopped both ways, in the order the scenario makes them. */
const EVERY_RUN = [
  "noCookie/timeout",
  "noCookie/abort",
  "cookie/timeout",
  "cookie/abort",
  "noTfo/timeout",
  "noTfo/abort",
];

/**
 * The suite of one phase that connect() is stopped in (`phase`, the scenario's
 * case): every run reached it (`reached`), took its mode's TFO path, stopped
 * cleanly, and nothing went unhandled.
 */
function phaseSuite(title: string, phase: string, reachedTitle: string, reached: (o: ConnectOutcome) => void): void {
  suite(title, () => {
    let r: PhaseReport;
    beforeAll(() => {
      r = runScenarioCase<PhaseReport>(`${import.meta.dir}/phases.scenario.ts`, [phase]);
    });

    test(reachedTitle, () => {
      expect(r.outcomes.map((o) => `${o.mode}/${o.how}`)).toEqual(EVERY_RUN);
      for (const o of r.outcomes) {
        reached(o);
        expectPath(o);
      }
    });

    test("timeout rejects with ETIMEDOUT, abort ABORT_ERR; no handler after the rejection; the fd is closed", () => {
      for (const o of r.outcomes) expectCleanStop(o, r.port);
    });

    test("no unhandled rejection or exception", () => {
      expect(r.unhandled).toEqual([]);
    });
  });
}

phaseSuite(
  "connect() with TLS to a peer that reads the ClientHello and never answers",
  "tls",
  "the peer got a TLS handshake record (the handshake was under way) in every mode",
  (o) => expect(o.head.slice(0, 2)).toEqual([0x16, 0x03]),
);

phaseSuite(
  "connect() with an 8 MiB payload to a peer that accepts and never reads",
  "remainder",
  "the payload's start arrived in order, its rest could not be written: with and without a cookie, fastOpen off",
  (o) => expect({ mode: o.mode, prefixOk: o.prefixOk }).toEqual({ mode: o.mode, prefixOk: true }),
);

interface LazyResult {
  error: ErrorFields | null;
  calls: string[];
  /** SYNs sent (Tcp ActiveOpens delta). */
  syns: number;
  accepted: number;
  counters: FastOpenCounters;
}

suite("lazy connect() with a cookie: the signal aborted in open, before the first write", () => {
  let r: {
    port: number;
    results: Record<"abort" | "abortThenWrite" | "control", LazyResult>;
    fdsBefore: number;
    fdsAfter: number;
    unhandled: string[];
  };
  beforeAll(() => {
    r = runScenarioCase<typeof r>(`${import.meta.dir}/phases.scenario.ts`, ["lazyAbort"]);
  });

  test(
    "control: without the abort, the first write rides in the SYN (one SYN, counted by Tcp " +
      "ActiveOpens and TcpExt)",
    () => {
      expect(r.results.control).toMatchObject({
        error: null,
        calls: ["open", "write:16", "resolved", "close"],
        syns: 1,
        accepted: 1,
      });
      expect(r.results.control.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
    },
  );

  // connect() runs a lazy connect's `open` synchronously inside the adoption
  // (Bun.connect({ fd })): the attempt is registered for cancellation before
  // it, so an abort there stops the SYN (this failed before that fix).
  test(
    "rejects with ABORT_ERR, calling open, close, connectError and nothing after; no SYN leaves, " +
      "whether or not open writes after the abort",
    () => {
      for (const variant of ["abort", "abortThenWrite"] as const) {
        const result = r.results[variant];
        expectStopped(result.error, "abort", r.port);
        expect(result.calls.filter((c) => !c.startsWith("write:"))).toEqual([
          "open",
          "close",
          "connectError",
          "rejected",
        ]);
        expect({ variant, syns: result.syns, accepted: result.accepted }).toEqual({ variant, syns: 0, accepted: 0 });
      }
    },
  );

  test("fds unchanged, nothing unhandled", () => {
    expect(r.fdsAfter).toBe(r.fdsBefore);
    expect(r.unhandled).toEqual([]);
  });
});

suite("createConnection() during the payload's write, and aborted before the first write", () => {
  let r: {
    port: number;
    outcomes: SocketOutcome[];
    beforeWrite: {
      error: ErrorFields | null;
      events: string[];
      syns: number;
      accepted: number;
      fdsBefore: number;
      fdsAfter: number;
    };
    unhandled: string[];
  };
  beforeAll(() => {
    // Socket buffers of 4 KiB: the first 64 KiB (what createConnection hands connect() as its payload) cannot all be
    // written.
    const small = ["tcp_rmem", "tcp_wmem"].map((name) => `echo '4096 4096 4096' > /proc/sys/net/ipv4/${name}`);
    r = runScenarioCase<typeof r>(`${import.meta.dir}/phases.scenario.ts`, ["socketPhases"], 3, small);
  });

  test(
    "an 8 MiB write to a peer that never reads: connectTimeout gives ETIMEDOUT and signal " +
      "ABORT_ERR, as 'error' then 'close(true)', never 'connect'",
    () => {
      expect(r.outcomes.map((o) => o.how)).toEqual(["timeout", "abort"]);
      for (const o of r.outcomes) {
        expectStopped(o.error, o.how, r.port);
        const code = o.how === "timeout" ? "ETIMEDOUT" : "ABORT_ERR";
        expect(o.events).toEqual([`write-callback(${code})`, "error", "close(true)"]);
        expect({ how: o.how, pendingWithData: o.pendingWithData, prefixOk: o.prefixOk }).toEqual({
          how: o.how,
          pendingWithData: true,
          prefixOk: true,
        });
      }
    },
  );

  test("the fd is closed: the peer saw the end, fds unchanged", () => {
    for (const o of r.outcomes) {
      expect(o.peerSawEnd).toBe(true);
      expect(o.fdsAfter).toBe(o.fdsBefore);
    }
  });

  test(
    "a signal aborted before the first write (cookie known): ABORT_ERR, no SYN sent, nothing " +
      "accepted, fds unchanged",
    () => {
      const b = r.beforeWrite;
      expect(b.error).toMatchObject({
        isError: true,
        name: "AbortError",
        code: "ABORT_ERR",
        syscall: "connect",
        address: "::1",
      });
      expect(b.events).toEqual(["error", "close(true)"]);
      expect({ syns: b.syns, accepted: b.accepted }).toEqual({ syns: 0, accepted: 0 });
      expect(b.fdsAfter).toBe(b.fdsBefore);
    },
  );

  test("no unhandled rejection or exception", () => {
    expect(r.unhandled).toEqual([]);
  });
});
