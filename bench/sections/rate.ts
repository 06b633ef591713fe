/**
 * Section 2: connection rate, on loopback in a private namespace with TFO on
 * and over the relay link (1500 MTU, a fixed one-way delay). A native epoll
 * server (bench/c/tfo.c) answers every client, so the client is what is
 * measured. Each (client, concurrency) runs `rounds` times for
 * `ms / rounds`, the clients taking turns in a rotating order; every round
 * gives each client's rate and CPU per connection (getrusage) and their
 * ratios to `Bun.connect`'s in the same round. A row shows the median of
 * the rounds and the spread (lowest and highest) of the per-round ratios.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Built } from "../lib/build.ts";
import {
  createNamespace,
  deleteNamespace,
  makeWire,
  namespaceName,
  spawnIn,
  stopChild,
  tcpExtIn,
  tfoDelta,
} from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { median, type Spread, spread } from "../lib/stats.ts";

/** One client at one concurrency. */
export interface RateRow {
  client: string;
  conc: number;
  /** Connections per second: median of the rounds. */
  rate: number;
  rounds: number[];
  /** Rate over Bun.connect's in the same round: median and spread of the rounds. */
  vsBun: number;
  vsBunSpread: Spread;
  /** Over the C client's rate (median of the same-round ratios). */
  vsC: number;
  /** Client CPU (user + system, all threads) per connection, µs: median of the rounds (null for C clients). */
  cpuUs: number | null;
  /** CPU per connection over Bun.connect's in the same round (null for C clients). */
  cpuVsBun: Spread | null;
  /** TCPFastOpenActive increments over connections made (1: every request rode in the SYN); null: not TFO. */
  tfoShare: number | null;
}

/** Section 2's result: the loopback rows and, per link delay, the link rows. */
export interface RateResult {
  rows: RateRow[];
  /** Over the relay link, one entry per RTT (absent in results from before the link runs). */
  link?: Array<{ rttMs: number; rows: RateRow[] }>;
  notes: string[];
}

/** Options of section 2. */
export interface RateOptions {
  concurrencies: number[];
  /** Measured time per client and concurrency, split over the rounds. */
  ms: number;
  rounds: number;
  warmMs: number;
  /** Link runs: one-way delays in µs (RTT = 2x), at `linkConcurrency`. */
  linkDelaysUs: number[];
  linkConcurrency: number;
  linkMs: number;
  linkRounds: number;
}

interface RunResult {
  rate: number;
  made: number;
  cpuUs?: number;
}

interface Runner {
  name: string;
  tfo: boolean;
  supports(conc: number): boolean;
  run(conc: number, ms: number, warmMs: number): Promise<RunResult>;
  stop(): Promise<void>;
}

const PORT = "7000";
const BUN = "Bun.connect";
const C_TFO = "C (raw TFO)";

async function bunRunner(ns: string, host: string, built: Built, kind: string, name: string): Promise<Runner> {
  const script = join(import.meta.dir, "..", "rate", "client.ts");
  const child: Subprocess<"pipe", "pipe", "inherit"> = spawnIn(ns, [built.bun, script, kind, host, PORT]);
  const lines = new LineReader(child.stdout);
  await lines.json<{ ready: boolean }>(30_000);
  return {
    name,
    tfo: kind !== "bun" && kind !== "net",
    supports: (conc) => kind !== "lowlevel" || conc === 1,
    async run(conc, ms, warmMs) {
      child.stdin.write(`${JSON.stringify({ conc, ms, warmMs })}\n`);
      await child.stdin.flush();
      return lines.json<RunResult>(ms + warmMs + 60_000);
    },
    stop: async () => void (await stopChild(child)),
  };
}

/** The C client: raw TFO, raw plain (connect + write), or the TFO loop through libfastopen. */
function cRunner(ns: string, host: string, built: Built, kind: "tfo" | "plain" | "library"): Runner {
  const names = { tfo: C_TFO, plain: "C (plain)", library: "C via libfastopen" };
  return {
    name: names[kind],
    tfo: kind !== "plain",
    supports: (conc) => kind !== "library" || conc === 1,
    async run(conc, ms, warmMs) {
      const args =
        kind === "library"
          ? ["librate", built.library, host, PORT, String(ms), String(warmMs)]
          : ["rate", host, PORT, String(conc), String(ms), String(warmMs), ...(kind === "plain" ? ["plain"] : [])];
      const child = spawnIn(ns, [built.tfo, ...args]);
      const result = await new LineReader(child.stdout).json<RunResult>(ms + warmMs + 30_000);
      await child.exited;
      return result;
    },
    stop: async () => {},
  };
}

interface Round {
  rate: number;
  cpuUs: number | undefined;
}

/** The per-round values of each client at `conc`, with the same-round ratios to Bun.connect and the C client. */
function rowsOf(
  runners: Runner[],
  conc: number,
  samples: Map<string, { rounds: Round[]; made: number; active: number }>,
): RateRow[] {
  const bun = samples.get(`${BUN}@${conc}`)?.rounds ?? [];
  const c = samples.get(`${C_TFO}@${conc}`)?.rounds ?? [];
  const rows: RateRow[] = [];
  for (const runner of runners) {
    const entry = samples.get(`${runner.name}@${conc}`);
    if (entry === undefined) continue;
    const rates = entry.rounds.map((r) => r.rate);
    const vsBun = spread(entry.rounds.map((r, i) => r.rate / (bun[i]?.rate ?? Number.NaN)));
    const cpus = entry.rounds.map((r) => r.cpuUs);
    const hasCpu = cpus.every((v) => v !== undefined);
    rows.push({
      client: runner.name,
      conc,
      rate: median(rates),
      rounds: rates,
      vsBun: vsBun.median,
      vsBunSpread: vsBun,
      vsC: median(entry.rounds.map((r, i) => r.rate / (c[i]?.rate ?? Number.NaN))),
      cpuUs: hasCpu ? median(cpus as number[]) : null,
      cpuVsBun: hasCpu ? spread(cpus.map((v, i) => (v as number) / (bun[i]?.cpuUs ?? Number.NaN))) : null,
      tfoShare: runner.tfo ? Math.min(1, entry.active / Math.max(1, entry.made)) : null,
    });
  }
  return rows;
}

/** Runs every runner `rounds` times at each concurrency, in a rotating order; reads TFO counters in `ns`. */
async function measure(
  ns: string,
  runners: Runner[],
  concurrencies: number[],
  options: { ms: number; rounds: number; warmMs: number },
  log: (line: string) => void,
): Promise<RateRow[]> {
  const slice = Math.max(200, Math.round(options.ms / options.rounds));
  const samples = new Map<string, { rounds: Round[]; made: number; active: number }>();
  for (let round = 0; round < options.rounds; round++) {
    log(`  round ${round + 1}/${options.rounds}: ${slice} ms per client and concurrency...`);
    for (const conc of concurrencies) {
      for (let k = 0; k < runners.length; k++) {
        const runner = runners[(k + round) % runners.length]!;
        if (!runner.supports(conc)) continue;
        const before = tcpExtIn(ns);
        const { rate, made, cpuUs } = await runner.run(conc, slice, options.warmMs);
        const active = tfoDelta(before, tcpExtIn(ns)).TCPFastOpenActive ?? 0;
        const key = `${runner.name}@${conc}`;
        const entry = samples.get(key) ?? { rounds: [], made: 0, active: 0 };
        entry.rounds.push({ rate, cpuUs });
        entry.made += made;
        entry.active += active;
        samples.set(key, entry);
      }
    }
  }
  return concurrencies.flatMap((conc) => rowsOf(runners, conc, samples));
}

async function startServer(ns: string, built: Built): Promise<Subprocess<"pipe", "pipe", "inherit">> {
  const server = spawnIn(ns, [built.tfo, "server", PORT]);
  const ready = await new LineReader(server.stdout).next(10_000);
  if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
  return server;
}

async function loopback(built: Built, options: RateOptions, log: (line: string) => void): Promise<RateRow[]> {
  const ns = createNamespace(namespaceName("rate"));
  const host = "::1";
  const runners: Runner[] = [];
  let server: Subprocess<"pipe", "pipe", "inherit"> | undefined;
  try {
    server = await startServer(ns, built);
    runners.push(
      await bunRunner(ns, host, built, "connect", "connect"),
      await bunRunner(ns, host, built, "bare", "bare fd path"),
      await bunRunner(ns, host, built, "lowlevel", "lowlevel"),
      await bunRunner(ns, host, built, "bun", BUN),
      await bunRunner(ns, host, built, "net", "node:net"),
      cRunner(ns, host, built, "tfo"),
      cRunner(ns, host, built, "plain"),
      cRunner(ns, host, built, "library"),
    );
    return await measure(ns, runners, options.concurrencies, options, log);
  } finally {
    for (const runner of runners) await runner.stop();
    if (server !== undefined) await stopChild(server, 500);
    deleteNamespace(ns);
  }
}

async function overLink(
  built: Built,
  options: RateOptions,
  delayUs: number,
  log: (line: string) => void,
): Promise<RateRow[]> {
  const wire = await makeWire(`r${delayUs}`, built.relay, delayUs);
  const runners: Runner[] = [];
  let server: Subprocess<"pipe", "pipe", "inherit"> | undefined;
  try {
    server = await startServer(wire.server, built);
    const host = wire.serverIp;
    runners.push(
      await bunRunner(wire.client, host, built, "connect", "connect"),
      await bunRunner(wire.client, host, built, "bare", "bare fd path"),
      await bunRunner(wire.client, host, built, "bun", BUN),
      cRunner(wire.client, host, built, "tfo"),
      cRunner(wire.client, host, built, "plain"),
    );
    const plan = { ms: options.linkMs, rounds: options.linkRounds, warmMs: options.warmMs };
    return await measure(wire.client, runners, [options.linkConcurrency], plan, log);
  } finally {
    for (const runner of runners) await runner.stop();
    if (server !== undefined) await stopChild(server, 500);
    await wire.close();
  }
}

/** Runs section 2: loopback, then the relay link at each delay. */
export async function runRate(built: Built, options: RateOptions, log: (line: string) => void): Promise<RateResult> {
  const rows = await loopback(built, options, log);
  const link: Array<{ rttMs: number; rows: RateRow[] }> = [];
  for (const delayUs of options.linkDelaysUs) {
    log(`  relay link, RTT ${(2 * delayUs) / 1000} ms, concurrency ${options.linkConcurrency}:`);
    link.push({ rttMs: (2 * delayUs) / 1000, rows: await overLink(built, options, delayUs, log) });
  }
  const notes = [
    "lowlevel and C via libfastopen are blocking loops: concurrency 1 only.",
    "C clients: one blocking loop at concurrency 1, one epoll loop otherwise; the server is the same C epoll " +
      "server for all. C (plain) is connect + write: TFO's baseline in C.",
    "bare fd path: fo_connect_start (request in the SYN) + Bun.connect({ fd }) with plain handlers.",
  ];
  return { rows, link, notes };
}
