/**
 * The issues' targets, checked (not asserted) against a run's figures:
 * issue 4's (latency, rate, memory) and issue 12's (connect() cheaper than
 * Bun.connect: rate, CPU, syscalls, instructions, createConnection's RSS).
 * A ratio is the median of same-round ratios; its spread is shown with it.
 */
import type { Spread } from "../lib/stats.ts";
import type { FfiResult } from "../sections/ffi.ts";
import type { InstructionResult } from "../sections/instructions.ts";
import type { LatencyResult } from "../sections/latency.ts";
import type { MemoryRow } from "../sections/memory.ts";
import type { RateResult, RateRow } from "../sections/rate.ts";
import type { TargetCheck } from "./types.ts";

/** What the targets are checked against (a run's results). */
export interface TargetInput {
  latency: LatencyResult;
  rate: RateResult;
  ffi: FfiResult;
  memory: MemoryRow[];
  instructions?: InstructionResult | null;
}

const f = (value: number, digits = 2): string => value.toFixed(digits);
const spreadText = (s: Spread): string => `${f(s.median)} x (rounds ${f(s.low)}-${f(s.high)})`;

function latencyTargets(latency: LatencyResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of latency.rows.filter((r) => r.client === "connect TFO")) {
    const bound = 1.05 * row.rttMs + 1;
    checks.push({
      target: `#4 warm TFO request (connect) <= 1.05 x RTT + 1 ms at RTT ${row.rttMs} ms (${f(bound)} ms)`,
      measured: `median ${f(row.medianMs)} ms, ${row.tfoProven}/${row.n} proven in the SYN`,
      met: row.medianMs <= bound,
    });
  }
  for (const client of ["connect lazy TLS", "connect lazy TLS x25519"]) {
    for (const row of latency.rows.filter((r) => r.client === client)) {
      checks.push({
        target: `#4 TLS first byte (${client}) <= 0.70 x ${row.baseline} at RTT ${row.rttMs} ms`,
        measured: `${f(row.ratio)} x (${f(row.medianMs)} ms)`,
        met: row.ratio <= 0.7,
      });
    }
  }
  return checks;
}

function vsBun(row: RateRow): Spread {
  return row.vsBunSpread ?? { median: row.vsBun, low: row.vsBun, high: row.vsBun };
}

function rateTargets(rate: RateResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const wanted: Record<number, number> = { 1: 1.15, 64: 1.1 };
  for (const row of rate.rows.filter((r) => r.client === "connect")) {
    const bound = wanted[row.conc];
    if (bound !== undefined)
      checks.push({
        target: `#12 loopback rate (connect) >= ${f(bound)} x Bun.connect + write at concurrency ${row.conc}`,
        measured: `${spreadText(vsBun(row))}, ${f(row.rate, 0)}/s`,
        met: row.vsBun >= bound,
      });
    if (row.conc === 64 && row.cpuVsBun != null)
      checks.push({
        target: "#12 loopback client CPU per connection (connect) <= 0.90 x Bun.connect at concurrency 64",
        measured: `${spreadText(row.cpuVsBun)}, ${f(row.cpuUs ?? Number.NaN, 1)} µs`,
        met: row.cpuVsBun.median <= 0.9,
      });
    checks.push({
      target: `#4 loopback rate (connect) >= 0.7 x the C client at concurrency ${row.conc}`,
      measured: `${f(row.vsC)} x`,
      met: row.vsC >= 0.7,
    });
  }
  const linkWanted: Record<number, number> = { 2: 1.6, 0.5: 1.1 };
  for (const link of rate.link ?? []) {
    const row = link.rows.find((r) => r.client === "connect");
    const bound = linkWanted[link.rttMs];
    if (row === undefined || bound === undefined) continue;
    const cTfo = link.rows.find((r) => r.client === "C (raw TFO)");
    const cPlain = link.rows.find((r) => r.client === "C (plain)");
    const c = cTfo !== undefined && cPlain !== undefined ? `; C TFO vs C plain ${f(cTfo.rate / cPlain.rate)} x` : "";
    checks.push({
      target: `#12 relay link rate (connect) >= ${f(bound, 1)} x Bun.connect at RTT ${link.rttMs} ms, c=${row.conc}`,
      measured: `${spreadText(vsBun(row))}${c}`,
      met: row.vsBun >= bound,
    });
  }
  return checks;
}

function syscallTargets(ffi: FfiResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const where of ["loopback", "link"] as const) {
    const rows = (ffi.syscalls ?? []).filter((r) => (r.where ?? "loopback") === where);
    const mine = rows.find((r) => r.client === "connect()");
    const bun = rows.find((r) => r.client === "Bun.connect + write");
    if (mine === undefined || bun === undefined) continue;
    checks.push({
      target: `#12 syscalls per connection (connect) <= Bun.connect's, ${where === "link" ? "relay link" : where}`,
      measured: `${f(mine.total, 1)} vs ${f(bun.total, 1)}`,
      met: mine.total <= bun.total,
    });
  }
  return checks;
}

function instructionTargets(instructions: InstructionResult | null | undefined): TargetCheck[] {
  if (instructions == null) return [];
  const checks: TargetCheck[] = instructions.rows
    .filter((r) => r.client === "connect")
    .map((row) => ({
      target: `#12 instructions per connection (connect, steady state) <= Bun.connect's at concurrency ${row.conc}`,
      measured: `${spreadText(row.vsBun)}, ${f(row.perConnection.median / 1000, 1)}k`,
      met: row.vsBun.median <= 1,
    }));
  const mine = instructions.warmup.find((w) => w.client === "connect");
  const bun = instructions.warmup.find((w) => w.client === "Bun.connect");
  if (mine !== undefined && bun !== undefined)
    checks.push({
      target: `#12 JIT warm-up over the first ${mine.connections} connections (reported)`,
      measured:
        `connect ${f(mine.excess / 1e6, 0)}M, Bun.connect ${f(bun.excess / 1e6, 0)}M` +
        " instructions over steady state",
      met: true,
    });
  return checks;
}

function memoryTargets(memory: MemoryRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const row = memory.find((r) => r.client === "connect");
  if (row !== undefined) {
    checks.push(
      {
        target: `#4 ${row.connections} connections through connect: RSS growth < 5 MB`,
        measured: `${f(Math.abs(row.rssGrowthMB) < 0.05 ? 0 : row.rssGrowthMB, 1)} MB`,
        met: row.rssGrowthMB < 5,
      },
      {
        target: `#4 ${row.connections} connections through connect: zero fds leaked`,
        measured: `${row.fdGrowth} fds`,
        met: row.fdGrowth <= 0,
      },
    );
  }
  const node = memory.find((r) => r.client === "createConnection");
  const bun = memory.find((r) => r.client === "Bun.connect");
  if (node !== undefined && bun !== undefined) {
    const ratio = node.rssVsBun ?? { median: node.rssGrowthMB / bun.rssGrowthMB, low: Number.NaN, high: Number.NaN };
    const allocated = node.allocatedVsBun;
    const heap =
      allocated === undefined
        ? ""
        : `; JS heap allocated ${f(node.allocatedPerConnection!.median, 0)} B/conn, ${spreadText(allocated)}`;
    checks.push({
      target: `#12 createConnection RSS growth over ${node.connections} cycles <= 1.3 x Bun.connect's`,
      measured:
        `${spreadText(ratio)}; ${f(node.rssGrowthMB, 1)} MB vs ${f(bun.rssGrowthMB, 1)} MB;` +
        ` fds ${node.fdGrowth}${heap}`,
      met: ratio.median <= 1.3,
    });
  }
  return checks;
}

/** Every target with this run's figure and whether it is met. */
export function checkTargets(results: TargetInput): TargetCheck[] {
  return [
    ...latencyTargets(results.latency),
    ...rateTargets(results.rate),
    ...syscallTargets(results.ffi),
    ...instructionTargets(results.instructions),
    ...memoryTargets(results.memory),
  ];
}
