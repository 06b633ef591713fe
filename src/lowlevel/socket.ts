/**
 * The libowfat-style layer: one function per libowfat call, same contract.
 * Each returns a number >= 0 on success, or -1 with the error readable through
 * `lastError()` (`{ code: "EINPROGRESS", errno: 115, syscall }`). Bad
 * arguments throw TypeError/RangeError before anything reaches the kernel.
 */
import { native } from "../native/library.ts";
import { fromNative, setLastError } from "./errors.ts";
import { decodeStatus, type KernelFastOpenStatus } from "./status.ts";
import type { BufferSource } from "./validate.ts";
import * as check from "./validate.ts";

/** Default TFO queue length for `socketFastopen` (pending SYN-data requests). */
export const DEFAULT_FASTOPEN_QUEUE = 256;

/** A peer or local endpoint filled in by `socketAccept6`, `socketLocal6`, `socketRemote6`. */
export interface Endpoint6 {
  /** 16 bytes; IPv4 peers appear v4-mapped. */
  ip: Uint8Array;
  port: number;
  scopeId: number;
}

/** poll(2) events for `socketPoll`. */
export const POLLIN = 1;
/** poll(2) events for `socketPoll`. */
export const POLLOUT = 4;

/** Non-blocking IPv6 TCP socket (v4-mapped peers too): fd, or -1. */
export function socketTcp6(): number {
  return fromNative(native().fo_socket_tcp6(), "socket_tcp6");
}

/** Blocking IPv6 TCP socket: fd, or -1. */
export function socketTcp6b(): number {
  return fromNative(native().fo_socket_tcp6b(), "socket_tcp6b");
}

/** Non-blocking IPv4 TCP socket: fd, or -1. */
export function socketTcp4(): number {
  return fromNative(native().fo_socket_tcp4(), "socket_tcp4");
}

/** Blocking IPv4 TCP socket: fd, or -1. */
export function socketTcp4b(): number {
  return fromNative(native().fo_socket_tcp4b(), "socket_tcp4b");
}

/** Binds `s` to `[ip]:port` (`scopeId` for link-local). 0, or -1. */
export function socketBind6(s: number, ip: Uint8Array, port: number, scopeId = 0): number {
  const args = [check.fd(s, "s"), check.ipBytes(ip, 16), check.port(port), check.uint32(scopeId, "scopeId")] as const;
  return fromNative(native().fo_socket_bind6(...args), "socket_bind6");
}

/** Binds `s` to `ip4:port`. 0, or -1. */
export function socketBind4(s: number, ip4: Uint8Array, port: number): number {
  const args = [check.fd(s, "s"), check.ipBytes(ip4, 4, "ip4"), check.port(port)] as const;
  return fromNative(native().fo_socket_bind4(...args), "socket_bind4");
}

/** Plain connect. 0, or -1 (EINPROGRESS on a non-blocking socket). */
export function socketConnect6(s: number, ip: Uint8Array, port: number, scopeId = 0): number {
  const args = [check.fd(s, "s"), check.ipBytes(ip, 16), check.port(port), check.uint32(scopeId, "scopeId")] as const;
  return fromNative(native().fo_socket_connect6(...args), "socket_connect6");
}

/** Plain connect over IPv4. 0, or -1. */
export function socketConnect4(s: number, ip4: Uint8Array, port: number): number {
  const args = [check.fd(s, "s"), check.ipBytes(ip4, 4, "ip4"), check.port(port)] as const;
  return fromNative(native().fo_socket_connect4(...args), "socket_connect4");
}

/**
 * libowfat's `socket_fastopen_connect6`: connects `s` to `[ip]:port` and sends
 * `buf` (its first `len` bytes) in the SYN. Returns the bytes sent (>= 0); or
 * -1 with EINPROGRESS on a non-blocking socket, in which case nothing was sent
 * (no cookie yet) and `socketConnected` tells the outcome once `s` is
 * writable; or -1 with another error. Without a cookie, or where TFO is
 * refused, it falls back to connect + send with the same contract.
 */
export function socketFastopenConnect6(
  s: number,
  ip: Uint8Array,
  port: number,
  scopeId: number,
  buf: BufferSource,
  len?: number,
): number {
  const fd = check.fd(s, "s");
  const ip16 = check.ipBytes(ip, 16);
  const p = check.port(port);
  const scope = check.uint32(scopeId, "scopeId");
  const data = check.bytes(buf);
  const n = check.length(len, data.byteLength);
  return fromNative(
    native().fo_socket_fastopen_connect6(fd, ip16, p, scope, check.pointable(data), n),
    "socket_fastopen_connect6",
  );
}

/** libowfat's `socket_fastopen_connect4`: as `socketFastopenConnect6`, to an IPv4 address on an IPv4 socket. */
export function socketFastopenConnect4(
  s: number,
  ip4: Uint8Array,
  port: number,
  buf: BufferSource,
  len?: number,
): number {
  const fd = check.fd(s, "s");
  const ip = check.ipBytes(ip4, 4, "ip4");
  const p = check.port(port);
  const data = check.bytes(buf);
  const n = check.length(len, data.byteLength);
  return fromNative(
    native().fo_socket_fastopen_connect4(fd, ip, p, check.pointable(data), n),
    "socket_fastopen_connect4",
  );
}

/**
 * Lazy TFO connect: returns 0 at once and the SYN leaves with the first
 * `socketSend`, carrying its data (Linux TCP_FASTOPEN_CONNECT, macOS connectx
 * RESUME_ON_READ_WRITE). Without a cookie yet, a plain SYN asking for one goes
 * out now (-1 with EINPROGRESS on a non-blocking socket). FreeBSD: plain connect.
 */
export function socketFastopenLazy6(s: number, ip: Uint8Array, port: number, scopeId = 0): number {
  const args = [check.fd(s, "s"), check.ipBytes(ip, 16), check.port(port), check.uint32(scopeId, "scopeId")] as const;
  return fromNative(native().fo_socket_fastopen_lazy6(...args), "socket_fastopen_lazy6");
}

/**
 * libowfat's `socket_connected`: 1 when the connect of `s` completed; 0 when
 * it failed (lastError: ECONNREFUSED, ETIMEDOUT, ...) or is still in progress
 * (lastError: EINPROGRESS).
 */
export function socketConnected(s: number): number {
  const result = native().fo_socket_connected(check.fd(s, "s"));
  if (result === 1) return 1;
  if (result === 0) setLastError("EINPROGRESS", "socket_connected");
  else fromNative(result, "socket_connected");
  return 0;
}

/**
 * libowfat's `socket_fastopen`: enables server-side TFO on `s`. Call it after
 * `socketListen` (macOS accepts it only on a listening socket; Linux either
 * way). `queueLength` bounds pending SYN-data requests on Linux; macOS and
 * FreeBSD take it as on/off. 0, or -1.
 */
export function socketFastopen(s: number, queueLength: number = DEFAULT_FASTOPEN_QUEUE): number {
  const args = [check.fd(s, "s"), check.integer("queueLength", queueLength, 0, 0x7fffffff)] as const;
  return fromNative(native().fo_socket_fastopen(...args), "socket_fastopen");
}

/** Lets `s` send SYN data without a cookie (Linux TCP_FASTOPEN_NO_COOKIE; the server must allow it). 0, or -1. */
export function socketFastopenNoCookie(s: number): number {
  return fromNative(native().fo_socket_fastopen_no_cookie(check.fd(s, "s")), "socket_fastopen_no_cookie");
}

/** listen(2) with `backlog` pending connections. 0, or -1. */
export function socketListen(s: number, backlog = 511): number {
  const args = [check.fd(s, "s"), check.integer("backlog", backlog, 0, 0x7fffffff)] as const;
  return fromNative(native().fo_socket_listen(...args), "socket_listen");
}

function endpointCall(
  call: (fd: number, ip: Uint8Array, meta: Uint32Array) => number,
  s: number,
  out: Endpoint6 | undefined,
  syscall: string,
): number {
  const fd = check.fd(s, "s");
  if (out !== undefined && (typeof out !== "object" || out === null)) throw new TypeError("out must be an object");
  const ip = new Uint8Array(16);
  const meta = new Uint32Array(2);
  const result = fromNative(call(fd, ip, meta), syscall);
  if (result >= 0 && out !== undefined) {
    try {
      out.ip = ip;
      out.port = meta[0]!;
      out.scopeId = meta[1]!;
    } catch (error) {
      // `out` refused the fields (frozen, a throwing setter): the caller never
      // learns an accepted fd, so it must not stay open.
      if (syscall === "socket_accept6") native().fo_socket_close(result);
      throw error;
    }
  }
  return result;
}

/**
 * libowfat's `socket_accept6`: the new connection's fd (non-blocking when `s`
 * is), or -1 (EAGAIN when none is pending). The peer goes into `out`.
 */
export function socketAccept6(s: number, out?: Endpoint6): number {
  return endpointCall((fd, ip, meta) => native().fo_socket_accept6(fd, ip, meta), s, out, "socket_accept6");
}

/** libowfat's `socket_local6`: the local address of `s` into `out`. 0, or -1. */
export function socketLocal6(s: number, out?: Endpoint6): number {
  return endpointCall((fd, ip, meta) => native().fo_socket_local6(fd, ip, meta), s, out, "socket_local6");
}

/** libowfat's `socket_remote6`: the peer address of `s` into `out`. 0, or -1. */
export function socketRemote6(s: number, out?: Endpoint6): number {
  return endpointCall((fd, ip, meta) => native().fo_socket_remote6(fd, ip, meta), s, out, "socket_remote6");
}

/** Sends `buf` (first `len` bytes) without SIGPIPE: bytes sent, or -1 (EAGAIN, EPIPE, ...). */
export function socketSend(s: number, buf: BufferSource, len?: number): number {
  const fd = check.fd(s, "s");
  const data = check.bytes(buf);
  const n = check.length(len, data.byteLength);
  return fromNative(native().fo_socket_send(fd, check.pointable(data), n), "socket_send");
}

/** Receives into `buf` (at most `len` bytes): bytes read, 0 at end of stream, or -1 (EAGAIN, ...). */
export function socketRecv(s: number, buf: ArrayBufferView, len?: number): number {
  const fd = check.fd(s, "s");
  const view = check.writableBytes(buf);
  const n = check.length(len, view.byteLength);
  return fromNative(native().fo_socket_recv(fd, check.pointable(view), n), "socket_recv");
}

/**
 * Waits up to `timeoutMs` (-1: forever; this blocks the JS thread) for
 * `events` (POLLIN, POLLOUT) on `s`: the events seen, 0 on timeout, or -1.
 */
export function socketPoll(s: number, events: number, timeoutMs: number): number {
  const args = [
    check.fd(s, "s"),
    check.integer("events", events, 0, 0x7fff),
    check.integer("timeoutMs", timeoutMs, -1, 0x7fffffff),
  ] as const;
  return fromNative(native().fo_socket_poll(...args), "socket_poll");
}

/** Ends the sending side (the peer reads end of stream). 0, or -1. */
export function socketShutdownWrite(s: number): number {
  return fromNative(native().fo_socket_shutdown_write(check.fd(s, "s")), "socket_shutdown_write");
}

/** close(2). 0, or -1. */
export function socketClose(s: number): number {
  return fromNative(native().fo_socket_close(check.fd(s, "s")), "socket_close");
}

/**
 * Whether data rode in the SYN of `fd`'s connection and whether the peer
 * acknowledged it, with the kernel's reason when not (Linux TCP_INFO, macOS
 * TCP_CONNECTION_INFO). Null with `lastError()` set when it cannot be read.
 */
export function socketFastopenStatus(fd: number): KernelFastOpenStatus | null {
  const word = fromNative(native().fo_fastopen_status(check.fd(fd)), "fastopen_status");
  return word < 0 ? null : decodeStatus(word);
}

/**
 * True while a refusal of TFO by the platform is remembered: connects take
 * the plain path until it expires (`fastopenRefusedFor`).
 */
export function fastopenRefused(): boolean {
  return native().fo_fastopen_refused() === 1;
}

/** How long a refusal of TFO by the platform is remembered, in ms; the first connect after it tries TFO again. */
export const FASTOPEN_REFUSAL_MS = 1000;

/** Milliseconds the remembered refusal still holds (0..`FASTOPEN_REFUSAL_MS`); 0 when none is remembered. */
export function fastopenRefusedFor(): number {
  return native().fo_fastopen_refused_ms();
}

/** Forgets an earlier refusal, so the next connect tries TFO again (after enabling it). */
export function fastopenReset(): void {
  native().fo_fastopen_reset();
}
