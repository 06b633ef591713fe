/**
 * Time to the first response byte over TLS 1.3 at an emulated RTT: the
 * bench's delay relay between a client and a server namespace (TUN devices,
 * MTU 1500, IPv6: a SYN holds 1,400 B), the latency server's TLS echo
 * (`listen()` with TFO: 64 B request, 64 B answer), and four clients taking
 * turns in paired rounds (one connection each per round, the order rotating):
 * - `Bun.connect TLS`: Bun's default settings, no TFO (the baseline);
 * - `connect tls default`: `connect({ tls })` with Bun's default ClientHello
 *   (X25519MLKEM768 and X25519 key shares, about 1,470 B: does not fit);
 * - `connect tls x25519`: `ecdhCurve: "X25519"` (about 250 B: fits);
 * - `connect tls pq-tls13`: `ecdhCurve: "X25519MLKEM768"`, `minVersion`
 *   TLS 1.3 (0x0304; about 1,380 B: fits).
 * Each `connect()` client's connections are checked with `fastOpenStatus`
 * (what rode in the SYN, the reason) and the server namespace's TcpExt
 * counters. Prints per client the median time with its 10th-90th
 * percentiles, and the paired ratio to the baseline (median of the per-round
 * ratios, with their 25th-75th percentiles). Needs root (namespaces).
 *
 *   bun bench/tls-first-byte.ts [--rounds 40] [--warm 3] [--delay-ms 10] [--json]
 *
 * `--delay-ms` is the one-way delay (RTT twice that).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SocketHandler, TLSOptions } from "bun";
import { connect } from "../src/connect/connect.ts";
import { fastOpenStatus } from "../src/connect/status.ts";
import type { ServerPorts } from "./latency/protocol.ts";
import { flag } from "./lib/args.ts";
import { build, makeCertificate } from "./lib/build.ts";
import { installCleanup, makeWire, spawnIn, stopChild, tcpExtIn, tfoDelta } from "./lib/ns.ts";
import { LineReader, reply } from "./lib/proc.ts";
import { median, percentile } from "./lib/stats.ts";

const CLIENT = "--client";
const REQUEST = new Uint8Array(64).fill(0x71);
const BASELINE = "Bun.connect TLS";

/** The TLS settings compared, as given to `connect({ tls })` (TLS1_3_VERSION is 0x0304). */
const SETTINGS: Record<string, object> = {
  default: {},
  x25519: { ecdhCurve: "X25519" },
  "pq-tls13": { ecdhCurve: "X25519MLKEM768", minVersion: 0x0304 },
};

interface ClientConfig {
  host: string;
  port: number;
  cert: string;
  rounds: number;
  warm: number;
}

/** One client's samples and, for `connect()` clients, what its connections' reports said. */
interface ClientResult {
  name: string;
  samples: number[];
  /** `reason` of each measured connection, counted (null: not a connect() client). */
  reasons: Record<string, number> | null;
  /** `bytesInSyn` / `bytesAfterHandshake` of the last measured connection. */
  split: { bytesInSyn: number; bytesAfterHandshake: number } | null;
}

interface Sample {
  ms: number;
  status: { reason: string; bytesInSyn: number; bytesAfterHandshake: number } | null;
}

/** Handlers that write the request once the connection is up and resolve at the first answer byte. */
function firstByte(watched: boolean): {
  handlers: SocketHandler<undefined>;
  at: Promise<number>;
  sample: () => Sample["status"];
} {
  const done = Promise.withResolvers<number>();
  let status: Sample["status"] = null;
  const handlers: SocketHandler<undefined> = {
    open: (socket) => void socket.write(REQUEST),
    data(socket) {
      const now = performance.now();
      if (watched) {
        const { reason, bytesInSyn, bytesAfterHandshake } = fastOpenStatus(socket);
        status = { reason, bytesInSyn, bytesAfterHandshake };
      }
      done.resolve(now);
      socket.end();
    },
    error: (_socket, error) => done.reject(error),
    close: () => done.reject(new Error("closed before the answer")),
  };
  return { handlers, at: done.promise, sample: () => status };
}

async function viaConnect(config: ClientConfig, tls: TLSOptions): Promise<Sample> {
  const probe = firstByte(true);
  const t0 = performance.now();
  await connect({ hostname: config.host, port: config.port, tls, socket: probe.handlers });
  const t1 = await probe.at;
  return { ms: t1 - t0, status: probe.sample() };
}

async function viaBun(config: ClientConfig, tls: TLSOptions): Promise<Sample> {
  const probe = firstByte(false);
  const t0 = performance.now();
  await Bun.connect({ hostname: config.host, port: config.port, tls, socket: probe.handlers });
  const t1 = await probe.at;
  return { ms: t1 - t0, status: null };
}

/** The client namespace's side: paired rounds, one connection per client each, the order rotating. */
async function clientMain(config: ClientConfig): Promise<void> {
  const base = { ca: readFileSync(config.cert, "utf8"), serverName: "localhost" };
  const list: Array<{ name: string; once: () => Promise<Sample> }> = [
    { name: BASELINE, once: () => viaBun(config, base) },
    ...Object.entries(SETTINGS).map(([name, options]) => ({
      name: `connect tls ${name}`,
      once: () => viaConnect(config, { ...base, ...options } as TLSOptions),
    })),
  ];
  const results: ClientResult[] = list.map((c) => ({ name: c.name, samples: [], reasons: null, split: null }));
  for (let round = 0; round < config.warm + config.rounds; round++) {
    for (let k = 0; k < list.length; k++) {
      const index = (k + round) % list.length;
      const sample = await list[index]!.once();
      await Bun.sleep(2);
      if (round < config.warm) continue;
      const result = results[index]!;
      result.samples.push(sample.ms);
      if (sample.status === null) continue;
      result.reasons ??= {};
      result.reasons[sample.status.reason] = (result.reasons[sample.status.reason] ?? 0) + 1;
      result.split = { bytesInSyn: sample.status.bytesInSyn, bytesAfterHandshake: sample.status.bytesAfterHandshake };
    }
  }
  reply({ clients: results });
}

/** One row of the summary. */
interface Row {
  name: string;
  n: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  /** Median of the per-round ratios to the baseline, and their 25th and 75th percentiles. */
  ratio: number;
  ratioP25: number;
  ratioP75: number;
  reasons: Record<string, number> | null;
  split: ClientResult["split"];
}

function summarize(clients: ClientResult[]): Row[] {
  const baseline = clients.find((c) => c.name === BASELINE)!;
  return clients.map((c) => {
    const ratios = c.samples.map((ms, i) => ms / baseline.samples[i]!);
    return {
      name: c.name,
      n: c.samples.length,
      medianMs: median(c.samples),
      p10Ms: percentile(c.samples, 10),
      p90Ms: percentile(c.samples, 90),
      ratio: median(ratios),
      ratioP25: percentile(ratios, 25),
      ratioP75: percentile(ratios, 75),
      reasons: c.reasons,
      split: c.split,
    };
  });
}

function print(rows: Row[], delayMs: number, passive: number): void {
  console.log(`TLS 1.3 first response byte, RTT ${2 * delayMs} ms (relay, MTU 1500, IPv6), paired rounds`);
  console.log(
    "client                  median ms (p10-p90)      ratio to Bun.connect TLS (p25-p75)  in SYN / after, reasons",
  );
  for (const r of rows) {
    const ms = `${r.medianMs.toFixed(1)} (${r.p10Ms.toFixed(1)}-${r.p90Ms.toFixed(1)})`;
    const ratio = `${r.ratio.toFixed(2)}x (${r.ratioP25.toFixed(2)}-${r.ratioP75.toFixed(2)})`;
    const split = r.split === null ? "" : `${r.split.bytesInSyn} B / ${r.split.bytesAfterHandshake} B, `;
    const reasons = r.reasons === null ? "" : JSON.stringify(r.reasons);
    console.log(`${r.name.padEnd(24)}${ms.padEnd(25)}${ratio.padEnd(36)}${split}${reasons}`);
  }
  console.log(`server namespace: TCPFastOpenPassive +${passive} (n = ${rows[0]?.n ?? 0} per client, plus warm-up)`);
}

async function outerMain(): Promise<void> {
  installCleanup();
  const rounds = flag("--rounds", 40);
  const warm = flag("--warm", 3);
  const delayMs = flag("--delay-ms", 10);
  const json = process.argv.includes("--json");
  const built = build((line) => console.error(line));
  const cert = makeCertificate();
  const wire = await makeWire("tls", built.relay, delayMs * 1000);
  try {
    const serverScript = join(import.meta.dir, "latency", "server.ts");
    const server = spawnIn(wire.server, [built.bun, serverScript, wire.serverIp, cert.cert, cert.key]);
    try {
      const { ports } = await new LineReader(server.stdout).json<{ ports: ServerPorts }>(15_000);
      const before = tcpExtIn(wire.server);
      const config: ClientConfig = { host: wire.serverIp, port: ports.tls, cert: cert.cert, rounds, warm };
      const client = spawnIn(wire.client, [built.bun, import.meta.path, CLIENT, JSON.stringify(config)]);
      const report = await new LineReader(client.stdout).json<{ clients: ClientResult[] }>(600_000);
      await client.exited;
      const passive = tfoDelta(before, tcpExtIn(wire.server)).TCPFastOpenPassive ?? 0;
      const rows = summarize(report.clients);
      if (json) console.log(JSON.stringify({ delayMs, rttMs: 2 * delayMs, rows, passive }));
      else print(rows, delayMs, passive);
    } finally {
      await stopChild(server);
    }
  } finally {
    await wire.close();
  }
}

const at = process.argv.indexOf(CLIENT);
if (at >= 0) await clientMain(JSON.parse(process.argv[at + 1] ?? "{}") as ClientConfig);
else await outerMain();
process.exit(0);
