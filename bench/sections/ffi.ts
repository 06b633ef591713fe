/**
 * Section 3: the cost of the FFI path of `socketFastopenConnect6`, beyond
 * the syscalls. Three measures:
 * - time per call on a closed fd (the library's first syscall fails at once
 *   with EBADF): the public wrapper, the raw FFI symbol, and C calling the
 *   same export; best of a few alternated runs;
 * - callgrind instruction counts per call (user space only, so stable on a
 *   noisy machine): the difference between two call counts, divided (both
 *   counts well past the JIT's tier-up, so compilation cancels out);
 * - syscalls per connection (strace -c): the raw C loop, the same loop
 *   through libfastopen, the JS low-level loop, `connect()` and
 *   `Bun.connect`, on loopback in a private namespace.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Built, tempDir } from "../lib/build.ts";
import { createNamespace, deleteNamespace, namespaceName, spawnIn, stopChild } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";

/** Section 3's result. */
export interface FfiResult {
  /** ns per call, best of the runs. */
  timing: { wrapperNs: number; rawFfiNs: number; cNs: number; calls: number; runs: number };
  /** Instructions per call (null when valgrind is missing or skipped). */
  callgrind: { wrapper: number; raw: number; c: number; calls: [number, number] } | null;
  callgrindSkipped?: string;
  /** Syscalls per connection of each client (strace -c, concurrency 1). */
  syscalls: SyscallRow[] | null;
}

/** Options of section 3. */
export interface FfiOptions {
  calls: number;
  runs: number;
  callgrind: boolean;
  callgrindCalls: [number, number];
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

/** Instructions callgrind counted for `command` (user space, all threads). */
function instructions(command: string[]): number {
  const dir = tempDir("fastopen-cg-");
  const run = spawnSync("valgrind", ["--tool=callgrind", `--callgrind-out-file=${join(dir, "out")}`, ...command], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`valgrind ${command.join(" ")} failed:\n${run.stderr.slice(-2000)}`);
  const match = /Collected : (\d+)/.exec(run.stderr);
  if (match === null) throw new Error("callgrind printed no instruction count");
  return Number(match[1]);
}

function callgrind(built: Built, options: FfiOptions): FfiResult["callgrind"] {
  const probe = join(import.meta.dir, "..", "ffi", "probe.ts");
  const [low, high] = options.callgrindCalls;
  const perCall = (command: (n: number) => string[]): number =>
    (instructions(command(high)) - instructions(command(low))) / (high - low);
  return {
    wrapper: perCall((n) => [built.bun, probe, "count", String(n)]),
    raw: perCall((n) => [built.bun, probe, "count-raw", String(n)]),
    c: perCall((n) => [built.tfo, "ffi", built.library, String(n)]),
    calls: [low, high],
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
  total: number;
  perConnection: Record<string, number>;
}

async function syscalls(built: Built, options: FfiOptions): Promise<SyscallRow[]> {
  const ns = createNamespace(namespaceName("ffi"));
  const server = spawnIn(ns, [built.tfo, "server", "7001"]);
  const dir = tempDir("fastopen-strace-");
  let runs = 0;
  const strace = (command: string[], input?: string): { calls: Record<string, number>; made: number } => {
    const out = join(dir, `run${runs++}`);
    const run = spawnSync("ip", ["netns", "exec", ns, "strace", "-f", "-c", "-o", out, ...command], {
      encoding: "utf8",
      input,
      maxBuffer: 1 << 26,
    });
    if (run.status !== 0) throw new Error(`strace ${command.join(" ")} failed (${run.status}):\n${run.stderr}`);
    const last = run.stdout.trim().split("\n").pop() ?? "";
    return { calls: parseStrace(readFileSync(out, "utf8")), made: (JSON.parse(last) as { made: number }).made };
  };
  const row = (client: string, counts: Record<string, number>): SyscallRow => ({
    client,
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    perConnection: counts,
  });
  try {
    const ready = await new LineReader(server.stdout).next(10_000);
    if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
    const ms = String(options.straceMs);
    const rows: SyscallRow[] = [];
    const raw = strace([built.tfo, "rate", "::1", "7001", "1", ms, "0"]);
    rows.push(row("C (raw TFO), blocking", perConnection(raw.calls, {}, raw.made)));
    const library = strace([built.tfo, "librate", built.library, "::1", "7001", ms, "0"]);
    rows.push(row("C via libfastopen, blocking", perConnection(library.calls, {}, library.made)));
    // Bun clients: two runs of different lengths, so that start-up cancels out.
    const client = join(import.meta.dir, "..", "rate", "client.ts");
    for (const [kind, name] of [
      ["lowlevel", "lowlevel (JS), blocking"],
      ["connect", "connect()"],
      ["bun", "Bun.connect + write"],
    ] as const) {
      const line = (runMs: number): string => `${JSON.stringify({ conc: 1, ms: runMs, warmMs: 0 })}\n`;
      const short = strace([built.bun, client, kind, "::1", "7001"], line(options.straceMs / 4));
      const long = strace([built.bun, client, kind, "::1", "7001"], line(options.straceMs * 2));
      rows.push(row(name, perConnection(long.calls, short.calls, long.made - short.made)));
    }
    return rows;
  } finally {
    await stopChild(server, 1000);
    deleteNamespace(ns);
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
  else {
    log("  callgrind instruction counts...");
    result.callgrind = callgrind(built, options);
  }
  if (available("strace")) {
    log("  syscalls per connection (strace -c)...");
    result.syscalls = await syscalls(built, options);
  }
  return result;
}
