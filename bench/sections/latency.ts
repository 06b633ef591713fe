/**
 * Section 1: request latency over an emulated link. For each one-way delay,
 * a fresh client/server namespace pair joined by the relay; the server and
 * the client run inside them and the client reports its samples.
 */
import { join } from "node:path";
import type { LatencyReport, ServerPorts } from "../latency/protocol.ts";
import type { Built } from "../lib/build.ts";
import { makeWire, spawnIn, stopChild, tcpExtIn, tfoDelta } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { median, percentile } from "../lib/stats.ts";

/** Summary of one client at one delay. */
export interface LatencyRow {
  delayMs: number;
  rttMs: number;
  client: string;
  n: number;
  medianMs: number;
  p99Ms: number;
  /** Median over the baseline's median (Bun.connect, plain or TLS) in the same run. */
  ratio: number;
  baseline: string;
  /** The physical limit: `limitRtts` round trips. */
  limitMs: number;
  /** Median minus the limit. */
  overLimitMs: number;
  /** Connections whose request rode in the SYN and was acknowledged, of n (null: not a TFO client). */
  tfoProven: number | null;
}

/** Section 1's result. */
export interface LatencyResult {
  rows: LatencyRow[];
  skipped: Array<{ name: string; why: string }>;
  /** TcpExt counters of the server namespace per delay: TFO connections the kernel accepted. */
  serverCounters: Array<{ delayMs: number; TCPFastOpenPassive: number; TCPFastOpenCookieReqd: number }>;
}

/** Options of section 1. */
export interface LatencyOptions {
  delaysMs: number[];
  /** Samples per client at each delay. */
  samples: (delayMs: number) => number;
  warm: number;
  cert: { cert: string; key: string };
}

async function oneDelay(
  built: Built,
  options: LatencyOptions,
  delayMs: number,
  log: (line: string) => void,
): Promise<{ report: LatencyReport; passive: number; reqd: number }> {
  const wire = await makeWire(`l${delayMs}`, built.relay, delayMs * 1000);
  try {
    const server = spawnIn(wire.server, [
      built.bun,
      join(import.meta.dir, "..", "latency", "server.ts"),
      wire.serverIp,
      options.cert.cert,
      options.cert.key,
    ]);
    try {
      const { ports } = await new LineReader(server.stdout).json<{ ports: ServerPorts }>(15_000);
      const before = tcpExtIn(wire.server);
      const samples = options.samples(delayMs);
      log(`  one-way ${delayMs} ms (RTT ${2 * delayMs} ms): ${samples} samples per client...`);
      const config = { host: wire.serverIp, ports, samples, warm: options.warm };
      const client = spawnIn(wire.client, [
        built.bun,
        join(import.meta.dir, "..", "latency", "client.ts"),
        JSON.stringify(config),
      ]);
      const report = await new LineReader(client.stdout).json<LatencyReport>(600_000);
      await client.exited;
      const delta = tfoDelta(before, tcpExtIn(wire.server));
      return { report, passive: delta.TCPFastOpenPassive ?? 0, reqd: delta.TCPFastOpenCookieReqd ?? 0 };
    } finally {
      await stopChild(server);
    }
  } finally {
    await wire.close();
  }
}

/** Runs section 1 at every delay. */
export async function runLatency(
  built: Built,
  options: LatencyOptions,
  log: (line: string) => void,
): Promise<LatencyResult> {
  const result: LatencyResult = { rows: [], skipped: [], serverCounters: [] };
  for (const delayMs of options.delaysMs) {
    const { report, passive, reqd } = await oneDelay(built, options, delayMs, log);
    const rttMs = 2 * delayMs;
    const medians = new Map(report.clients.map((c) => [c.name, median(c.samples)]));
    for (const c of report.clients) {
      const med = medians.get(c.name)!;
      result.rows.push({
        delayMs,
        rttMs,
        client: c.name,
        n: c.samples.length,
        medianMs: med,
        p99Ms: percentile(c.samples, 99),
        ratio: med / (medians.get(c.baseline) ?? Number.NaN),
        baseline: c.baseline,
        limitMs: c.limitRtts * rttMs,
        overLimitMs: med - c.limitRtts * rttMs,
        tfoProven: c.tfoProven,
      });
    }
    for (const s of report.skipped) if (!result.skipped.some((k) => k.name === s.name)) result.skipped.push(s);
    result.serverCounters.push({ delayMs, TCPFastOpenPassive: passive, TCPFastOpenCookieReqd: reqd });
  }
  return result;
}
