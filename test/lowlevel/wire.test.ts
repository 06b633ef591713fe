/**
 * Faults on the wire, at the low-level layer, each in a private network
 * namespace (test/scenarios/rel-wire.ts): a middlebox dropping SYNs that carry
 * data, Linux's blackhole detection, servers without TFO, with a rotated key,
 * with TFO switched off after the cookie was fetched, and servers that reset,
 * close or half-close at once. Every exchange is checked byte for byte
 * (length and checksum on both ends) and every scenario for leaked fds.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { netnsUnavailable, runScenario } from "../support/netns.ts";
import type { Exchange } from "./exchange.ts";

const SCRIPT = join(import.meta.dir, "wire.scenario.ts");
const skip = netnsUnavailable();
const iptablesMissing = Bun.which("iptables") === null || Bun.which("ip6tables") === null;

interface WireReport {
  mode: string;
  family: string;
  exchanges: (Exchange & { label: string })[];
  notes: Record<string, string>;
  totals: FastOpenCounters;
  fdLeaks: string[];
  fastopenRefused: boolean;
}

function wire(mode: string, family: "v4" | "v6" = "v6", sysctl: Record<string, string> = {}): WireReport {
  const options = { sysctl: { tcp_fastopen: "3", ...sysctl }, timeoutMs: 60_000 };
  const report = runScenario<WireReport>(SCRIPT, [mode, family], options).report;
  expect(report.fdLeaks).toEqual([]);
  expect(report.fastopenRefused).toBe(false);
  for (const e of report.exchanges)
    expect({ label: e.label, timedOut: e.timedOut }).toEqual({ label: e.label, timedOut: false });
  return report;
}

function byLabel(report: WireReport, label: string): Exchange {
  const found = report.exchanges.find((e) => e.label === label);
  if (found === undefined) throw new Error(`no exchange ${label} in ${report.mode}`);
  return found;
}

/** Every byte arrived exactly once: the server's length and checksum, and its reply, match the payload. */
function expectDelivered(e: Exchange): void {
  expect({ length: e.serverLength, checksum: e.serverChecksum }).toEqual({ length: e.length, checksum: e.checksum });
  expect(e.reply).toBe(`${e.length} ${e.checksum}`);
  expect(e.clientError).toBe("");
  expect(e.clientEof).toBe(true);
}

/** The connection fetched a cookie: nothing in the SYN, EINPROGRESS, the kernel says "no-cookie". */
function expectCookieFetch(e: Exchange): void {
  expect(e.inSyn).toBe(0);
  expect(e.connectCode).toBe("EINPROGRESS");
  expect(e.clientStatus?.reason).toBe("no-cookie");
  expect(e.counters.TCPFastOpenCookieReqd).toBe(1);
}

/** Data rode in the SYN and the server acknowledged it. */
function expectAcked(e: Exchange): void {
  expect(e.inSyn).toBeGreaterThan(0);
  expect(e.clientStatus).toMatchObject({ sent: true, acked: true, reason: "none" });
  expect(e.serverStatus).toMatchObject({ acked: true });
  expect(e.counters.TCPFastOpenActive).toBe(1);
  expect(e.counters.TCPFastOpenPassive).toBe(1);
}

/** Data rode in the SYN (the kernel queued it there) but the server never acknowledged it. */
function expectNotAcked(e: Exchange, reasons: string[], activeFail = 1): void {
  expect(e.inSyn).toBeGreaterThan(0);
  expect(e.clientStatus).toMatchObject({ sent: true, acked: false });
  expect(reasons).toContain(e.clientStatus?.reason ?? "no status");
  expect(e.counters.TCPFastOpenActive).toBe(0);
  expect(e.counters.TCPFastOpenActiveFail).toBe(activeFail);
}

describe.skipIf(skip !== null || iptablesMissing)("a middlebox dropping SYNs that carry data", () => {
  for (const family of ["v6", "v4"] as const) {
    test(`${family}: the kernel retries the SYN without data, every byte arrives once, the status ` +
      `says not acked`, () => {
      const report = wire("middlebox", family);
      expect(report.notes.blackholeTimeoutSec).toBe("0");
      expectCookieFetch(byLabel(report, "cookie"));
      expectDelivered(byLabel(report, "cookie"));
      for (const label of ["syn-data-1", "syn-data-2", "syn-data-3"]) {
        const e = byLabel(report, label);
        expectNotAcked(e, ["syn-retransmitted", "data-not-acked"]);
        expect(e.serverStatus?.acked).toBe(false);
        expectDelivered(e);
      }
      // One lost SYN per connection never trips blackhole detection: every
      // connection keeps trying (and paying one SYN timeout).
      expect(report.totals.TCPFastOpenBlackhole).toBe(0);
    }, 60_000);
  }

  test("blackhole detection (tcp_fastopen_blackhole_timeout_sec=3600): TFO off for later " +
    "connections, bytes intact", () => {
    const report = wire("blackhole", "v4", { tcp_fastopen_blackhole_timeout_sec: "3600" });
    expect(report.notes.tripped).toBe("true");
    const blackholed = byLabel(report, "blackholed");
    // Two ActiveFail: the unacked SYN data, then the blackhole verdict itself.
    expectNotAcked(blackholed, ["syn-retransmitted", "data-not-acked"], 2);
    expect(blackholed.counters.TCPFastOpenBlackhole).toBe(1);
    expectDelivered(blackholed);
    for (const label of ["after-1", "after-2"]) {
      const e = byLabel(report, label);
      // No data in the SYN and no cookie request either; Linux does not say why ("none").
      expect(e.inSyn).toBe(0);
      expect(e.connectCode).toBe("EINPROGRESS");
      expect(e.clientStatus).toMatchObject({ sent: false, acked: false, reason: "none" });
      expect(e.counters.TCPFastOpenActive + e.counters.TCPFastOpenCookieReqd).toBe(0);
      expectDelivered(e);
    }
  }, 60_000);
});

describe.skipIf(skip !== null)("servers that do not take the SYN data", () => {
  test("no TFO on the server: no cookie is ever granted, every byte arrives once", () => {
    const report = wire("no-tfo-server");
    for (const e of report.exchanges) {
      expectCookieFetch(e);
      expect(e.counters.TCPFastOpenActive).toBe(0);
      expectDelivered(e);
    }
  });

  test("key rotated: the stale cookie's data is refused and resent once, the new cookie works", () => {
    const report = wire("key-rotation");
    expect(report.notes.keyAfter).not.toBe(report.notes.keyBefore);
    expectCookieFetch(byLabel(report, "cookie"));
    expectAcked(byLabel(report, "with-cookie"));
    const stale = byLabel(report, "stale-cookie");
    expectNotAcked(stale, ["data-not-acked"]);
    expect(stale.counters.TCPFastOpenPassiveFail).toBe(1);
    expectAcked(byLabel(report, "new-cookie"));
    for (const e of report.exchanges) expectDelivered(e);
  });

  test("TFO switched off on the server after the cookie was fetched: data resent once after the handshake", () => {
    const report = wire("server-disabled");
    expect(report.notes.tcpFastopen).toBe("1");
    expectAcked(byLabel(report, "with-cookie"));
    for (const label of ["server-off-1", "server-off-2"]) {
      const e = byLabel(report, label);
      expectNotAcked(e, ["data-not-acked"]);
      expect(e.serverStatus?.acked).toBe(false);
    }
    for (const e of report.exchanges) expectDelivered(e);
  });
});

describe.skipIf(skip !== null)("servers that end the connection at once", () => {
  const FAULTED = ["no-cookie", "small-in-syn", "large", "empty"];

  test("reset right after the SYN-data (SO_LINGER 0): the client sees ECONNRESET/EPIPE, nothing is delivered", () => {
    const report = wire("reset");
    expectAcked(byLabel(report, "small-in-syn"));
    for (const label of FAULTED) {
      const e = byLabel(report, label);
      expect(["ECONNRESET", "EPIPE"]).toContain(e.clientError);
      expect(e.clientEof).toBe(false);
      expect(e.reply).toBe("");
      expect(e.serverLength).toBe(0);
    }
    expectDelivered(byLabel(report, "cookie"));
  });

  test("close right after accept: the client sees a reset or the end of the stream, never a reply", () => {
    const report = wire("close");
    for (const label of FAULTED) {
      const e = byLabel(report, label);
      const outcome = e.clientEof ? "eof" : e.clientError;
      expect(["eof", "ECONNRESET", "EPIPE", "ENOTCONN"]).toContain(outcome);
      expect(e.reply).toBe("");
      expect(e.serverLength).toBe(0);
    }
    // With nothing unread the server's close is a plain FIN.
    expect(byLabel(report, "empty")).toMatchObject({ clientEof: true, clientError: "" });
  });

  test("half-close at once: the client reads the end of the stream and still delivers every byte", () => {
    const report = wire("half-close");
    expectAcked(byLabel(report, "small-in-syn"));
    for (const e of report.exchanges) {
      expect({ length: e.serverLength, checksum: e.serverChecksum }).toEqual({
        length: e.length,
        checksum: e.checksum,
      });
      expect(e.clientEof).toBe(true);
      expect(e.clientError).toBe("");
      expect(e.clientSent).toBe(e.length);
    }
  });
});
