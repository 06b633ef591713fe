/**
 * Section 4: RSS and fds before and after many connections through
 * `connect()` and `createConnection`, with `Bun.connect` doing the same as
 * the reference for what the runtime itself retains. Loopback in a private namespace, the native
 * server answering.
 */
import { join } from "node:path";
import type { Built } from "../lib/build.ts";
import type { LoopKind } from "../lib/clients.ts";
import { createNamespace, deleteNamespace, namespaceName, spawnIn, stopChild, tcpExtIn, tfoDelta } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import type { Footprint } from "../memory/client.ts";

/** One client's footprint over the run. */
export interface MemoryRow {
  client: string;
  connections: number;
  series: Footprint[];
  rssGrowthMB: number;
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
}

const MB = 1024 * 1024;

/** The clients measured: `connect()`, `createConnection` (node:net-style), and `Bun.connect` as the reference. */
const CLIENTS: Array<[LoopKind, string]> = [
  ["connect", "connect"],
  ["createConnection", "createConnection"],
  ["bun", "Bun.connect"],
];

/** Runs section 4. */
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
    const rows: MemoryRow[] = [];
    for (const [kind, name] of CLIENTS) {
      log(`  ${options.total} connections through ${name}...`);
      const before = tcpExtIn(ns);
      const config = { kind, host: "::1", port: 7000, ...options };
      const child = spawnIn(ns, [
        built.bun,
        join(import.meta.dir, "..", "memory", "client.ts"),
        JSON.stringify(config),
      ]);
      const report = await new LineReader(child.stdout).json<{
        series: Footprint[];
        topObjectTypes: Record<string, number>;
      }>(900_000);
      await child.exited;
      const first = report.series[0]!;
      const last = report.series[report.series.length - 1]!;
      rows.push({
        client: name,
        connections: options.total,
        series: report.series,
        rssGrowthMB: (last.rssBytes - first.rssBytes) / MB,
        fdGrowth: last.fds - first.fds,
        heapGrowthMB: (last.heapBytes - first.heapBytes) / MB,
        objectGrowth: last.objects - first.objects,
        topObjectTypes: report.topObjectTypes,
        tfoActive: tfoDelta(before, tcpExtIn(ns)).TCPFastOpenActive ?? 0,
      });
    }
    return rows;
  } finally {
    await stopChild(server, 1000);
    deleteNamespace(ns);
  }
}
