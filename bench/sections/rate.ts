/**
 * Section 2: connection rate on loopback in a private namespace with TFO on.
 * A native epoll server (bench/c/tfo.c) answers every client, so the client
 * is what is measured. Each (client, concurrency) runs `rounds` times for
 * `ms / rounds`, the clients taking turns, and the rate is the median of
 * the rounds: slow drifts of a shared machine then hit all clients alike.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Built } from "../lib/build.ts";
import { createNamespace, deleteNamespace, namespaceName, spawnIn, stopChild, tcpExtIn, tfoDelta } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { median } from "../lib/stats.ts";

/** One client at one concurrency. */
export interface RateRow {
  client: string;
  conc: number;
  /** Connections per second: median of the rounds. */
  rate: number;
  rounds: number[];
  /** Over Bun.connect's rate at the same concurrency. */
  vsBun: number;
  /** Over the C client's rate at the same concurrency. */
  vsC: number;
  /**
   * TCPFastOpenActive increments over connections made (1: every request rode in the SYN), null for non-TFO clients.
   */
  tfoShare: number | null;
}

/** Section 2's result. */
export interface RateResult {
  rows: RateRow[];
  notes: string[];
}

/** Options of section 2. */
export interface RateOptions {
  concurrencies: number[];
  /** Measured time per client and concurrency, split over the rounds. */
  ms: number;
  rounds: number;
  warmMs: number;
}

interface Runner {
  name: string;
  tfo: boolean;
  supports(conc: number): boolean;
  run(conc: number, ms: number, warmMs: number): Promise<{ rate: number; made: number }>;
  stop(): Promise<void>;
}

const PORT = "7000";
const HOST = "::1";

async function bunRunner(ns: string, built: Built, kind: string, name: string, tfo: boolean): Promise<Runner> {
  const child: Subprocess<"pipe", "pipe", "inherit"> = spawnIn(ns, [
    built.bun,
    join(import.meta.dir, "..", "rate", "client.ts"),
    kind,
    HOST,
    PORT,
  ]);
  const lines = new LineReader(child.stdout);
  await lines.json<{ ready: boolean }>(30_000);
  return {
    name,
    tfo,
    supports: (conc) => kind !== "lowlevel" || conc === 1,
    async run(conc, ms, warmMs) {
      child.stdin.write(`${JSON.stringify({ conc, ms, warmMs })}\n`);
      await child.stdin.flush();
      return lines.json<{ rate: number; made: number }>(ms + warmMs + 60_000);
    },
    stop: async () => void (await stopChild(child)),
  };
}

function cRunner(ns: string, built: Built, library: boolean): Runner {
  return {
    name: library ? "C via libfastopen" : "C (raw TFO)",
    tfo: true,
    supports: (conc) => !library || conc === 1,
    async run(conc, ms, warmMs) {
      const args = library
        ? ["librate", built.library, HOST, PORT, String(ms), String(warmMs)]
        : ["rate", HOST, PORT, String(conc), String(ms), String(warmMs)];
      const child = spawnIn(ns, [built.tfo, ...args]);
      const result = await new LineReader(child.stdout).json<{ rate: number; made: number }>(ms + warmMs + 30_000);
      await child.exited;
      return result;
    },
    stop: async () => {},
  };
}

/** Runs section 2. */
export async function runRate(built: Built, options: RateOptions, log: (line: string) => void): Promise<RateResult> {
  const ns = createNamespace(namespaceName("rate"));
  const server = spawnIn(ns, [built.tfo, "server", PORT]);
  const runners: Runner[] = [];
  try {
    const ready = await new LineReader(server.stdout).next(10_000);
    if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
    runners.push(
      await bunRunner(ns, built, "connect", "connect", true),
      await bunRunner(ns, built, "lowlevel", "lowlevel", true),
      await bunRunner(ns, built, "bun", "Bun.connect", false),
      await bunRunner(ns, built, "net", "node:net", false),
      cRunner(ns, built, false),
      cRunner(ns, built, true),
    );
    const slice = Math.max(200, Math.round(options.ms / options.rounds));
    const samples = new Map<string, { rates: number[]; made: number; active: number }>();
    for (let round = 0; round < options.rounds; round++) {
      log(`  round ${round + 1}/${options.rounds}: ${slice} ms per client and concurrency...`);
      for (const conc of options.concurrencies) {
        for (let k = 0; k < runners.length; k++) {
          const runner = runners[(k + round) % runners.length]!;
          if (!runner.supports(conc)) continue;
          const before = tcpExtIn(ns);
          const { rate, made } = await runner.run(conc, slice, options.warmMs);
          const active = tfoDelta(before, tcpExtIn(ns)).TCPFastOpenActive ?? 0;
          const key = `${runner.name}@${conc}`;
          const entry = samples.get(key) ?? { rates: [], made: 0, active: 0 };
          entry.rates.push(rate);
          entry.made += made;
          entry.active += active;
          samples.set(key, entry);
        }
      }
    }
    const rows: RateRow[] = [];
    for (const conc of options.concurrencies) {
      const bun = median(samples.get(`Bun.connect@${conc}`)?.rates ?? []);
      const c = median(samples.get(`C (raw TFO)@${conc}`)?.rates ?? []);
      for (const runner of runners) {
        const entry = samples.get(`${runner.name}@${conc}`);
        if (entry === undefined) continue;
        const rate = median(entry.rates);
        rows.push({
          client: runner.name,
          conc,
          rate,
          rounds: entry.rates,
          vsBun: rate / bun,
          vsC: rate / c,
          tfoShare: runner.tfo ? Math.min(1, entry.active / Math.max(1, entry.made)) : null,
        });
      }
    }
    const notes = [
      "lowlevel and C via libfastopen are blocking loops: concurrency 1 only.",
      "C (raw TFO): one blocking loop at concurrency 1, one epoll loop otherwise; the server is the " +
        "same C epoll server for all.",
    ];
    return { rows, notes };
  } finally {
    for (const runner of runners) await runner.stop();
    await stopChild(server, 500);
    deleteNamespace(ns);
  }
}
