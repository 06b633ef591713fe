/**
 * The fd-level half of `connect()`: a non-blocking socket and the TFO
 * connect (payload in the SYN, lazy, or plain) started without waiting
 * (`startFastOpenFd`); `connect()` then adopts the fd into Bun's loop and
 * finishes the connection from Bun's events. Also the SystemError of a
 * failed native call.
 */
import { lastError, type SystemError, systemError } from "../lowlevel/errors.ts";
import type { ResolvedAddress } from "./resolve.ts";
import { connectStart, START_LAZY, START_PLAIN, START_SYN_DATA, type StartResult } from "./start.ts";

/** How the connect was made. */
export type ConnectMode = "syn-data" | "lazy" | "plain";

/** Options of `startFastOpenFd`. */
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
}

/** A started (or, lazily, deferred) connect: its fd and what the connect call did. */
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
  /** Bytes of the payload written after the handshake (by the caller, after `startFastOpenFd`). */
  bytesAfterHandshake: number;
  /** Bytes of the payload still unsent: the caller writes them once connected. */
  remainder: Uint8Array;
}

/** A SystemError from the last failed low-level call (`lastError()`), for `syscall` to `address:port`. */
export function nativeError(syscall: string, address: string, port: number): SystemError {
  const info = lastError();
  const code = info?.code ?? "EIO";
  return systemError(code, syscall, { address, port, message: `${syscall} ${code} ${address}:${port}` });
}

const EMPTY = new Uint8Array(new ArrayBuffer(0));
const START_CODES: Record<ConnectMode, number> = { plain: START_PLAIN, "syn-data": START_SYN_DATA, lazy: START_LAZY };
// Filled by each `connectStart` call and read right after it.
const started: StartResult = { queued: 0, inProgress: false, refused: false };

/** The connect mode these options ask for. */
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
