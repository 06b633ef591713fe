/**
 * Memory and descriptors over many connections: `total` connections (64-byte
 * request, 64-byte response, close) through one client kind (bench/lib/clients.ts),
 * `conc` at a time, with RSS, open fds and the JS heap sampled (after a full
 * GC) before, at checkpoints, and after. A warm-up of `warm` connections
 * comes first so that one-time costs (JIT, the library, pools) are not
 * counted as growth.
 *
 *   bun bench/memory/client.ts \
 *     '{"kind":"connect","host":"::1","port":7000,"total":100000,"conc":16,"warm":2000,"checkpoints":5}'
 *
 * `"marks":true` prints a `@@mark` line on stderr after each sample's GC, for bench/memory/compare.ts.
 */

import { heapStats } from "bun:jsc";
import { readdirSync } from "node:fs";
import { exchangeOnce, exchanges, type LoopKind } from "../lib/clients.ts";
import { reply } from "../lib/proc.ts";

interface Config {
  kind: LoopKind;
  host: string;
  port: number;
  total: number;
  conc: number;
  warm: number;
  checkpoints: number;
  /** Print a `@@mark` line on stderr after each sample's GC (bench/memory/compare.ts counts JSC's GCs between). */
  marks?: boolean;
}

/** One sample of the process's footprint. */
export interface Footprint {
  connections: number;
  rssBytes: number;
  fds: number;
  heapBytes: number;
  objects: number;
}

/** The stderr line printed after each sample's collection when `marks` is set. */
const MARK = "@@mark";

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const once = exchangeOnce(config.kind, config.host, config.port);
const many = (count: number): Promise<void> => exchanges(once, count, config.conc);

async function footprint(connections: number): Promise<Footprint> {
  // Let closing sockets finish (their FIN exchange), then collect.
  await Bun.sleep(200);
  Bun.gc(true);
  await Bun.sleep(20);
  Bun.gc(true);
  const heap = heapStats();
  if (config.marks === true) console.error(MARK);
  return {
    connections,
    rssBytes: process.memoryUsage().rss,
    fds: readdirSync("/proc/self/fd").length,
    heapBytes: heap.heapSize,
    objects: heap.objectCount,
  };
}

await many(config.warm);
const series: Footprint[] = [await footprint(0)];
const step = Math.ceil(config.total / config.checkpoints);
for (let done = 0; done < config.total; ) {
  const n = Math.min(step, config.total - done);
  await many(n);
  done += n;
  series.push(await footprint(done));
}
const types = heapStats().objectTypeCounts;
const top = Object.entries(types)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8);
reply({ kind: config.kind, series, topObjectTypes: Object.fromEntries(top) });
