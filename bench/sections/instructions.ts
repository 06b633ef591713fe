/**
 * Section 5: user-space instructions per connection (callgrind, all
 * threads: the JIT's and the GC's included), on loopback in a private
 * namespace against the C server.
 * - Steady state: one process per concurrency makes `warm` connections of
 *   each client uninstrumented, then alternating windows of `n` connections
 *   per client, each window counted on its own (a client-request dump), so
 *   the ratio to `Bun.connect` is taken round by round in one process.
 * - JIT warm-up: a fresh process per client counts its first `steps` x
 *   `step` connections window by window; the warm-up cost is what they took
 *   beyond `steps` x `step` connections at the steady-state count.
 */
import { join } from "node:path";
import type { Built } from "../lib/build.ts";
import { callgrindWindows, type Window } from "../lib/callgrind.ts";
import type { LoopKind } from "../lib/clients.ts";
import { createNamespace, deleteNamespace, namespaceName, spawnIn, stopChild } from "../lib/ns.ts";
import { LineReader } from "../lib/proc.ts";
import { median, type Spread, spread } from "../lib/stats.ts";

/** Steady-state instructions per connection of one client at one concurrency. */
export interface InstructionRow {
  client: string;
  conc: number;
  /** Instructions per connection: median of the rounds, with their spread. */
  perConnection: Spread;
  /** Over Bun.connect's in the same round. */
  vsBun: Spread;
}

/** One client's first connections in a fresh process. */
export interface WarmupRow {
  client: string;
  /** Instructions from the start to the first connection (start-up and imports). */
  startup: number;
  connections: number;
  /** Instructions of each window of `step` connections, in order. */
  windows: number[];
  step: number;
  /** Instructions over the first `connections` beyond that many at the steady-state count (c=1). */
  excess: number;
}

/** Section 5's result. */
export interface InstructionResult {
  rows: InstructionRow[];
  warmup: WarmupRow[];
  n: number;
  rounds: number;
  warm: number;
}

/** Options of section 5. */
export interface InstructionOptions {
  concurrencies: number[];
  warm: number;
  n: number;
  rounds: number;
  /** JIT warm-up windows: `steps` windows of `step` connections. */
  step: number;
  steps: number;
}

const KINDS: Array<[LoopKind, string]> = [
  ["connect", "connect"],
  ["bare", "bare fd path"],
  ["bun", "Bun.connect"],
];
const PORT = "7002";

function steadyRows(windows: Window[], conc: number, n: number): InstructionRow[] {
  const perRound = (kind: string): number[] =>
    windows.filter((w) => w.name.startsWith(`${kind} `)).map((w) => w.instructions / n);
  const bun = perRound("bun");
  return KINDS.map(([kind, client]) => {
    const counts = perRound(kind);
    return { client, conc, perConnection: spread(counts), vsBun: spread(counts.map((v, i) => v / bun[i]!)) };
  });
}

/** Runs section 5 (needs valgrind and the client-request shim). */
export async function runInstructions(
  built: Built,
  options: InstructionOptions,
  log: (line: string) => void,
): Promise<InstructionResult> {
  if (built.cgreq === null) throw new Error("the callgrind client-request shim is missing");
  const ns = createNamespace(namespaceName("cg"));
  const server = spawnIn(ns, [built.tfo, "server", PORT]);
  const client = join(import.meta.dir, "..", "instructions", "client.ts");
  const env = { FASTOPEN_CGREQ: built.cgreq };
  try {
    const ready = await new LineReader(server.stdout).next(10_000);
    if (ready !== "ready") throw new Error(`C server did not start (${ready})`);
    const kinds = KINDS.map(([k]) => k).join(",");
    const { warm, n, rounds, step, steps } = options;
    log(`  steady state: ${warm} warm-up, then ${rounds} rounds of ${n} connections per client...`);
    // Two processes at a time (valgrind runs each process's threads one at a time): counts do not depend on timing.
    const steady = await Promise.all(
      options.concurrencies.map((conc) =>
        callgrindWindows(
          [built.bun, client, "steady", kinds, "::1", PORT, String(conc), String(warm), String(n), String(rounds)],
          { ns, env, valgrind: ["--instr-atstart=no"] },
        ).then((windows) => steadyRows(windows, conc, n)),
      ),
    );
    const rows = steady.flat();
    log(`  JIT warm-up: the first ${step * steps} connections of connect and Bun.connect in fresh processes...`);
    const warmup = await Promise.all(
      KINDS.filter(([k]) => k !== "bare").map(async ([kind, name]): Promise<WarmupRow> => {
        const windows = await callgrindWindows(
          [built.bun, client, "warmup", kind, "::1", PORT, String(step), String(steps)],
          { ns, env },
        );
        const counts = windows.filter((w) => w.name.startsWith(`${kind} `)).map((w) => w.instructions);
        const steadyCount = rows.find((r) => r.client === name && r.conc === 1)?.perConnection.median ?? median([]);
        const total = counts.reduce((a, b) => a + b, 0);
        return {
          client: name,
          startup: windows.find((w) => w.name === "start")?.instructions ?? Number.NaN,
          connections: step * steps,
          windows: counts,
          step,
          excess: total - step * steps * steadyCount,
        };
      }),
    );
    return { rows, warmup, n, rounds, warm };
  } finally {
    await stopChild(server, 1000);
    deleteNamespace(ns);
  }
}
