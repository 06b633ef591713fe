/**
 * `fastopen probe HOST[:PORT]`: connects twice with TFO (the first SYN asks
 * for a cookie, the second carries data) and reports whether the server
 * supports TFO, whether its SYN data was acknowledged, and both connect times.
 *
 * Exit codes: 0 the server acknowledged data in a SYN; 1 the server could not
 * be reached (refused, timed out, not found, no TLS handshake); 3 it was reached
 * but no SYN data was acknowledged (the report says why).
 */

import { connect } from "../connect/connect.ts";
import { type FastOpenOutcome, fastOpenStatus } from "../connect/status.ts";
import { isIp6, parseIp6 } from "../lowlevel/address.ts";
import { counterDelta, type FastOpenCounters, fastOpenCounters } from "../lowlevel/netstat.ts";
import { support as readSupport, type SupportReport } from "../support.ts";
import { type Command, integerOption, takeFlag, takeOption, UsageError, unknownOption } from "./args.ts";

/** Where to probe. */
export interface ProbeTarget {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  port: number;
}

/** Options of `runProbe`. */
export interface ProbeOptions extends ProbeTarget {
  /** Connect with TLS: the ClientHello is the SYN data (no payload then). */
  tls: boolean;
  /** The bytes to send in the SYN (ignored with `tls`). */
  payload: Uint8Array;
  /** Per-connection connect timeout in ms. */
  timeoutMs: number;
}

/** One of the probe's two connections. */
export interface ProbeConnection {
  attempt: 1 | 2;
  /** The connection was established (with TLS: the handshake completed, certificates unchecked). */
  ok: boolean;
  /** Time from the connect call to the connection being ready, in ms (null when it failed). */
  ms: number | null;
  /** The peer address connected to. */
  address: string | null;
  /** Data rode in the SYN. */
  sent: boolean;
  /** The server acknowledged the SYN data. */
  acked: boolean;
  /** Why not (see `FastOpenOutcome`); null when the connect failed. */
  reason: FastOpenOutcome | null;
  /** Payload bytes the kernel took with the SYN (0 with TLS: the ClientHello's size is not reported). */
  bytesInSyn: number;
  /** Payload bytes written after the handshake. */
  bytesAfterHandshake: number;
  /** TcpExt TFO counter changes during this connection (Linux; null elsewhere). */
  counters: FastOpenCounters | null;
  /** The connect error, when it failed. */
  error: { code: string; message: string } | null;
}

/** What the probe found. */
export interface ProbeReport {
  target: ProbeTarget & { tls: boolean };
  /** Bytes of the payload (0 with TLS). */
  payloadBytes: number;
  connections: ProbeConnection[];
  /** Data rode in a SYN, so this host holds a TFO cookie from the server (it has TFO). */
  cookieReceived: boolean;
  /** The server acknowledged data in a SYN: TFO works end to end. */
  synDataAcked: boolean;
  /** `"fastopen"` (exit 0), `"no-fastopen"` (exit 3) or `"unreachable"` (exit 1). */
  verdict: "fastopen" | "no-fastopen" | "unreachable";
  /** One sentence saying what was found and why. */
  summary: string;
  /** This host's TFO settings (`support()`). */
  host: SupportReport;
  exitCode: 0 | 1 | 3;
}

/** Default connect timeout of a probe connection, in ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * A bare IPv6 literal takes no port: `::1:7000` is the address ::0.1.0.7000
 * (port 80), `1:2:3:4:5:6:7:8:443` no address at all. Throws UsageError
 * when the text is not an IPv6 literal, or when its last group could be a
 * port (dropping it leaves an address): brackets say which was meant.
 */
function checkBareIp6(text: string): void {
  const at = text.lastIndexOf(":");
  const head = text.slice(0, at);
  const tail = text.slice(at + 1);
  const portLike = /^\d{1,5}$/.test(tail) && isIp6(head.replace(/%.*$/, ""));
  if (isIp6(text.replace(/%.*$/, "")) && !portLike) return;
  const hint = portLike ? `: [${head}]:${tail} for port ${tail}, [${text}] for the address` : "";
  throw new UsageError(`an IPv6 literal with a port needs brackets${hint} (got ${JSON.stringify(text)})`);
}

/** A `%scope` must name an interface here: checked before connecting (a usage error, not a connect failure). */
function checkScope(host: string): void {
  if (!host.includes("%")) return;
  try {
    parseIp6(host);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Splits `HOST:PORT`, `[IPv6]:PORT`, `HOST`, `[IPv6]` or a bare IPv6 literal (no port then). Throws UsageError. */
export function parseTarget(text: string, defaultPort: number): ProbeTarget {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new UsageError(`missing ] in ${text}`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":"))
      throw new UsageError(`unexpected ${JSON.stringify(rest)} after ] in ${text}`);
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const colons = text.split(":").length - 1;
    const at = text.lastIndexOf(":");
    host = colons === 1 ? text.slice(0, at) : text;
    portText = colons === 1 ? text.slice(at + 1) : undefined;
    if (colons > 1) checkBareIp6(text);
  }
  if (host === "") throw new UsageError(`no host in ${JSON.stringify(text)}`);
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`port must be 1..65535, got ${JSON.stringify(portText)}`);
  return { host, port };
}

/**
 * Decodes `--payload` text: `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` (one byte)
 * escapes; the rest as UTF-8. Throws UsageError.
 */
export function parsePayload(text: string): Uint8Array {
  const simple: Record<string, number> = { r: 13, n: 10, t: 9, "0": 0, "\\": 92 };
  const encoder = new TextEncoder();
  const parts: number[] = [];
  const flush = (literal: string): void => {
    for (const byte of encoder.encode(literal)) parts.push(byte);
  };
  let literal = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      literal += text[i];
      continue;
    }
    flush(literal);
    literal = "";
    const next = text[i + 1] ?? "";
    const hex = text.slice(i + 2, i + 4);
    if (next === "x" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      parts.push(Number.parseInt(hex, 16));
      i += 3;
    } else if (simple[next] !== undefined) {
      parts.push(simple[next]);
      i += 1;
    } else {
      throw new UsageError(`unknown escape \\${next} in --payload (known: \\r \\n \\t \\0 \\\\ \\xHH)`);
    }
  }
  flush(literal);
  if (parts.length === 0) throw new UsageError("--payload must not be empty: TFO needs data for the SYN");
  return Uint8Array.from(parts);
}

/** `[v6]:port` or `host:port`. */
export function formatTarget(target: ProbeTarget): string {
  return target.host.includes(":") ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** The default payload: an HTTP HEAD request (harmless to most servers). */
export function defaultPayload(host: string): Uint8Array {
  const name = host.includes(":") ? `[${host}]` : host;
  return new TextEncoder().encode(`HEAD / HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`);
}

/** The error's `code`; for a TypeError/RangeError without one, Node's code for a bad argument. */
function errorInfo(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const fallback =
    error instanceof TypeError
      ? "ERR_INVALID_ARG_TYPE"
      : error instanceof RangeError
        ? "ERR_INVALID_ARG_VALUE"
        : "EUNKNOWN";
  return {
    code: typeof code === "string" ? code : fallback,
    message: error instanceof Error ? error.message : String(error),
  };
}

async function probeOnce(options: ProbeOptions, attempt: 1 | 2): Promise<ProbeConnection> {
  const linux = process.platform === "linux";
  const before = linux ? fastOpenCounters() : null;
  const t0 = performance.now();
  const failed = (error: unknown): ProbeConnection => ({
    attempt,
    ok: false,
    ms: null,
    address: null,
    sent: false,
    acked: false,
    reason: null,
    bytesInSyn: 0,
    bytesAfterHandshake: 0,
    counters: before === null ? null : counterDelta(before, fastOpenCounters()),
    error: errorInfo(error),
  });
  let socket: Awaited<ReturnType<typeof connect>>;
  try {
    // With TLS, connect() resolves only once the handshake has succeeded (certificates unchecked here):
    // a server that does not speak TLS rejects it (EPROTO).
    socket = await connect({
      hostname: options.host,
      port: options.port,
      connectTimeout: options.timeoutMs,
      socket: { data() {} },
      ...(options.tls ? { tls: { rejectUnauthorized: false } } : { payload: options.payload }),
    });
  } catch (error) {
    return failed(error);
  }
  const ms = performance.now() - t0;
  const status = fastOpenStatus(socket);
  const address = socket.remoteAddress ?? null;
  socket.end();
  return {
    attempt,
    ok: true,
    ms,
    address,
    sent: status.sent,
    acked: status.acked,
    reason: status.reason,
    bytesInSyn: status.bytesInSyn,
    bytesAfterHandshake: status.bytesAfterHandshake,
    counters: before === null ? null : counterDelta(before, fastOpenCounters()),
    error: null,
  };
}

const WHY: Partial<Record<FastOpenOutcome, string>> = {
  disabled: "TFO is off on this host (client bit of the TFO setting), nothing was tried; see `fastopen support`",
  "no-cookie": "the server sent no TFO cookie: it has no TFO (or something on the path strips the option)",
  "data-not-acked":
    "the SYN carried data with a cookie but the server did not acknowledge it (TFO off there now, or its key changed)",
  "syn-retransmitted": "the SYN with data was lost and resent without it (something on the path may drop SYN data)",
  blackhole: "the kernel turned TFO off after detecting a blackhole on the path",
};

function verdictOf(
  connections: ProbeConnection[],
): Pick<ProbeReport, "cookieReceived" | "synDataAcked" | "verdict" | "summary" | "exitCode"> {
  const failed = connections.find((c) => !c.ok);
  const cookieReceived = connections.some((c) => c.sent);
  const synDataAcked = connections.some((c) => c.acked);
  if (failed !== undefined) {
    return {
      cookieReceived,
      synDataAcked,
      verdict: "unreachable",
      exitCode: 1,
      summary: `connection ${failed.attempt} failed: ${failed.error?.message ?? "unknown error"}`,
    };
  }
  const tooLarge = connections[connections.length - 1]?.reason === "first-flight-too-large";
  if (synDataAcked)
    return {
      cookieReceived,
      synDataAcked,
      verdict: "fastopen",
      exitCode: 0,
      summary: tooLarge
        ? "TFO works, but the ClientHello is larger than a SYN holds on this path: the server cannot answer before " +
          "the handshake (a smaller ClientHello: see the TLS section of docs/api.md)"
        : "TFO works: the server acknowledged data in the SYN",
    };
  const reason = connections[connections.length - 1]?.reason ?? "unknown";
  return {
    cookieReceived,
    synDataAcked,
    verdict: "no-fastopen",
    exitCode: 3,
    summary: `no TFO: ${WHY[reason] ?? `SYN data not acknowledged (${reason})`}`,
  };
}

/** Connects twice (cookie, then data in the SYN) and reports what TFO did. Never throws for network failures. */
export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const connections = [await probeOnce(options, 1)];
  if (connections[0]!.ok) connections.push(await probeOnce(options, 2));
  return {
    target: { host: options.host, port: options.port, tls: options.tls },
    payloadBytes: options.tls ? 0 : options.payload.byteLength,
    connections,
    ...verdictOf(connections),
    host: readSupport(),
  };
}

/** What of the first flight rode in the SYN: the payload's bytes, or (TLS) the ClientHello's share and the rest. */
function synPart(c: ProbeConnection, tls: boolean): string {
  const acked = c.acked ? "acknowledged" : "NOT acknowledged";
  if (!tls) return `${c.bytesInSyn > 0 ? `${c.bytesInSyn} B` : "data"} in the SYN, ${acked}`;
  const hello = c.bytesInSyn + c.bytesAfterHandshake;
  if (c.bytesAfterHandshake === 0 || c.bytesInSyn === 0) return `the ClientHello in the SYN, ${acked}`;
  return (
    `${c.bytesInSyn} B of the ${hello} B ClientHello in the SYN, ${acked}; ` +
    `${c.bytesAfterHandshake} B waited for the handshake (${c.reason})`
  );
}

function describeConnection(c: ProbeConnection, tls: boolean): string {
  const head = `  connection ${c.attempt}`;
  if (!c.ok) return `${head}  failed: ${c.error?.code ?? "ERROR"} (${c.error?.message ?? ""})`;
  const syn = c.sent ? synPart(c, tls) : `no data in the SYN (${c.reason})`;
  const after = !tls && c.bytesAfterHandshake > 0 ? `; ${c.bytesAfterHandshake} B after the handshake` : "";
  return `${head}  ${(c.ms ?? 0).toFixed(2)} ms  ${c.address ?? "?"}  ${syn}${after}`;
}

/** The report as text lines. */
export function formatProbe(report: ProbeReport): string[] {
  const how = report.target.tls ? "with TLS (the ClientHello as SYN data)" : `with a ${report.payloadBytes} B payload`;
  return [
    `probe ${formatTarget(report.target)} ${how}`,
    ...report.connections.map((c) => describeConnection(c, report.target.tls)),
    `${report.summary} (exit ${report.exitCode})`,
  ];
}

/** The `probe` command. */
export const probe: Command = {
  summary: "connect twice to HOST:PORT and report whether its TFO works (cookie, SYN data acked, times)",
  usage: [
    "fastopen probe HOST[:PORT] [--payload TEXT] [--tls] [--timeout MS] [--json]",
    "  HOST[:PORT]     name, IPv4 or [IPv6] (a bare IPv6 literal takes no port: [::1]:7000);",
    "                  PORT defaults to 443 with --tls, else 80",
    "  --payload TEXT  SYN data (escapes \\r \\n \\t \\0 \\\\ \\xHH); default an HTTP HEAD request",
    "  --tls           TLS: the ClientHello is the SYN data; the handshake must complete",
    "                  (certificates are not checked)",
    "  --timeout MS    connect timeout per connection (default 5000)",
    "  --json          print the report as JSON",
    "The first connection fetches a cookie (unless one is cached), the second sends",
    "data in the SYN. Run it in the network namespace whose TFO you want to test.",
    "exit codes: 0 SYN data acknowledged; 1 unreachable; 2 bad usage;",
    "            3 reachable but no SYN data acknowledged (the report says why)",
  ].join("\n"),
  async run(args) {
    const json = takeFlag(args, "--json");
    const tls = takeFlag(args, "--tls");
    const payloadText = takeOption(args, "--payload");
    const timeoutText = takeOption(args, "--timeout");
    const unknown = unknownOption(args);
    if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}`);
    if (args.length !== 1)
      throw new UsageError(args.length === 0 ? "HOST[:PORT] is required" : `unexpected argument ${args[1]}`);
    if (tls && payloadText !== undefined)
      throw new UsageError("--payload cannot be combined with --tls: the ClientHello is the SYN data");
    const timeoutMs =
      timeoutText === undefined ? DEFAULT_PROBE_TIMEOUT_MS : integerOption("--timeout", timeoutText, 1, 600_000, "ms");
    const target = parseTarget(args[0]!, tls ? 443 : 80);
    checkScope(target.host);
    const payload = payloadText === undefined ? defaultPayload(target.host) : parsePayload(payloadText);
    const report = await runProbe({ ...target, tls, payload, timeoutMs });
    console.log(json ? JSON.stringify(report) : formatProbe(report).join("\n"));
    return report.exitCode;
  },
};
