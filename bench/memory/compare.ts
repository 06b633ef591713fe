/**
 * Memory per client kind, side by side: `rounds` rounds, each running every
 * kind once (in a rotating order) in a fresh process (bench/memory/client.ts,
 * `total` connections after a warm-up), loopback in a private namespace
 * against the native server. Per run: the RSS growth first to last sample,
 * and the JS heap bytes allocated per connection (JSC's own GC log, see
 * bench/sections/memory.ts), and the live objects kept. Ratios are to
 * `Bun.connect`'s run of the same round, with their spread over the rounds.
 *
 *   bun bench/memory/compare.ts '{"total":100000,"rounds":4,"kinds":["bun","createConnection","connect"]}'
 */
import { build } from "../lib/build.ts";
import type { LoopKind } from "../lib/clients.ts";
import { createNamespace, deleteNamespace, installCleanup, namespaceName, spawnIn, stopChild } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { median, type Spread, spread } from "../lib/stats.ts";
import { memoryRun } from "../sections/memory.ts";

interface Options {
  total: number;
  rounds: number;
  kinds: LoopKind[];
  conc: number;
  warm: number;
  checkpoints: number;
}

/** One fresh process's figures. */
interface Run {
  rssGrowthMB: number;
  /** Live objects, first to last sample (after a full GC): what stays. */
  objectGrowth: number;
  allocatedPerConnection: number;
  gcs: number;
  topObjectTypes: Record<string, number>;
}

const MB = 1024 * 1024;

async function oneRun(bunPath: string, ns: string, kind: LoopKind, options: Options): Promise<Run> {
  const run = await memoryRun(bunPath, ns, kind, options);
  const first = run.series[0]!;
  const last = run.series[run.series.length - 1]!;
  return {
    rssGrowthMB: (last.rssBytes - first.rssBytes) / MB,
    objectGrowth: last.objects - first.objects,
    allocatedPerConnection: run.allocatedBytes / options.total,
    gcs: run.gcs,
    topObjectTypes: run.topObjectTypes,
  };
}

const fixed = (s: Spread, digits: number): string =>
  `${s.median.toFixed(digits)} (${s.low.toFixed(digits)}-${s.high.toFixed(digits)})`;

async function main(): Promise<void> {
  const given = JSON.parse(process.argv[2] ?? "{}") as Partial<Options>;
  const options: Options = {
    total: 100_000,
    rounds: 4,
    kinds: ["bun", "createConnection", "connect"],
    conc: 16,
    warm: 2000,
    checkpoints: 4,
    ...given,
  };
  if (!options.kinds.includes("bun")) options.kinds.unshift("bun");
  installCleanup();
  const built = build((line) => console.error(line));
  const ns = createNamespace(namespaceName("memcmp"));
  const server = spawnIn(ns, [built.tfo, "server", "7000"]);
  const runs = new Map<LoopKind, Run[]>(options.kinds.map((kind) => [kind, []]));
  try {
    const ready = await new LineReader(server.stdout).next(10_000);
    if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < options.kinds.length; k++) {
        const kind = options.kinds[(k + round) % options.kinds.length]!;
        const run = await oneRun(built.bun, ns, kind, options);
        console.error(
          `round ${round + 1}/${options.rounds} ${kind}: RSS +${run.rssGrowthMB.toFixed(1)} MB, ` +
            `${run.allocatedPerConnection.toFixed(0)} B allocated/connection (${run.gcs} GCs), ` +
            `${run.objectGrowth} objects kept`,
        );
        runs.get(kind)!.push(run);
      }
    }
  } finally {
    await stopChild(server, 1000);
    deleteNamespace(ns);
  }
  const bun = runs.get("bun")!;
  const rows = options.kinds.map((kind) => {
    const mine = runs.get(kind)!;
    const rss = mine.map((r) => r.rssGrowthMB);
    const alloc = mine.map((r) => r.allocatedPerConnection);
    return {
      kind,
      rssGrowthMB: spread(rss),
      rssVsBun: spread(rss.map((v, i) => v / bun[i]!.rssGrowthMB)),
      allocatedPerConnection: spread(alloc),
      allocatedVsBun: spread(alloc.map((v, i) => v / bun[i]!.allocatedPerConnection)),
      gcs: median(mine.map((r) => r.gcs)),
      objectGrowth: spread(mine.map((r) => r.objectGrowth)),
      topObjectTypes: mine[0]!.topObjectTypes,
    };
  });
  console.log(`| kind | RSS growth MB | vs Bun.connect | heap B allocated/conn | vs Bun.connect | objects kept |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
  for (const r of rows)
    console.log(
      `| ${r.kind} | ${fixed(r.rssGrowthMB, 1)} | ${fixed(r.rssVsBun, 2)}x | ` +
        `${fixed(r.allocatedPerConnection, 0)} | ${fixed(r.allocatedVsBun, 2)}x | ${fixed(r.objectGrowth, 0)} |`,
    );
  console.log(JSON.stringify({ options, rows }));
}

if (import.meta.main) await main();
