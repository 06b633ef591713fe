/**
 * First-flight latency of optimistic connect: a client that waits for
 * `'connect'` before writing its 64-byte request (as ioredis, pg, undici and
 * most clients do), through `createConnection` (optimistic, the default),
 * through `createConnection({ optimistic: false })` and through `node:net`,
 * over the delay relay (bench/relay) at RTT 20 ms and 2 ms. A sample is the
 * time from the connect call to the first response byte. The clients take
 * turns, one connection at a time, the order rotating every sample; each
 * round gives each client's median, and the ratios to node:net are taken per
 * round: printed as the median ratio with its spread (lowest, highest) over
 * the rounds. Every optimistic connection is checked on TCP_INFO (the
 * request in the SYN and acknowledged). Needs Linux, root, /dev/net/tun.
 *
 *   bun bench/optimistic.ts [--rounds 5] [--samples 20] [--json]
 */
import net from "node:net";
import { join } from "node:path";
import { createConnection } from "../src/node/create-connection.ts";
import { MESSAGE_BYTES, type ServerPorts } from "./latency/protocol.ts";
import { flag } from "./lib/args.ts";
import { type Built, build, makeCertificate } from "./lib/build.ts";
import { installCleanup, makeWire, spawnIn, stopChild } from "./lib/ns.ts";
import { LineReader, reply } from "./lib/proc.ts";
import { median, type Spread, spread } from "./lib/stats.ts";

/** One-way delays (ms) of the relay: RTT 20 ms and 2 ms. */
const DELAYS_MS = [10, 1];
const CLIENTS = ["optimistic", "optimistic: false", "node:net"] as const;
type ClientName = (typeof CLIENTS)[number];
const REQUEST = new Uint8Array(MESSAGE_BYTES).fill(0x71);

interface ClientConfig {
  host: string;
  port: number;
  rounds: number;
  samples: number;
  warm: number;
}

/** Per round, per client: the samples (ms); and the optimistic connections proven in the SYN. */
interface ClientReport {
  rounds: Array<Record<ClientName, number[]>>;
  inSyn: number;
  optimisticTotal: number;
}

/** One connection: connect, write on 'connect', ms to the first response byte; whether the request rode. */
function once(name: ClientName, host: string, port: number): Promise<{ ms: number; inSyn: boolean }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket =
      name === "node:net"
        ? net.connect({ host, port })
        : createConnection({ host, port, optimistic: name === "optimistic" });
    socket.once("connect", () => socket.write(REQUEST));
    socket.once("data", () => {
      const ms = performance.now() - t0;
      const status = "fastOpenStatus" in socket ? socket.fastOpenStatus() : null;
      socket.end();
      socket.once("close", () => resolve({ ms, inSyn: status?.sent === true && status.acked }));
    });
    socket.once("error", reject);
  });
}

/** The client side, run in the client namespace: prints one `ClientReport` line. */
async function clientMain(config: ClientConfig): Promise<void> {
  for (let i = 0; i < config.warm; i++) for (const name of CLIENTS) await once(name, config.host, config.port);
  const report: ClientReport = { rounds: [], inSyn: 0, optimisticTotal: 0 };
  let turn = 0;
  for (let r = 0; r < config.rounds; r++) {
    const round = Object.fromEntries(CLIENTS.map((c) => [c, [] as number[]])) as Record<ClientName, number[]>;
    for (let s = 0; s < config.samples; s++) {
      for (let k = 0; k < CLIENTS.length; k++) {
        const name = CLIENTS[(turn + k) % CLIENTS.length]!;
        const { ms, inSyn } = await once(name, config.host, config.port);
        round[name].push(ms);
        if (name === "optimistic") {
          report.optimisticTotal++;
          if (inSyn) report.inSyn++;
        }
      }
      turn++;
    }
    report.rounds.push(round);
  }
  reply(report);
}

/** What one delay gave: each client's median ms over all samples, and the per-round ratios to node:net. */
interface DelayResult {
  rttMs: number;
  medianMs: Record<ClientName, number>;
  ratio: Record<ClientName, Spread>;
  inSyn: number;
  optimisticTotal: number;
}

function summarize(rttMs: number, report: ClientReport): DelayResult {
  const all = (c: ClientName): number[] => report.rounds.flatMap((r) => r[c]);
  const perRound = (c: ClientName): number[] => report.rounds.map((r) => median(r[c]) / median(r["node:net"]));
  const medianMs = Object.fromEntries(CLIENTS.map((c) => [c, median(all(c))])) as Record<ClientName, number>;
  const ratio = Object.fromEntries(CLIENTS.map((c) => [c, spread(perRound(c))])) as Record<ClientName, Spread>;
  return { rttMs, medianMs, ratio, inSyn: report.inSyn, optimisticTotal: report.optimisticTotal };
}

async function oneDelay(built: Built, delayMs: number, rounds: number, samples: number): Promise<DelayResult> {
  const cert = makeCertificate();
  const wire = await makeWire(`o${delayMs}`, built.relay, delayMs * 1000);
  try {
    const serverScript = join(import.meta.dir, "latency", "server.ts");
    const server = spawnIn(wire.server, [built.bun, serverScript, wire.serverIp, cert.cert, cert.key]);
    try {
      const { ports } = await new LineReader(server.stdout).json<{ ports: ServerPorts }>(15_000);
      const config: ClientConfig = { host: wire.serverIp, port: ports.plain, rounds, samples, warm: 3 };
      const client = spawnIn(wire.client, [built.bun, import.meta.path, "--client", JSON.stringify(config)]);
      const report = await new LineReader(client.stdout).json<ClientReport>(600_000);
      await client.exited;
      return summarize(2 * delayMs, report);
    } finally {
      await stopChild(server);
    }
  } finally {
    await wire.close();
  }
}

function print(results: DelayResult[], rounds: number, samples: number): void {
  console.log(`first-flight latency, a client that writes on 'connect' (${rounds} rounds x ${samples} samples)`);
  console.log("client              | RTT | median ms | vs node:net, median of rounds (low - high)");
  for (const r of results) {
    for (const c of CLIENTS) {
      const { median: m, low, high } = r.ratio[c];
      const line = `${c.padEnd(19)} | ${String(r.rttMs).padStart(3)} | ${r.medianMs[c].toFixed(2).padStart(9)} |`;
      console.log(`${line} ${m.toFixed(2)} (${low.toFixed(2)} - ${high.toFixed(2)})`);
    }
    console.log(`  RTT ${r.rttMs} ms: optimistic requests in the SYN (TCP_INFO): ${r.inSyn}/${r.optimisticTotal}`);
  }
}

if (process.argv[2] === "--client") {
  await clientMain(JSON.parse(process.argv[3] ?? "{}") as ClientConfig);
  process.exit(0);
} else {
  installCleanup();
  const rounds = flag("--rounds", 5);
  const samples = flag("--samples", 20);
  const built = build((line) => console.error(line));
  const results: DelayResult[] = [];
  for (const delayMs of DELAYS_MS) results.push(await oneDelay(built, delayMs, rounds, samples));
  if (process.argv.includes("--json")) console.log(JSON.stringify({ date: new Date().toISOString(), results }));
  else print(results, rounds, samples);
}
