/**
 * The fd-level half of `connect()`: a non-blocking socket and the TFO
 * connect (payload in the SYN, lazy, or plain) started without waiting
 * (`startFastOpenFd`, which `connect()` uses before adopting the fd into
 * Bun's loop), and for layers without an event loop of their own a
 * polling wait for the handshake that never blocks the JS thread, with the
 * payload's unsent rest written in order (`openFastOpenFd`).
 */
import * as fo from "./lowlevel.ts";
import { lastError, systemError, type SystemError } from "./errors.ts";
import type { ResolvedAddress } from "./resolve.ts";
import { connectStart, START_LAZY, START_PLAIN, START_SYN_DATA, type StartResult } from "./connect-native.ts";

/** How the connect was made. */
export type ConnectMode = "syn-data" | "lazy" | "plain";

/** Options of `openFastOpenFd`. */
export interface FastOpenFdOptions {
  /** Where to connect (see `resolveHost`). */
  address: ResolvedAddress;
  /** TCP port, 1..65535. */
  port: number;
  /** Bytes to send first: in the SYN when a cookie is known. */
  payload?: Uint8Array;
  /** Try TFO (default true); false connects plainly and sends the payload after the handshake. */
  fastOpen?: boolean;
  /**
   * Lazy TFO without a payload (Linux TCP_FASTOPEN_CONNECT): when a cookie is
   * known, the connect returns at once and the SYN leaves with the first
   * write, carrying it. The result then has `deferred: true`.
   */
  lazy?: boolean;
  /** Write the payload's unsent rest before resolving (default true). */
  flush?: boolean;
  /** `performance.now()` time after which the attempt fails with ETIMEDOUT. */
  deadline?: number | null;
  /** Aborts the attempt (ABORT_ERR). */
  signal?: AbortSignal;
}

/** A connected (or, lazily, deferred) fd and what the connect did. */
export interface FastOpenFd {
  /** The socket, non-blocking and close-on-exec. The caller owns it. */
  fd: number;
  address: ResolvedAddress;
  port: number;
  mode: ConnectMode;
  /** TFO was tried (payload or lazy with `fastOpen` on). */
  attempted: boolean;
  /** The platform refused TFO for this connect and the plain path was used. */
  refused: boolean;
  /** Lazy connect whose SYN waits for the first write (the handshake has not started). */
  deferred: boolean;
  /** Bytes of the payload the kernel took with the connect call (in the SYN when TFO worked). */
  bytesInSyn: number;
  /** Bytes of the payload written after the handshake (0 unless `flush`). */
  bytesAfterHandshake: number;
  /** Bytes of the payload still unsent (empty when `flush`). */
  remainder: Uint8Array;
}

/** Longest pause between two polls of a connecting socket (ms). */
export const POLL_MAX_MS = 8;
// Pauses between polls: a yield to the event loop first (loopback and LAN
// handshakes complete within it), then a short doubling backoff.
const POLL_STEPS_MS = [0, 0, 1, 1, 2, 2, 4, 4, POLL_MAX_MS];
const EMPTY = new Uint8Array(new ArrayBuffer(0));

/** The error a timed-out attempt rejects with: ETIMEDOUT, syscall `connect`. */
export function timeoutError(address: string, port: number): SystemError {
  return systemError("ETIMEDOUT", "connect", { address, port, message: `connect ETIMEDOUT ${address}:${port}` });
}

/** The error an aborted attempt rejects with: name AbortError, code ABORT_ERR. */
export function abortError(address: string | undefined, port: number | undefined, reason?: unknown): SystemError {
  const where = address === undefined ? "" : ` ${address}:${port}`;
  const error = systemError("ABORT_ERR", "connect", { message: `The operation was aborted${where}` });
  error.name = "AbortError";
  if (address !== undefined) error.address = address;
  if (port !== undefined) error.port = port;
  if (reason !== undefined) (error as { cause?: unknown }).cause = reason;
  return error;
}

/** A SystemError from the last failed low-level call (`lastError()`), for `syscall` to `address:port`. */
export function nativeError(syscall: string, address: string, port: number): SystemError {
  const info = lastError();
  const code = info?.code ?? "EIO";
  return systemError(code, syscall, { address, port, message: `${syscall} ${code} ${address}:${port}` });
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return Bun.sleep(ms);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Why to stop waiting (timeout or abort), or null to go on. */
function stopReason(options: FastOpenFdOptions, where: string, port: number): SystemError | null {
  if (options.signal?.aborted === true) return abortError(where, port, options.signal.reason);
  if (options.deadline != null && performance.now() >= options.deadline) return timeoutError(where, port);
  return null;
}

/**
 * Waits, without blocking the JS thread, until `fd` reports `events` (or an
 * error/hangup). Polls with `poll(2)` and a zero timeout, pausing briefly
 * between polls (see `POLL_MAX_MS`). Throws ETIMEDOUT/ABORT_ERR SystemErrors.
 */
export async function waitForFd(fd: number, events: number, options: FastOpenFdOptions): Promise<void> {
  const where = options.address.address;
  for (let step = 0; ; step++) {
    const stop = stopReason(options, where, options.port);
    if (stop !== null) throw stop;
    const seen = fo.socketPoll(fd, events, 0);
    if (seen < 0) throw nativeError("poll", where, options.port);
    if (seen !== 0) return;
    let ms = POLL_STEPS_MS[Math.min(step, POLL_STEPS_MS.length - 1)]!;
    if (options.deadline != null) ms = Math.max(0, Math.min(ms, Math.ceil(options.deadline - performance.now())));
    await pause(ms, options.signal);
  }
}

/** Waits for a non-blocking connect on `fd` to finish; throws its error (ECONNREFUSED, ...). */
export async function waitConnected(fd: number, options: FastOpenFdOptions): Promise<void> {
  for (;;) {
    await waitForFd(fd, fo.POLLOUT, options);
    if (fo.socketConnected(fd) === 1) return;
    if (lastError()?.code !== "EINPROGRESS") throw nativeError("connect", options.address.address, options.port);
  }
}

/** Writes all of `data` to the connected `fd`, waiting for room when the send buffer is full. */
export async function sendAll(fd: number, data: Uint8Array, options: FastOpenFdOptions): Promise<number> {
  let sent = 0;
  while (sent < data.byteLength) {
    const n = fo.socketSend(fd, data.subarray(sent));
    if (n >= 0) {
      sent += n;
      continue;
    }
    if (lastError()?.code !== "EAGAIN") throw nativeError("write", options.address.address, options.port);
    await waitForFd(fd, fo.POLLOUT, options);
  }
  return sent;
}

const START_CODES: Record<ConnectMode, number> = { plain: START_PLAIN, "syn-data": START_SYN_DATA, lazy: START_LAZY };
// Filled by each `connectStart` call and read right after it.
const started: StartResult = { queued: 0, inProgress: false, refused: false };

/** The mode `openFastOpenFd` uses for these options. */
export function connectMode(payload: Uint8Array, fastOpen: boolean, lazy: boolean): ConnectMode {
  if (!fastOpen) return "plain";
  if (payload.byteLength > 0) return "syn-data";
  return lazy ? "lazy" : "plain";
}

/**
 * Starts a TCP connection with TFO and returns at once, without waiting for
 * the handshake: the socket (non-blocking, still connecting unless the
 * kernel finished at once), with the payload split between what the kernel
 * took with the connect call (in the SYN when a cookie is known) and the
 * `remainder` to write once connected. A deferred lazy connect has sent no
 * SYN yet. Throws a SystemError (with the fd closed) when the socket or the
 * connect call fails at once (other than EINPROGRESS).
 */
export function startFastOpenFd(options: FastOpenFdOptions): FastOpenFd {
  const payload = options.payload ?? EMPTY;
  const mode = connectMode(payload, options.fastOpen ?? true, options.lazy ?? false);
  const { ip, scopeId, family, address } = options.address;
  // One native call: an IPv4 socket for IPv4 peers (so Bun reports plain IPv4 addresses), IPv6 otherwise.
  const fd = connectStart(ip, options.port, scopeId, family, START_CODES[mode], payload, started);
  if (fd < 0) throw nativeError(lastError()?.syscall ?? "connect", address, options.port);
  const { queued, refused } = started;
  const taken = mode === "syn-data" ? queued : 0;
  return {
    fd,
    address: options.address,
    port: options.port,
    mode,
    attempted: mode !== "plain",
    refused,
    deferred: mode === "lazy" && !started.inProgress && !refused,
    bytesInSyn: refused ? 0 : taken,
    bytesAfterHandshake: refused ? taken : 0,
    remainder: taken === 0 ? payload : payload.subarray(taken),
  };
}

/**
 * Opens a TCP connection with TFO and returns its fd once the handshake has
 * completed (or at once for a deferred lazy connect), with the payload split
 * between the SYN and after the handshake. Waits by polling (see
 * `waitForFd`): for a Bun socket, `connect()` adopts the fd at once instead
 * and waits on Bun's events. Rejects with a SystemError (ECONNREFUSED,
 * ETIMEDOUT, ABORT_ERR, ...) carrying `address` and `port`; on every
 * failure the fd is closed.
 */
export async function openFastOpenFd(options: FastOpenFdOptions): Promise<FastOpenFd> {
  const early = stopReason(options, options.address.address, options.port);
  if (early !== null) throw early;
  const result = startFastOpenFd(options);
  if (result.deferred) return result;
  try {
    await waitConnected(result.fd, options);
    if (options.flush !== false && result.remainder.byteLength > 0) {
      const sent = await sendAll(result.fd, result.remainder, options);
      result.bytesAfterHandshake += sent;
      result.remainder = result.remainder.subarray(sent);
    }
    return result;
  } catch (error) {
    fo.socketClose(result.fd);
    throw error;
  }
}
