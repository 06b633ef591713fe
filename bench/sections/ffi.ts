/**
 * Section 3: the cost of the FFI path of `socketFastopenConnect6`, beyond
 * the syscalls. Three measures:
 * - time per call on a closed fd (the library's first syscall fails at once
 *   with EBADF): the public wrapper, the raw FFI symbol, and C calling the
 *   same export; best of a few alternated runs;
 * - callgrind instruction counts per call (user space only, so stable on a
 *   noisy machine): the difference between two call counts, divided (both
 *   counts well past the JIT's tier-up, so compilation cancels out);
 * - syscalls per connection (strace -c): a loop through libfastopen against
 *   the raw C loop, both on loopback in a private namespace.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Built } from "../lib/build.ts";
import { createNamespace, deleteNamespace, namespaceName, spawnIn, stopChild } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";

/** Section 3's result. */
export interface FfiResult {
  /** ns per call, best of the runs. */
  timing: { wrapperNs: number; rawFfiNs: number; cNs: number; calls: number; runs: number };
  /** Instructions per call (null when valgrind is missing or skipped). */
  callgrind: { wrapper: number; raw: number; c: number; calls: [number, number] } | null;
  callgrindSkipped?: string;
  /** Syscalls per connection. */
  syscalls: { library: Record<string, number>; raw: Record<string, number>; libraryTotal: number; rawTotal: number } | null;
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
  const dir = mkdtempSync(join(tmpdir(), "fastopen-cg-"));
  const run = spawnSync("valgrind", ["--tool=callgrind", `--callgrind-out-file=${join(dir, "out")}`, ...command], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`valgrind ${command.join(" ")} failed:\n${run.stderr.slice(-2000)}`);
  const match = /Collected : (\d+)/.exec(run.stderr);
  if (match === null) throw new Error("callgrind printed no instruction count");
  return Number(match[1]);
}

function callgrind(built: Built, options: FfiOptions): FfiResult["callgrind"] {
  const probe = join(import.meta.dir, "..", "ffi", "probe.ts");
  const [low, high] = options.callgrindCalls;
  const perCall = (command: (n: number) => string[]): number => (instructions(command(high)) - instructions(command(low))) / (high - low);
  return {
    wrapper: perCall((n) => [built.bun, probe, "count", String(n)]),
    raw: perCall((n) => [built.bun, probe, "count-raw", String(n)]),
    c: perCall((n) => [built.tfo, "ffi", built.library, String(n)]),
    calls: [low, high],
  };
}

/** Calls per syscall name from an `strace -c` summary, divided by `connections`. */
function parseStrace(text: string, connections: number): Record<string, number> {
  const perConnection: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (!/^\d+\.\d+$/.test(fields[0] ?? "") || fields.length < 5) continue;
    const name = fields[fields.length - 1]!;
    const calls = Number(fields[3]);
    if (name === "total" || !Number.isFinite(calls)) continue;
    const each = calls / connections;
    if (each >= 0.5) perConnection[name] = Math.round(each * 100) / 100;
  }
  return perConnection;
}

async function syscalls(built: Built, options: FfiOptions): Promise<FfiResult["syscalls"]> {
  const ns = createNamespace(namespaceName("ffi"));
  const server = spawnIn(ns, [built.tfo, "server", "7001"]);
  const dir = mkdtempSync(join(tmpdir(), "fastopen-strace-"));
  try {
    const ready = await new LineReader(server.stdout).next(10_000);
    if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
    const traced = (name: string, args: string[]): Record<string, number> => {
      const out = join(dir, name);
      const report = runJson<{ made: number }>("ip", ["netns", "exec", ns, "strace", "-f", "-c", "-o", out, built.tfo, ...args]);
      return parseStrace(readFileSync(out, "utf8"), report.made);
    };
    const ms = String(options.straceMs);
    const library = traced("library", ["librate", built.library, "::1", "7001", ms, "0"]);
    const raw = traced("raw", ["rate", "::1", "7001", "1", ms, "0"]);
    const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
    return { library, raw, libraryTotal: total(library), rawTotal: total(raw) };
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
