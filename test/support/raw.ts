/**
 * Helpers shared by the reliability scenarios, the fuzzer and the soak:
 * libc calls the library does not offer (pipes, UDP and Unix sockets, poll over
 * many fds), the fd table, a seeded PRNG, checksums, and a small driver that
 * moves bytes over the low-level layer with non-blocking polling.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readdirSync, readlinkSync } from "node:fs";
import { lastError, must } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";

const { i32, u32, u64, i64 } = FFIType;

const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
  pipe2: { args: [FFIType.ptr, i32], returns: i32 },
  socket: { args: [i32, i32, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  write: { args: [i32, FFIType.ptr, u64], returns: i64 },
  read: { args: [i32, FFIType.ptr, u64], returns: i64 },
  poll: { args: [FFIType.ptr, u32, i32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, FFIType.ptr, u32], returns: i32 },
}).symbols;

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = O_NONBLOCK;
const SOCK_CLOEXEC = O_CLOEXEC;

/** A non-blocking pipe, made with libc (the library never created it): `[read end, write end]`. */
export function makePipe(): [number, number] {
  const fds = new Int32Array(2);
  if (libc.pipe2(ptr(fds), O_NONBLOCK | O_CLOEXEC) !== 0) throw new Error("pipe2 failed");
  return [fds[0]!, fds[1]!];
}

/** A socket made with libc: `family` 10 (AF_INET6), 2 (AF_INET) or 1 (AF_UNIX); `type` 1 stream, 2 datagram. */
export function rawSocket(family: number, type: number): number {
  const fd = libc.socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket(${family}, ${type}) failed`);
  return fd;
}

/** close(2) through libc, for fds the library was never handed. */
export function rawClose(fd: number): number {
  return libc.close(fd);
}

/** write(2) through libc: bytes written or -1. */
export function rawWrite(fd: number, data: Uint8Array): number {
  return Number(libc.write(fd, ptr(data), data.byteLength));
}

/** read(2) through libc: bytes read or -1. */
export function rawRead(fd: number, into: Uint8Array): number {
  return Number(libc.read(fd, ptr(into), into.byteLength));
}

/** SO_LINGER {on, 0}: the next close sends a RST instead of a FIN (Linux constants). */
export function setLingerZero(fd: number): void {
  const linger = new Int32Array([1, 0]);
  if (libc.setsockopt(fd, 1, 13, ptr(linger), 8) !== 0) throw new Error("setsockopt(SO_LINGER) failed");
}

/** poll(2) over many fds at once: the revents of each, in order. */
export function pollMany(fds: readonly number[], events: readonly number[], timeoutMs: number): Int16Array {
  const table = new Int32Array(fds.length * 2);
  const view = new Int16Array(table.buffer);
  for (let i = 0; i < fds.length; i++) {
    table[2 * i] = fds[i]!;
    view[4 * i + 2] = events[i]!;
  }
  const revents = new Int16Array(fds.length);
  if (fds.length === 0) return revents;
  const n = libc.poll(ptr(table), fds.length, timeoutMs);
  if (n < 0) throw new Error("poll failed");
  for (let i = 0; i < fds.length; i++) revents[i] = view[4 * i + 3]!;
  return revents;
}

/** The open fds of this process and what each points to (Linux /proc/self/fd). */
export function fdTable(): Map<number, string> {
  const table = new Map<number, string>();
  for (const name of readdirSync("/proc/self/fd")) {
    try {
      table.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // The fd readdir itself used, gone by now.
    }
  }
  return table;
}

/**
 * The fd table once it stops changing: the runtime closes some fds of its
 * own (for example spawnSync's stdio sockets) on another thread, a moment later.
 */
export function settledFdTable(): Map<number, string> {
  // Three equal reads in a row: under CPU load the closing thread may not run
  // within one 20 ms interval.
  let table = fdTable();
  let still = 0;
  for (let i = 0; i < 100 && still < 3; i++) {
    Bun.sleepSync(20);
    const next = fdTable();
    still = fdDiff(table, next).length === 0 ? still + 1 : 0;
    table = next;
  }
  return table;
}

/** The differences between two fd tables, as text lines (empty when equal). */
export function fdDiff(before: Map<number, string>, after: Map<number, string>): string[] {
  const lines: string[] = [];
  for (const [fd, target] of after) if (before.get(fd) !== target) lines.push(`+${fd} ${target}`);
  for (const [fd, target] of before) if (after.get(fd) !== target) lines.push(`-${fd} ${target}`);
  return lines;
}

/** sfc32: a small, fast, seeded PRNG; the same seed gives the same sequence. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform u32. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** A 64-bit checksum of `data` as hex (wyhash). */
export function checksum(data: Uint8Array): string {
  return Bun.hash.wyhash(data).toString(16);
}

/** The code of the last low-level error, or "" when none. */
export function lastCode(): string {
  return lastError()?.code ?? "";
}

/** A TFO listener on `ip` (16 bytes) with an ephemeral port: `{ fd, port }`. */
export function tfoListener(
  ip: Uint8Array,
  options: { fastopen?: boolean; backlog?: number } = {},
): { fd: number; port: number } {
  const fd = must(fo.socketTcp6(), "socket_tcp6");
  must(fo.socketBind6(fd, ip, 0), "socket_bind6");
  must(fo.socketListen(fd, options.backlog ?? 511), "socket_listen");
  if (options.fastopen !== false) must(fo.socketFastopen(fd), "socket_fastopen");
  const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
  must(fo.socketLocal6(fd, local), "socket_local6");
  return { fd, port: local.port };
}

/** Waits until `fd` reports one of `events`, up to `ms`; false on timeout. */
export function waitFor(fd: number, events: number, ms: number): boolean {
  return must(fo.socketPoll(fd, events, ms), "socket_poll") !== 0;
}
