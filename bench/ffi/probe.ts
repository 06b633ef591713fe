/**
 * Per-call cost of `socketFastopenConnect6` on a closed fd: the library's
 * first syscall fails at once with EBADF, so what remains is the JS wrapper
 * and the FFI crossing. Three paths: the public wrapper, the raw FFI symbol,
 * and (in bench/c/tfo.c `ffi`) C calling the same export.
 *
 *   bun bench/ffi/probe.ts time <calls>     JSON: ns per call of each path
 *   bun bench/ffi/probe.ts count <calls> <rounds>   under callgrind (FASTOPEN_CGREQ: the client-request shim):
 *     after a warm-up of both paths, <rounds> windows of <calls> wrapper calls and of <calls> raw calls,
 *     alternating, each dumped on its own ("wrapper <i>", "raw <i>")
 */
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
import { socketFastopenConnect6 } from "../../src/lowlevel/socket.ts";
import { native } from "../../src/native/library.ts";

const REQUEST = new Uint8Array(64).fill(0x71);
const IP = new Uint8Array(16);
IP[15] = 1;

/** An fd number that is closed now (taken and released). */
function closedFd(): number {
  const fd = openSync("/dev/null", "r");
  closeSync(fd);
  return fd;
}

function wrapper(fd: number, calls: number): number {
  let last = 0;
  for (let i = 0; i < calls; i++) last = socketFastopenConnect6(fd, IP, 9, 0, REQUEST);
  return last;
}

function raw(fd: number, calls: number): number {
  const fn = native().fo_socket_fastopen_connect6;
  let last = 0;
  for (let i = 0; i < calls; i++) last = fn(fd, IP, 9, 0, REQUEST, 64);
  return last;
}

function nsPerCall(run: (fd: number, calls: number) => number, fd: number, calls: number): number {
  run(fd, Math.min(calls, 20_000)); // JIT warm-up
  const t0 = Bun.nanoseconds();
  const last = run(fd, calls);
  const ns = Bun.nanoseconds() - t0;
  if (last >= 0) throw new Error(`expected a failure on a closed fd, got ${last}`);
  return ns / calls;
}

const [mode, count] = process.argv.slice(2);
const calls = Number(count ?? 200_000);
if (!Number.isInteger(calls) || calls <= 0) throw new RangeError(`calls must be a positive integer, got ${count}`);
const fd = closedFd();
if (mode === "time") {
  const result = { calls, wrapperNs: nsPerCall(wrapper, fd, calls), rawNs: nsPerCall(raw, fd, calls) };
  console.log(JSON.stringify(result));
} else if (mode === "count") {
  const rounds = Number(process.argv[4] ?? 5);
  const cg = dlopen(process.env.FASTOPEN_CGREQ ?? "", {
    fo_bench_cg_dump: { returns: FFIType.void, args: [FFIType.cstring] },
  }).symbols;
  const dump = (name: string): void => cg.fo_bench_cg_dump(Buffer.from(`${name}\0`));
  // Past the JIT's tier-ups before anything is counted.
  wrapper(fd, 200_000);
  raw(fd, 200_000);
  dump("warm");
  for (let i = 0; i < rounds; i++) {
    wrapper(fd, calls);
    dump(`wrapper ${i}`);
    raw(fd, calls);
    dump(`raw ${i}`);
  }
  console.log(JSON.stringify({ calls, rounds }));
} else {
  throw new TypeError(`mode must be "time" or "count", got ${mode}`);
}
