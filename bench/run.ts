/**
 * `bun run bench` (`--quick` for a smoke run under a minute): every
 * benchmark of issue #4 in one run, one table, one chart.
 *
 * 1. latency over an emulated link (TUN relay with a fixed one-way delay)
 * 2. connection rate and client CPU on loopback with TFO and over the relay
 *    link (against native C clients)
 * 3. the cost of the FFI path, and syscalls per connection
 * 4. memory and fds over many connections
 * 5. user-space instructions per connection (callgrind), steady state and JIT warm-up
 *
 * Needs Linux, root (network namespaces; only namespaces this run creates
 * are touched, never the host's sysctls), /dev/net/tun, `ip`, `cc`, a zig
 * for the relay, openssl for the TLS certificate, and optionally valgrind
 * and strace. Writes bench/results/{full,quick}.json and .md, and the chart
 * (bench/results/chart.svg for a full run, quick.svg for --quick).
 * `--render` redraws the tables and the chart from the last JSON.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { build, makeCertificate } from "./lib/build.ts";
import { installCleanup } from "./lib/ns.ts";
import { renderChart } from "./report/chart.ts";
import { fullReport } from "./report/table.ts";
import { checkTargets } from "./report/targets.ts";
import type { BenchResults, Machine } from "./report/types.ts";
import { type FfiOptions, runFfi } from "./sections/ffi.ts";
import { type InstructionOptions, type InstructionResult, runInstructions } from "./sections/instructions.ts";
import { type LatencyOptions, runLatency } from "./sections/latency.ts";
import { type MemoryOptions, runMemory } from "./sections/memory.ts";
import { type RateOptions, runRate } from "./sections/rate.ts";

interface Plan {
  latency: Omit<LatencyOptions, "cert">;
  rate: RateOptions;
  ffi: FfiOptions;
  memory: MemoryOptions;
  instructions: InstructionOptions;
}

const FULL_SAMPLES: Record<number, number> = { 1: 200, 10: 100, 50: 40 };
const QUICK_SAMPLES: Record<number, number> = { 1: 15, 10: 8, 50: 3 };

const PLANS: Record<"full" | "quick", Plan> = {
  full: {
    latency: { delaysMs: [1, 10, 50], samples: (d) => FULL_SAMPLES[d] ?? 40, warm: 3 },
    rate: {
      concurrencies: [1, 64],
      ms: 5000,
      rounds: 10,
      warmMs: 200,
      linkDelaysUs: [1000, 250],
      linkConcurrency: 64,
      linkMs: 3000,
      linkRounds: 6,
    },
    ffi: { calls: 500_000, runs: 3, callgrind: true, callgrindCalls: 50_000, callgrindRounds: 5, straceMs: 500 },
    memory: { total: 100_000, conc: 16, warm: 2000, checkpoints: 10, runs: 5 },
    instructions: { concurrencies: [1, 64], warm: 20_000, n: 1000, rounds: 5, step: 1000, steps: 20 },
  },
  quick: {
    latency: { delaysMs: [1, 10, 50], samples: (d) => QUICK_SAMPLES[d] ?? 3, warm: 2 },
    rate: {
      concurrencies: [1, 64],
      ms: 500,
      rounds: 1,
      warmMs: 150,
      linkDelaysUs: [1000, 250],
      linkConcurrency: 64,
      linkMs: 400,
      linkRounds: 1,
    },
    ffi: { calls: 100_000, runs: 1, callgrind: false, callgrindCalls: 0, callgrindRounds: 0, straceMs: 200 },
    memory: { total: 5000, conc: 16, warm: 500, checkpoints: 5, runs: 1 },
    instructions: { concurrencies: [1], warm: 200, n: 100, rounds: 1, step: 100, steps: 2 },
  },
};

function machine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown CPU";
  try {
    const name = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (name !== null) cpu = name[1]!.trim();
  } catch {
    // Keep os.cpus()'s name.
  }
  return {
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    cpu,
    cores: cpus().length,
    kernel: release(),
    bun: Bun.version,
    loadAtStart: loadavg()[0]!,
    ...source(),
  };
}

/** The commit measured, and the library files that differed from it (uncommitted work measured too). */
function source(): { commit: string; uncommitted: string[] } {
  const git = (...args: string[]): string =>
    spawnSync("git", args, { cwd: join(import.meta.dir, ".."), encoding: "utf8" }).stdout ?? "";
  const uncommitted = git("status", "--porcelain", "--", "src", "zig", "build.zig")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.slice(3));
  return { commit: git("rev-parse", "--short", "HEAD").trim() || "unknown", uncommitted };
}

function preflight(): string | null {
  if (process.platform !== "linux") return "the benchmarks need Linux (network namespaces, TUN)";
  if (process.getuid?.() !== 0) return "the benchmarks need root (they create network namespaces)";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (the delay relay needs TUN devices)";
  return null;
}

function write(results: BenchResults): string {
  const report = fullReport(results);
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${results.mode}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${results.mode}.md`), report);
  writeFileSync(join(dir, results.mode === "full" ? "chart.svg" : "quick.svg"), renderChart(results));
  return report;
}

/** Section 5, or why it was skipped (no valgrind or no client-request shim). */
async function instructionsOrWhy(
  built: ReturnType<typeof build>,
  options: InstructionOptions,
  log: (line: string) => void,
): Promise<{ result: InstructionResult | null; why?: string }> {
  if (spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status !== 0)
    return { result: null, why: "valgrind is not installed" };
  if (built.cgreq === null) return { result: null, why: "valgrind/callgrind.h is missing (no client requests)" };
  return { result: await runInstructions(built, options, log) };
}

async function main(): Promise<void> {
  const mode = process.argv.includes("--quick") ? "quick" : "full";
  if (process.argv.includes("--render")) {
    // Redraw the tables and the chart from the last run's JSON, measuring nothing.
    const results = JSON.parse(readFileSync(join(import.meta.dir, "results", `${mode}.json`), "utf8")) as BenchResults;
    results.targets = checkTargets(results);
    console.log(write(results));
    return;
  }
  const unable = preflight();
  if (unable !== null) {
    console.error(`bench: ${unable}`);
    process.exit(1);
  }
  installCleanup();
  const plan = PLANS[mode];
  const started = performance.now();
  const log = (line: string): void => console.error(line);
  const info = machine();
  log(`fastopen bench (${mode}) on ${info.cpu} x ${info.cores}, load ${info.loadAtStart.toFixed(2)}`);
  const built = build(log);
  log("1. latency over the emulated link");
  const latency = await runLatency(built, { ...plan.latency, cert: makeCertificate() }, log);
  log("2. connection rate on loopback");
  const rate = await runRate(built, plan.rate, log);
  log("3. cost of the FFI path");
  const ffi = await runFfi(built, plan.ffi, log);
  log("4. memory and fds");
  const memory = await runMemory(built, plan.memory, log);
  log("5. instructions per connection (callgrind)");
  const cg = await instructionsOrWhy(built, plan.instructions, log);
  const measured = { latency, rate, ffi, memory, instructions: cg.result, instructionsSkipped: cg.why };
  const results: BenchResults = {
    mode,
    machine: info,
    seconds: (performance.now() - started) / 1000,
    ...measured,
    targets: checkTargets(measured),
  };
  console.log(write(results));
  const chart = mode === "full" ? "chart" : "quick";
  log(`done in ${results.seconds.toFixed(0)} s: bench/results/${mode}.json, ${mode}.md, ${chart}.svg`);
}

await main();
