/**
 * Instruction counts per connection, under callgrind (run by
 * bench/sections/instructions.ts): windows of connections, each ended by a
 * callgrind dump (libcgreq: the counts since the previous dump, all
 * threads), so that one process measures several clients side by side.
 *
 *   steady <kinds> <host> <port> <conc> <warm> <n> <rounds>
 *     each kind (comma-separated) makes <warm> connections (run with
 *     --instr-atstart=no: not instrumented), then instrumentation starts
 *     and, <rounds> times, each kind in a rotating order makes <n>
 *     connections, <conc> at a time, dumped as "<kind> <round>";
 *   warmup <kind> <host> <port> <step> <steps>
 *     a fresh process: "start" dumped before the first connection (start-up
 *     and imports), then <steps> windows of <step> connections, one at a
 *     time, dumped as "<kind> <i>".
 *
 * Prints `{"ok":true}` at the end; outside valgrind the dumps are no-ops.
 */
import { dlopen, FFIType } from "bun:ffi";
import { exchangeOnce, exchanges, LOOP_KINDS, type LoopKind } from "../lib/clients.ts";
import { reply } from "../lib/proc.ts";

const library = process.env.FASTOPEN_CGREQ ?? "";
const cg = dlopen(library, {
  fo_bench_cg_dump: { returns: FFIType.void, args: [FFIType.cstring] },
  fo_bench_cg_start: { returns: FFIType.void, args: [] },
}).symbols;

/** Dumps the counts since the last dump under `name` (a NUL-terminated copy: the FFI wants a C string). */
function dump(name: string): void {
  cg.fo_bench_cg_dump(Buffer.from(`${name}\0`));
}

function kindOf(text: string): LoopKind {
  if (!(LOOP_KINDS as readonly string[]).includes(text)) throw new TypeError(`unknown client kind ${text}`);
  return text as LoopKind;
}

function count(text: string | undefined, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number, got ${text}`);
  return value;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "steady") {
  const [kinds, host, port, conc, warm, n, rounds] = args;
  const onces = (kinds ?? "").split(",").map((k) => ({ kind: k, once: exchangeOnce(kindOf(k), host!, Number(port)) }));
  for (const { once } of onces) await exchanges(once, count(warm, "warm"), count(conc, "conc"));
  cg.fo_bench_cg_start();
  dump("warm");
  for (let round = 0; round < count(rounds, "rounds"); round++) {
    for (let k = 0; k < onces.length; k++) {
      const { kind, once } = onces[(k + round) % onces.length]!;
      await exchanges(once, count(n, "n"), count(conc, "conc"));
      dump(`${kind} ${round}`);
    }
  }
} else if (mode === "warmup") {
  const [kind, host, port, step, steps] = args;
  dump("start");
  const once = exchangeOnce(kindOf(kind ?? ""), host!, Number(port));
  for (let i = 0; i < count(steps, "steps"); i++) {
    await exchanges(once, count(step, "step"), 1);
    dump(`${kind} ${i}`);
  }
} else {
  throw new TypeError(`mode must be "steady" or "warmup", got ${mode}`);
}
reply({ ok: true });
