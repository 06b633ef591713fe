/**
 * The demo: a TFO listener and several TFO connections to it, printing per
 * connection the bytes that rode in the SYN, the cookie, whether the server
 * acknowledged the data, and the namespace's TcpExt TFO counters.
 */

import { parseIp6 } from "../lowlevel/address.ts";
import { lastError, must } from "../lowlevel/errors.ts";
import { counterDelta, type FastOpenCounters, fastOpenCounters, readTcpFastopenSysctl } from "../lowlevel/netstat.ts";
import * as fo from "../lowlevel/socket.ts";
import type { KernelFastOpenStatus } from "../lowlevel/status.ts";
import { tcpFastopenAdvice } from "../support.ts";

/** One demo connection's outcome. */
export interface DemoConnection {
  index: number;
  /** Bytes the kernel took with the SYN (0 when it went by connect + send). */
  bytesInSyn: number;
  /** Bytes written after the handshake. */
  bytesAfterHandshake: number;
  /** "fetched" (this SYN asked for one), "used" (data rode with it), or "none". */
  cookie: "fetched" | "used" | "none";
  status: KernelFastOpenStatus | null;
  /** What the server received equals the payload. */
  delivered: boolean;
  counters: FastOpenCounters;
}

/** The demo's full report. */
export interface DemoReport {
  sysctl: number | null;
  advice: string[];
  connections: DemoConnection[];
  totals: FastOpenCounters;
  fellBack: boolean;
}

const WAIT_MS = 5000;

function waitFor(fd: number, events: number, what: string): void {
  if (must(fo.socketPoll(fd, events, WAIT_MS), what) === 0) throw new Error(`${what}: timed out after ${WAIT_MS} ms`);
}

function sendAll(fd: number, data: Uint8Array): number {
  let sent = 0;
  while (sent < data.byteLength) {
    const n = fo.socketSend(fd, data.subarray(sent));
    if (n < 0 && lastError()?.code === "EAGAIN") {
      waitFor(fd, fo.POLLOUT, "send");
      continue;
    }
    sent += must(n, "send");
  }
  return sent;
}

function receive(fd: number, size: number): Uint8Array {
  const buf = new Uint8Array(size);
  let got = 0;
  while (got < size) {
    waitFor(fd, fo.POLLIN, "receive");
    const n = must(fo.socketRecv(fd, buf.subarray(got)), "receive");
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

function connectOnce(index: number, port: number, listener: number): DemoConnection {
  const before = fastOpenCounters();
  const payload = new TextEncoder().encode(`GET /demo/${index} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  const loopback = parseIp6("::1");
  const fd = must(fo.socketTcp6(), "socket");
  try {
    const inSyn = fo.socketFastopenConnect6(fd, loopback.ip, port, 0, payload);
    if (inSyn < 0 && lastError()?.code !== "EINPROGRESS") must(inSyn, "socket_fastopen_connect6");
    waitFor(fd, fo.POLLOUT, "connect");
    if (fo.socketConnected(fd) !== 1) must(-1, "socket_connected");
    const bytesInSyn = Math.max(inSyn, 0);
    const rest = sendAll(fd, payload.subarray(bytesInSyn));
    waitFor(listener, fo.POLLIN, "accept");
    const server = must(fo.socketAccept6(listener), "accept");
    const received = receive(server, payload.byteLength);
    fo.socketClose(server);
    const status = fo.socketFastopenStatus(fd);
    const cookie = status?.sent ? "used" : status?.reason === "no-cookie" ? "fetched" : "none";
    const delivered = Buffer.from(received).equals(Buffer.from(payload));
    const counters = counterDelta(before, fastOpenCounters());
    return { index, bytesInSyn, bytesAfterHandshake: rest, cookie, status, delivered, counters };
  } finally {
    fo.socketClose(fd);
  }
}

/** Runs the demo: `count` connections to a local TFO listener. */
export function runDemo(count = 4): DemoReport {
  const sysctl = readTcpFastopenSysctl();
  const start = fastOpenCounters();
  const listener = must(fo.socketTcp6(), "socket");
  try {
    must(fo.socketBind6(listener, parseIp6("::1").ip, 0), "bind");
    must(fo.socketListen(listener, 64), "listen");
    must(fo.socketFastopen(listener), "socket_fastopen");
    const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
    must(fo.socketLocal6(listener, local), "socket_local6");
    const connections: DemoConnection[] = [];
    for (let i = 1; i <= count; i++) connections.push(connectOnce(i, local.port, listener));
    const totals = counterDelta(start, fastOpenCounters());
    return { sysctl, advice: tcpFastopenAdvice(sysctl), connections, totals, fellBack: fo.fastopenRefused() };
  } finally {
    fo.socketClose(listener);
  }
}

/** Human-readable lines of a demo report. */
export function formatDemo(report: DemoReport): string[] {
  const lines = [`net.ipv4.tcp_fastopen = ${report.sysctl ?? "unknown"}`];
  for (const advice of report.advice) lines.push(`  note: ${advice}`);
  for (const c of report.connections) {
    const acked = c.status === null ? "unknown" : c.status.acked ? "yes" : `no (${c.status.reason})`;
    const counters =
      `Active+${c.counters.TCPFastOpenActive} ` +
      `Passive+${c.counters.TCPFastOpenPassive} CookieReqd+${c.counters.TCPFastOpenCookieReqd}`;
    lines.push(
      `#${c.index}: ${c.bytesInSyn} B in the SYN, ${c.bytesAfterHandshake} B after the handshake; ` +
        `cookie ${c.cookie}; SYN data acked: ${acked}; delivered: ${c.delivered ? "exactly" : "NO"}; ${counters}`,
    );
  }
  const t = report.totals;
  lines.push(
    `TcpExt: TCPFastOpenActive=${t.TCPFastOpenActive} TCPFastOpenPassive=${t.TCPFastOpenPassive} ` +
      `TCPFastOpenCookieReqd=${t.TCPFastOpenCookieReqd} TCPFastOpenActiveFail=${t.TCPFastOpenActiveFail}`,
  );
  if (report.fellBack) lines.push("TFO was refused on this host: every connection used the connect + send fallback");
  return lines;
}
