/**
 * `support()`: which kinds of TFO this host (on Linux: this network
 * namespace) allows, read from the platform's settings, with advice for each
 * missing piece. Linux: the `net.ipv4.tcp_fastopen` bits and the kernel
 * version; macOS: `net.inet.tcp.fastopen`; FreeBSD: `net.inet.tcp.fastopen.*`.
 */

import { spawnSync } from "node:child_process";
import { release } from "node:os";
import { readTcpFastopenSysctl, TFO_BITS } from "./lowlevel/netstat.ts";
import { fastopenRefusedFor } from "./lowlevel/socket.ts";

/** What this host allows. */
export interface SupportReport {
  platform: NodeJS.Platform;
  /** The raw setting (`net.ipv4.tcp_fastopen` on Linux), or null when it cannot be read. */
  setting: number | null;
  /** Clients may send data in the SYN (with a cookie). */
  client: boolean;
  /** Listeners accept data in the SYN. */
  server: boolean;
  /** Lazy connect (the SYN waits for the first write): Linux >= 4.11, macOS. */
  lazy: boolean;
  /** Clients send SYN data without a cookie (Linux bit 0x4, or per socket with TCP_FASTOPEN_NO_COOKIE). */
  noCookie: boolean;
  /** Listeners accept SYN data without a cookie (Linux bit 0x200). */
  serverNoCookie: boolean;
  /** Per-listener cookie keys with a backup (`listen`'s `fastOpen.keys`; Linux TCP_FASTOPEN_KEY, >= 5.4). */
  keys: boolean;
  /**
   * Until when (a `Date.now()` time) this process connects without TFO
   * because the platform refused it; the first connect after it tries TFO
   * again. Null when no refusal is remembered.
   */
  refusedUntil: number | null;
  /** One line per missing piece, saying how to enable it. Empty when client, server and lazy are on. */
  advice: string[];
}

/** `refusedUntil` now: the remembered refusal's end, or null. */
function refusedUntil(): number | null {
  let left: number;
  try {
    left = fastopenRefusedFor();
  } catch {
    // The native library cannot load: no connect has run, so no refusal is remembered.
    return null;
  }
  return left > 0 ? Date.now() + left : null;
}

/** The report with this process's remembered refusal, if any, and a line of advice about it. */
function withRefusal(report: SupportReport): SupportReport {
  const until = refusedUntil();
  report.refusedUntil = until;
  if (until !== null) {
    report.advice.push(
      `this process saw the platform refuse TFO and connects without it until ${new Date(until).toISOString()}, ` +
        "then tries TFO again",
    );
  }
  return report;
}

function kernelAtLeast(text: string, major: number, minor: number): boolean {
  const match = /^(\d+)\.(\d+)/.exec(text);
  if (match === null) return false;
  const [maj, min] = [Number(match[1]), Number(match[2])];
  return maj > major || (maj === major && min >= minor);
}

/**
 * How to turn on what a `net.ipv4.tcp_fastopen` value lacks of client (0x1)
 * and server (0x2) TFO, one line each (empty when both are on): the advice of
 * `support()` and of the CLI demo.
 */
export function tcpFastopenAdvice(setting: number | null): string[] {
  if (setting === null) return ["net.ipv4.tcp_fastopen cannot be read (no /proc/sys?): TFO state unknown"];
  const want = setting | TFO_BITS.client | TFO_BITS.server;
  const enable = `enable with: sysctl -w net.ipv4.tcp_fastopen=${want}`;
  const advice: string[] = [];
  if ((setting & TFO_BITS.client) === 0) {
    const effect = "connections fall back to connect + send";
    advice.push(`client TFO is off (bit 0x1 of net.ipv4.tcp_fastopen=${setting}): ${effect}; ${enable}`);
  }
  if ((setting & TFO_BITS.server) === 0) {
    const effect = "listen() ignores SYN data";
    advice.push(`server TFO is off (bit 0x2 of net.ipv4.tcp_fastopen=${setting}): ${effect}; ${enable}`);
  }
  return advice;
}

/** The Linux report for a `net.ipv4.tcp_fastopen` value and kernel release (pure: testable with any value). */
export function linuxSupport(setting: number | null, kernel: string): SupportReport {
  const bits = setting ?? 0;
  const client = (bits & TFO_BITS.client) !== 0;
  const server = (bits & TFO_BITS.server) !== 0;
  const lazyKernel = kernelAtLeast(kernel, 4, 11);
  const report: SupportReport = {
    platform: "linux",
    setting,
    client,
    server,
    lazy: client && lazyKernel,
    noCookie: client && (bits & TFO_BITS.clientNoCookie) !== 0,
    serverNoCookie: server && (bits & TFO_BITS.serverNoCookie) !== 0,
    keys: kernelAtLeast(kernel, 5, 4),
    refusedUntil: null,
    advice: tcpFastopenAdvice(setting),
  };
  if (setting === null) return report;
  if (client && !lazyKernel) {
    report.advice.push(
      `kernel ${kernel} predates TCP_FASTOPEN_CONNECT (4.11): ` +
        "lazy and TLS connects send the ClientHello after the handshake",
    );
  }
  if (!report.keys) {
    report.advice.push(
      `kernel ${kernel} predates per-listener TFO keys with a backup (5.4): listen()'s fastOpen.keys is refused`,
    );
  }
  if (!report.noCookie) {
    report.advice.push(
      "no-cookie TFO is off (bit 0x4, client; needs a server that allows it): " +
        "the first connection to each server only fetches a cookie (normal)",
    );
  }
  return report;
}

function sysctlNumber(name: string): number | null {
  const run = spawnSync("sysctl", ["-n", name], { encoding: "utf8" });
  const value = Number(run.stdout?.trim());
  return run.status === 0 && Number.isInteger(value) ? value : null;
}

function darwinSupport(): SupportReport {
  const setting = sysctlNumber("net.inet.tcp.fastopen");
  const bits = setting ?? 0;
  const report: SupportReport = {
    platform: "darwin",
    setting,
    client: (bits & 1) !== 0,
    server: (bits & 2) !== 0,
    lazy: (bits & 1) !== 0,
    noCookie: false,
    serverNoCookie: false,
    keys: false,
    refusedUntil: null,
    advice: [],
  };
  if (setting === null) report.advice.push("net.inet.tcp.fastopen cannot be read: TFO state unknown");
  else if (!report.client || !report.server)
    report.advice.push(
      `net.inet.tcp.fastopen=${setting}: enable client and server with: sudo sysctl -w net.inet.tcp.fastopen=3`,
    );
  report.advice.push("macOS has no no-cookie TFO and no per-listener TFO key (listen()'s fastOpen.keys)");
  return report;
}

function freebsdSupport(): SupportReport {
  const client = sysctlNumber("net.inet.tcp.fastopen.client_enable");
  const server = sysctlNumber("net.inet.tcp.fastopen.server_enable");
  const report: SupportReport = {
    platform: "freebsd",
    setting: client === null && server === null ? null : (client ? 1 : 0) | (server ? 2 : 0),
    client: (client ?? 0) !== 0,
    server: (server ?? 0) !== 0,
    lazy: false,
    noCookie: false,
    serverNoCookie: false,
    keys: false,
    refusedUntil: null,
    advice: [
      "FreeBSD has no lazy TFO: lazy and TLS connects use a plain connect",
      "FreeBSD has no per-listener TFO key (listen()'s fastOpen.keys): only the net.inet.tcp.fastopen.setkey sysctl",
    ],
  };
  if (!report.client) report.advice.push("enable client TFO with: sysctl net.inet.tcp.fastopen.client_enable=1");
  if (!report.server) report.advice.push("enable server TFO with: sysctl net.inet.tcp.fastopen.server_enable=1");
  return report;
}

/**
 * Which of client, server, lazy and no-cookie TFO this host (network
 * namespace) allows, with advice, and until when this process remembers a
 * refusal of TFO (`refusedUntil`).
 */
export function support(): SupportReport {
  switch (process.platform) {
    case "linux":
      return withRefusal(linuxSupport(readTcpFastopenSysctl(), release()));
    case "darwin":
      return withRefusal(darwinSupport());
    case "freebsd":
      return withRefusal(freebsdSupport());
    default:
      return {
        platform: process.platform,
        setting: null,
        client: false,
        server: false,
        lazy: false,
        noCookie: false,
        serverNoCookie: false,
        keys: false,
        refusedUntil: null,
        advice: [`TFO is not supported by fastopen on ${process.platform}`],
      };
  }
}
