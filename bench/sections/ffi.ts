/**
 * Section 3: the cost of the FFI path of `socketFastopenConnect6`, beyond
 * the syscalls. Three measures:
 * - time per call on a closed fd (the library's first syscall fails at once
 *   with EBADF): the public wrapper, the raw FFI symbol, and C calling the
 *   same export; best of a few alternated runs;
 * - callgrind instruction counts per call (user space only, so stable on a
 *   noisy machine): in one process, alternating windows of wrapper calls
 *   and raw calls after a warm-up, each window counted on its own (a
 *   client request dumps it), so every figure is an absolute count;
 * - syscalls per connection (strace -c): the raw C loop, the same loop
 *   through libfastopen, the JS low-level loop, `connect()` and
 *   `Bun.connect`, on loopback in a private namespace.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Built, tempDir } from "../lib/build.ts";
import { callgrindWindows, type Window } from "../lib/callgrind.ts";
import { createNamespace, deleteNamespace, makeWire, namespaceName, spawnIn, stopChild } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { type Spread, spread } from "../lib/stats.ts";

/** Section 3's result. */
export interface FfiResult {
  /** ns per call, best of the runs. */
  timing: { wrapperNs: number; rawFfiNs: number; cNs: number; calls: number; runs: number };
  /**
   * Instructions per call (null when valgrind is missing or skipped): medians of `rounds` windows of `calls`
   * calls each, with their spread; `checks` is the wrapper's same-round excess over the raw symbol.
   */
  callgrind: {
    wrapper: number;
    raw: number;
    c: number;
    calls: number;
    rounds: number;
    wrapperSpread: Spread;
    rawSpread: Spread;
    checks: Spread;
  } | null;
  callgrindSkipped?: string;
  /** Syscalls per connection of each client (strace -c, concurrency 1). */
  syscalls: SyscallRow[] | null;
}

/** Options of section 3. */
export interface FfiOptions {
  calls: number;
  runs: number;
  callgrind: boolean;
  /** Calls per callgrind window, and windows per path. */
  callgrindCalls: number;
  callgrindRounds: number;
  straceMs: number;
}

function runJson<T>(command: string, args: string[]): T {
  const run = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${run.status}):\n${run.stderr}`);
  const last = run.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}

function timing(built: Built, options: FfiOptions): FfiResult["timing"] {
  const probe = join(import.meta.dir, "..", "ffi", "probe.ts");
  let wrapperNs = Infinity;
  let rawFfiNs = Infinity;
  let cNs = Infinity;
  for (let i = 0; i < options.runs; i++) {
    const js = runJson<{ wrapperNs: number; rawNs: number }>(built.bun, [probe, "time", String(options.calls)]);
    const c = runJson<{ ns_per_call: number }>(built.tfo, ["ffi", built.library, String(options.calls)]);
    wrapperNs = Math.min(wrapperNs, js.wrapperNs);
    rawFfiNs = Math.min(rawFfiNs, js.rawNs);
    cNs = Math.min(cNs, c.ns_per_call);
  }
  return { wrapperNs, rawFfiNs, cNs, calls: options.calls, runs: options.runs };
}

/** Per-call counts of `calls`-call windows named `<prefix> <i>`. */
function perCall(windows: Window[], prefix: string, calls: number): Spread {
  const counts = windows.filter((w) => w.name.startsWith(`${prefix} `)).map((w) => w.instructions / calls);
  if (counts.length === 0) throw new Error(`callgrind: no "${prefix}" window`);
  return spread(counts);
}

/** The instructions run inside `fo_socket_fastopen_connect6` (and what it calls) per call, from C. */
async function cInstructions(built: Built, calls: number): Promise<number> {
  const dir = tempDir("fastopen-cgc-");
  const out = join(dir, "out");
  const run = spawnSync(
    "valgrind",
    [
      "--tool=callgrind",
      "--toggle-collect=fo_socket_fastopen_connect6",
      `--callgrind-out-file=${out}`,
      built.tfo,
    ].concat(["ffi", built.library, String(calls)]),
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (run.status !== 0) throw new Error(`valgrind tfo ffi failed:\n${run.stderr.slice(-2000)}`);
  const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(out, "utf8"));
  if (total === null) throw new Error("callgrind printed no instruction count for the C caller");
  return Number(total[1]) / calls;
}

/**
 * Instructions per call, counted in one process: alternating windows of
 * wrapper calls and raw calls after a warm-up, each window's own count
 * (never a difference of two runs); the checks' cost is the same-round
 * difference of the two.
 */
async function callgrind(built: Built, options: FfiOptions): Promise<FfiResult["callgrind"]> {
  const probe = join(import.meta.dir, "..", "ffi", "probe.ts");
  const calls = options.callgrindCalls;
  const rounds = options.callgrindRounds;
  const windows = await callgrindWindows([built.bun, probe, "count", String(calls), String(rounds)], {
    env: { FASTOPEN_CGREQ: built.cgreq ?? "" },
  });
  const wrapper = perCall(windows, "wrapper", calls);
  const raw = perCall(windows, "raw", calls);
  const w = windows.filter((x) => x.name.startsWith("wrapper ")).map((x) => x.instructions / calls);
  const r = windows.filter((x) => x.name.startsWith("raw ")).map((x) => x.instructions / calls);
  return {
    wrapper: wrapper.median,
    raw: raw.median,
    c: await cInstructions(built, calls),
    calls,
    rounds,
    wrapperSpread: wrapper,
    rawSpread: raw,
    checks: spread(w.map((v, i) => v - (r[i] ?? Number.NaN))),
  };
}

/** Calls per syscall name from an `strace -c` summary. */
function parseStrace(text: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (!/^\d+\.\d+$/.test(fields[0] ?? "") || fields.length < 5) continue;
    const name = fields[fields.length - 1]!;
    const count = Number(fields[3]);
    if (name !== "total" && Number.isFinite(count)) calls[name] = count;
  }
  return calls;
}

/** The runtime's own threads and memory management, not the connection path. */
const NOT_PER_CONNECTION = new Set([
  "futex",
  "madvise",
  "mmap",
  "munmap",
  "mprotect",
  "brk",
  "clone3",
  "gettid",
  "rt_sigprocmask",
  "rt_sigaction",
  "sched_yield",
  "getrandom",
]);

/** `(after - before) / connections` per syscall, keeping those made at least once per two connections. */
function perConnection(
  after: Record<string, number>,
  before: Record<string, number>,
  connections: number,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    if (NOT_PER_CONNECTION.has(name)) continue;
    const each = (count - (before[name] ?? 0)) / Math.max(1, connections);
    if (each >= 0.5) result[name] = Math.round(each * 10) / 10;
  }
  return result;
}

/** One client's syscalls per connection. */
export interface SyscallRow {
  client: string;
  /** Loopback, or the relay link at RTT 2 ms (absent in results from before the link runs: loopback). */
  where?: "loopback" | "link";
  total: number;
  perConnection: Record<string, number>;
}

/** Runs `command` under `strace -f -c` in `ns`: the calls per syscall name and the connections it made. */
function straceIn(
  ns: string,
  dir: string,
  command: string[],
  input?: string,
): { calls: Record<string, number>; made: number } {
  const out = join(dir, `run${straceRuns++}`);
  const run = spawnSync("ip", ["netns", "exec", ns, "strace", "-f", "-c", "-o", out, ...command], {
    encoding: "utf8",
    input,
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`strace ${command.join(" ")} failed (${run.status}):\n${run.stderr}`);
  const last = run.stdout.trim().split("\n").pop() ?? "";
  return { calls: parseStrace(readFileSync(out, "utf8")), made: (JSON.parse(last) as { made: number }).made };
}
let straceRuns = 0;

function syscallRow(client: string, where: "loopback" | "link", counts: Record<string, number>): SyscallRow {
  return { client, where, total: Object.values(counts).reduce((a, b) => a + b, 0), perConnection: counts };
}

/** The Bun clients compared everywhere: `connect()`, the bare fd path, `Bun.connect` + write. */
const BUN_CLIENTS = [
  ["connect", "connect()"],
  ["bare", "bare fd path"],
  ["bun", "Bun.connect + write"],
] as const;

/** Bun clients' syscalls per connection: two runs of different lengths, so that start-up cancels out. */
function bunSyscalls(
  built: Built,
  ns: string,
  host: string,
  port: string,
  where: "loopback" | "link",
  kinds: ReadonlyArray<readonly [string, string]>,
  ms: number,
): SyscallRow[] {
  const dir = tempDir("fastopen-strace-");
  const client = join(import.meta.dir, "..", "rate", "client.ts");
  const line = (runMs: number): string => `${JSON.stringify({ conc: 1, ms: runMs, warmMs: 0 })}\n`;
  return kinds.map(([kind, name]) => {
    const short = straceIn(ns, dir, [built.bun, client, kind, host, port], line(ms / 4));
    const long = straceIn(ns, dir, [built.bun, client, kind, host, port], line(ms * 2));
    return syscallRow(name, where, perConnection(long.calls, short.calls, long.made - short.made));
  });
}

async function startServer(ns: string, built: Built, port: string): Promise<Subprocess<"pipe", "pipe", "inherit">> {
  const server = spawnIn(ns, [built.tfo, "server", port]);
  const ready = await new LineReader(server.stdout).next(10_000);
  if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
  return server;
}

async function loopbackSyscalls(built: Built, options: FfiOptions): Promise<SyscallRow[]> {
  const ns = createNamespace(namespaceName("ffi"));
  const dir = tempDir("fastopen-strace-");
  let server: Subprocess<"pipe", "pipe", "inherit"> | undefined;
  try {
    server = await startServer(ns, built, "7001");
    const ms = String(options.straceMs);
    const rows: SyscallRow[] = [];
    const raw = straceIn(ns, dir, [built.tfo, "rate", "::1", "7001", "1", ms, "0"]);
    rows.push(syscallRow("C (raw TFO), blocking", "loopback", perConnection(raw.calls, {}, raw.made)));
    const library = straceIn(ns, dir, [built.tfo, "librate", built.library, "::1", "7001", ms, "0"]);
    rows.push(syscallRow("C via libfastopen, blocking", "loopback", perConnection(library.calls, {}, library.made)));
    const kinds = [["lowlevel", "lowlevel (JS), blocking"], ...BUN_CLIENTS] as const;
    rows.push(...bunSyscalls(built, ns, "::1", "7001", "loopback", kinds, options.straceMs));
    return rows;
  } finally {
    if (server !== undefined) await stopChild(server, 1000);
    deleteNamespace(ns);
  }
}

/** The same over the relay link (RTT 2 ms): the handshake's events then come one by one. */
async function linkSyscalls(built: Built, options: FfiOptions): Promise<SyscallRow[]> {
  const wire = await makeWire("sys", built.relay, 1000);
  let server: Subprocess<"pipe", "pipe", "inherit"> | undefined;
  try {
    server = await startServer(wire.server, built, "7001");
    return bunSyscalls(built, wire.client, wire.serverIp, "7001", "link", BUN_CLIENTS, options.straceMs * 2);
  } finally {
    if (server !== undefined) await stopChild(server, 1000);
    await wire.close();
  }
}

function available(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
}

/** Runs section 3. */
export async function runFfi(built: Built, options: FfiOptions, log: (line: string) => void): Promise<FfiResult> {
  log(`  timing ${options.calls} calls x ${options.runs} runs...`);
  const result: FfiResult = { timing: timing(built, options), callgrind: null, syscalls: null };
  if (!options.callgrind) result.callgrindSkipped = "skipped in --quick mode";
  else if (!available("valgrind")) result.callgrindSkipped = "valgrind is not installed";
  else if (built.cgreq === null) result.callgrindSkipped = "valgrind/callgrind.h is missing (no client requests)";
  else {
    log("  callgrind instruction counts...");
    result.callgrind = await callgrind(built, options);
  }
  if (available("strace")) {
    log("  syscalls per connection (strace -c)...");
    result.syscalls = [...(await loopbackSyscalls(built, options)), ...(await linkSyscalls(built, options))];
  }
  return result;
}
