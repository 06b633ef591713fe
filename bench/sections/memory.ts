/**
 * Section 4: RSS and fds before and after many connections through
 * `connect()` and `createConnection`, with `Bun.connect` doing the same as
 * the reference for what the runtime itself retains; `runs` fresh processes
 * per client, in turns. Loopback in a private namespace, the native
 * server answering. Also the JS heap bytes allocated per connection, from
 * JSC's own GC log (`BUN_JSC_logGC`): what each collection found allocated
 * since the previous one, summed between the first and the last sample.
 */
import { join } from "node:path";
import type { Built } from "../lib/build.ts";
import type { LoopKind } from "../lib/clients.ts";
import { createNamespace, deleteNamespace, namespaceName, spawnIn, stopChild, tcpExtIn, tfoDelta } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { median, type Spread, spread } from "../lib/stats.ts";
import type { Footprint } from "../memory/client.ts";

/** One client's footprint over the run. */
export interface MemoryRow {
  client: string;
  connections: number;
  series: Footprint[];
  /** RSS growth, first to last sample: median of the runs (each run's in `rssGrowthRuns`). */
  rssGrowthMB: number;
  rssGrowthRuns?: number[];
  /** Growth over Bun.connect's in the same round. */
  rssVsBun?: Spread;
  /** JS heap bytes allocated per connection (JSC's GC log), over the runs. */
  allocatedPerConnection?: Spread;
  /** Over Bun.connect's in the same round. */
  allocatedVsBun?: Spread;
  /** Largest fd growth of the runs. */
  fdGrowth: number;
  heapGrowthMB: number;
  objectGrowth: number;
  topObjectTypes: Record<string, number>;
  /** TCPFastOpenActive increments during the run (connect: every connection). */
  tfoActive: number;
}

/** Options of section 4. */
export interface MemoryOptions {
  total: number;
  conc: number;
  warm: number;
  checkpoints: number;
  /** Fresh processes per client, taken in turns: the growth is the median, with the same-round ratio's spread. */
  runs: number;
}

const MB = 1024 * 1024;

/** The clients measured: `connect()`, `createConnection` (node:net-style), and `Bun.connect` as the reference. */
const CLIENTS: Array<[LoopKind, string]> = [
  ["connect", "connect"],
  ["createConnection", "createConnection"],
  ["bun", "Bun.connect"],
];

/** One fresh process's figures. */
export interface MemoryRun {
  series: Footprint[];
  topObjectTypes: Record<string, number>;
  tfoActive: number;
  /** JS heap bytes allocated between the first and the last sample. */
  allocatedBytes: number;
  /** Collections between the first and the last sample. */
  gcs: number;
}

const MARK = "@@mark";
const GC_START = /START \S+ (\d+)kb =>/;
const GC_END = /=> (\d+)kb, p=/;

/**
 * JS heap bytes allocated between the first and the last `@@mark` line of a
 * JSC GC log (bench/memory/client.ts prints one after each sample's GC):
 * each collection's heap size at its start less the size the previous one
 * left. Never negative.
 */
export function allocatedBetweenMarks(log: string): { bytes: number; gcs: number } {
  let marks = 0;
  let left: number | null = null;
  let bytes = 0;
  let gcs = 0;
  let atMark = { bytes: 0, gcs: 0 };
  for (const line of log.split("\n")) {
    if (line === MARK) {
      marks++;
      atMark = { bytes, gcs };
      continue;
    }
    const start = GC_START.exec(line);
    if (start !== null && marks > 0 && left !== null) {
      bytes += Math.max(0, Number(start[1]) * 1024 - left);
      gcs++;
    }
    const end = GC_END.exec(line);
    if (end !== null) left = Number(end[1]) * 1024;
  }
  return atMark;
}

/** `total` connections through `kind` in a fresh process (bench/memory/client.ts) in `ns`, port 7000. */
export async function memoryRun(
  bunPath: string,
  ns: string,
  kind: LoopKind,
  options: Omit<MemoryOptions, "runs">,
): Promise<MemoryRun> {
  const before = tcpExtIn(ns);
  const config = { kind, host: "::1", port: 7000, marks: true, ...options };
  const script = join(import.meta.dir, "..", "memory", "client.ts");
  const child = Bun.spawn(["ip", "netns", "exec", ns, bunPath, script, JSON.stringify(config)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUN_JSC_logGC: "1" },
  });
  const log = new Response(child.stderr).text();
  const report = await new LineReader(child.stdout).json<Omit<MemoryRun, "tfoActive" | "allocatedBytes" | "gcs">>(
    900_000,
  );
  await child.exited;
  const { bytes, gcs } = allocatedBetweenMarks(await log);
  return { ...report, tfoActive: tfoDelta(before, tcpExtIn(ns)).TCPFastOpenActive ?? 0, allocatedBytes: bytes, gcs };
}

const growth = (series: Footprint[], key: "rssBytes" | "heapBytes" | "objects" | "fds"): number =>
  series[series.length - 1]![key] - series[0]![key];

/** One client's row from its runs; `bun`: Bun.connect's runs, for the same-run ratios. */
function rowOf(name: string, runs: MemoryRun[], bun: MemoryRun[], options: MemoryOptions): MemoryRow {
  const rss = runs.map((r) => growth(r.series, "rssBytes") / MB);
  const bunRss = bun.map((r) => growth(r.series, "rssBytes") / MB);
  const allocated = runs.map((r) => r.allocatedBytes / options.total);
  const bunAllocated = bun.map((r) => r.allocatedBytes / options.total);
  return {
    client: name,
    connections: options.total,
    series: runs[0]!.series,
    rssGrowthMB: median(rss),
    rssGrowthRuns: rss,
    rssVsBun: spread(rss.map((v, i) => v / (bunRss[i] ?? Number.NaN))),
    allocatedPerConnection: spread(allocated),
    allocatedVsBun: spread(allocated.map((v, i) => v / (bunAllocated[i] ?? Number.NaN))),
    fdGrowth: Math.max(...runs.map((r) => growth(r.series, "fds"))),
    heapGrowthMB: median(runs.map((r) => growth(r.series, "heapBytes") / MB)),
    objectGrowth: median(runs.map((r) => growth(r.series, "objects"))),
    topObjectTypes: runs[0]!.topObjectTypes,
    tfoActive: runs.reduce((n, r) => n + r.tfoActive, 0),
  };
}

/** Runs section 4: `runs` rounds, each client once per round in a rotating order, a fresh process each time. */
export async function runMemory(
  built: Built,
  options: MemoryOptions,
  log: (line: string) => void,
): Promise<MemoryRow[]> {
  const ns = createNamespace(namespaceName("mem"));
  const server = spawnIn(ns, [built.tfo, "server", "7000"]);
  try {
    const ready = await new LineReader(server.stdout).next(10_000);
    if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
    const runs = new Map<string, MemoryRun[]>(CLIENTS.map(([, name]) => [name, []]));
    for (let round = 0; round < options.runs; round++) {
      for (let k = 0; k < CLIENTS.length; k++) {
        const [kind, name] = CLIENTS[(k + round) % CLIENTS.length]!;
        log(`  round ${round + 1}/${options.runs}: ${options.total} connections through ${name}...`);
        runs.get(name)!.push(await memoryRun(built.bun, ns, kind, options));
      }
    }
    const bun = runs.get("Bun.connect")!;
    return CLIENTS.map(([, name]) => rowOf(name, runs.get(name)!, bun, options));
  } finally {
    await stopChild(server, 1000);
    deleteNamespace(ns);
  }
}
