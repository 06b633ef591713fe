/**
 * Two builds of `connect()` side by side under callgrind: this tree's
 * (`connect`) and another's (`alt`, FASTOPEN_BENCH_ALT=/path/to/src/connect/connect.ts),
 * with `Bun.connect` as the reference, in one process (bench/instructions/client.ts
 * `steady`): instructions per connection per round, and the same-round ratios.
 *
 *   FASTOPEN_BENCH_ALT=/other/tree/src/connect/connect.ts \
 *     bun bench/instructions/compare.ts '{"conc":64,"warm":5000,"n":1000,"rounds":3}'
 */
import { join } from "node:path";
import { build } from "../lib/build.ts";
import { callgrindWindows } from "../lib/callgrind.ts";
import { createNamespace, deleteNamespace, installCleanup, namespaceName, spawnIn, stopChild } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { spread } from "../lib/stats.ts";

const given = JSON.parse(process.argv[2] ?? "{}") as Partial<Record<"conc" | "warm" | "n" | "rounds", number>>;
const { conc = 64, warm = 5000, n = 1000, rounds = 3 } = given;
const kinds = process.env.FASTOPEN_BENCH_ALT === undefined ? ["connect", "bun"] : ["connect", "alt", "bun"];
installCleanup();
const built = build((line) => console.error(line));
if (built.cgreq === null) throw new Error("the callgrind client-request shim is missing");
const ns = createNamespace(namespaceName("cgcmp"));
const server = spawnIn(ns, [built.tfo, "server", "7002"]);
try {
  const ready = await new LineReader(server.stdout).next(10_000);
  if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
  const client = join(import.meta.dir, "client.ts");
  const args = [kinds.join(","), "::1", "7002", String(conc), String(warm), String(n), String(rounds)];
  const windows = await callgrindWindows([built.bun, client, "steady", ...args], {
    ns,
    env: { FASTOPEN_CGREQ: built.cgreq },
    valgrind: ["--instr-atstart=no"],
  });
  const per = (kind: string): number[] =>
    windows.filter((w) => w.name.startsWith(`${kind} `)).map((w) => w.instructions / n);
  const bun = per("bun");
  for (const kind of kinds) {
    const counts = per(kind);
    const s = spread(counts);
    const r = spread(counts.map((v, i) => v / bun[i]!));
    console.log(
      `${kind.padEnd(8)} ${s.median.toFixed(0)} instructions/connection (${s.low.toFixed(0)}-${s.high.toFixed(0)}), ` +
        `${r.median.toFixed(3)} x Bun.connect (${r.low.toFixed(3)}-${r.high.toFixed(3)})`,
    );
  }
} finally {
  await stopChild(server, 1000);
  deleteNamespace(ns);
}
