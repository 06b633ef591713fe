/**
 * The host's TFO settings and counters (Linux): `net.ipv4.tcp_fastopen` bits
 * and the TcpExt TFO counters of the current network namespace.
 */
import { readFileSync } from "node:fs";

/** The TcpExt counters that tell TFO happened. */
export interface FastOpenCounters {
  /** Active opens whose SYN carried data that the server accepted. */
  TCPFastOpenActive: number;
  /** Active opens whose SYN data was not acknowledged. */
  TCPFastOpenActiveFail: number;
  /** Passive opens that accepted data in the SYN. */
  TCPFastOpenPassive: number;
  /** Passive opens whose SYN data was refused (bad cookie, ...). */
  TCPFastOpenPassiveFail: number;
  /** SYN-data requests dropped because the TFO queue was full. */
  TCPFastOpenListenOverflow: number;
  /** SYNs that asked the server for a cookie. */
  TCPFastOpenCookieReqd: number;
  /** Times TFO was disabled by blackhole detection. */
  TCPFastOpenBlackhole: number;
}

const COUNTER_NAMES = [
  "TCPFastOpenActive",
  "TCPFastOpenActiveFail",
  "TCPFastOpenPassive",
  "TCPFastOpenPassiveFail",
  "TCPFastOpenListenOverflow",
  "TCPFastOpenCookieReqd",
  "TCPFastOpenBlackhole",
] as const;

/** Parses the text of /proc/net/netstat into `{ "TcpExt": { name: value } }`. */
export function parseNetstat(text: string): Record<string, Record<string, number>> {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const tables: Record<string, Record<string, number>> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    const table = names[0]!.replace(/:$/, "");
    const entries: Record<string, number> = {};
    for (let j = 1; j < names.length; j++) entries[names[j]!] = Number(values[j]);
    tables[table] = entries;
  }
  return tables;
}

/** The TcpExt TFO counters of this process's network namespace (zeros where the platform has none). */
export function fastOpenCounters(): FastOpenCounters {
  let tcpExt: Record<string, number> = {};
  try {
    tcpExt = parseNetstat(readFileSync("/proc/net/netstat", "utf8")).TcpExt ?? {};
  } catch {
    // Not Linux: no counters.
  }
  const counters = {} as FastOpenCounters;
  for (const name of COUNTER_NAMES) counters[name] = tcpExt[name] ?? 0;
  return counters;
}

/** `after - before` for every counter. */
export function counterDelta(before: FastOpenCounters, after: FastOpenCounters): FastOpenCounters {
  const delta = {} as FastOpenCounters;
  for (const name of COUNTER_NAMES) delta[name] = after[name] - before[name];
  return delta;
}

/** Bits of `net.ipv4.tcp_fastopen` (Documentation/networking/ip-sysctl.rst). */
export const TFO_BITS = {
  /** 0x1: clients may send data in the SYN. */
  client: 0x1,
  /** 0x2: servers accept data in the SYN. */
  server: 0x2,
  /** 0x4: clients send SYN data without a cookie. */
  clientNoCookie: 0x4,
  /** 0x200: servers accept SYN data without a cookie. */
  serverNoCookie: 0x200,
  /** 0x400: every listener accepts SYN data (with a cookie) without setting TCP_FASTOPEN. */
  serverAllListeners: 0x400,
} as const;

/** `net.ipv4.tcp_fastopen` of this network namespace, or null where it cannot be read. */
export function readTcpFastopenSysctl(): number | null {
  try {
    const value = Number(readFileSync("/proc/sys/net/ipv4/tcp_fastopen", "utf8").trim());
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}
