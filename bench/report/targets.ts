/** The targets, checked (not asserted) against a run's figures. */
import type { LatencyResult } from "../sections/latency.ts";
import type { MemoryRow } from "../sections/memory.ts";
import type { RateResult } from "../sections/rate.ts";
import type { TargetCheck } from "./types.ts";

const f = (value: number, digits = 2): string => value.toFixed(digits);

function latencyTargets(latency: LatencyResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of latency.rows.filter((r) => r.client === "connect TFO")) {
    const bound = 1.05 * row.rttMs + 1;
    checks.push({
      target: `warm TFO request (connect) <= 1.05 x RTT + 1 ms at RTT ${row.rttMs} ms (${f(bound)} ms)`,
      measured: `median ${f(row.medianMs)} ms, ${row.tfoProven}/${row.n} proven in the SYN`,
      met: row.medianMs <= bound,
    });
  }
  for (const client of ["connect lazy TLS", "connect lazy TLS x25519"]) {
    for (const row of latency.rows.filter((r) => r.client === client)) {
      checks.push({
        target: `TLS first byte (${client}) <= 0.70 x ${row.baseline} at RTT ${row.rttMs} ms`,
        measured: `${f(row.ratio)} x (${f(row.medianMs)} ms)`,
        met: row.ratio <= 0.7,
      });
    }
  }
  return checks;
}

function rateTargets(rate: RateResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of rate.rows.filter((r) => r.client === "connect")) {
    checks.push({
      target: `connection rate (connect) >= 1.1 x Bun.connect at concurrency ${row.conc}`,
      measured: `${f(row.vsBun)} x (${f(row.rate, 0)}/s)`,
      met: row.vsBun >= 1.1,
    });
    checks.push({
      target: `connection rate (connect) >= 0.7 x the C client at concurrency ${row.conc}`,
      measured: `${f(row.vsC)} x`,
      met: row.vsC >= 0.7,
    });
  }
  return checks;
}

function memoryTargets(memory: MemoryRow[]): TargetCheck[] {
  const row = memory.find((r) => r.client === "connect");
  if (row === undefined) return [];
  return [
    {
      target: `${row.connections} connections through connect: RSS growth < 5 MB`,
      measured: `${f(Math.abs(row.rssGrowthMB) < 0.05 ? 0 : row.rssGrowthMB, 1)} MB`,
      met: row.rssGrowthMB < 5,
    },
    {
      target: `${row.connections} connections through connect: zero fds leaked`,
      measured: `${row.fdGrowth} fds`,
      met: row.fdGrowth <= 0,
    },
  ];
}

/** Every target with this run's figure and whether it is met. */
export function checkTargets(latency: LatencyResult, rate: RateResult, memory: MemoryRow[]): TargetCheck[] {
  return [...latencyTargets(latency), ...rateTargets(rate), ...memoryTargets(memory)];
}
