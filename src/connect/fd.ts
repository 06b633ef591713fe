/**
 * The fd-level half of `connect()`: a non-blocking socket and the TFO
 * connect (payload in the SYN, lazy, or plain) started without waiting
 * (`startFastOpenFd`); `connect()` then adopts the fd into Bun's loop and
 * finishes the connection from Bun's events. Also the SystemError of a
 * failed native call.
 */
import { lastError, type SystemError, systemError } from "../lowlevel/errors.ts";
import type { CheckedConnect } from "./options.ts";
import type { ResolvedAddress } from "./resolve.ts";
import { connectStart, START_LAZY, START_PLAIN, START_SYN_DATA, type StartResult } from "./start.ts";
import type { ConnectionRecord, ConnectMode } from "./status.ts";

/** What `startFastOpenFd` needs of a connect's checked options. */
export type FastOpenRequest = Pick<CheckedConnect<unknown>, "port" | "payload" | "fastOpen" | "lazy">;

/**
 * A started (or, lazily, deferred) connect: its record (fd, mode, payload
 * split; registered for `fastOpenStatus` as it is) and what the attempt
 * needs to finish it.
 */
export interface FastOpenFd extends ConnectionRecord {
  readonly address: ResolvedAddress;
  readonly port: number;
  /** Lazy connect whose SYN waits for the first write (the handshake has not started). */
  readonly deferred: boolean;
  /** Bytes of the payload still unsent: the caller writes them once connected. */
  readonly remainder: Uint8Array;
}

/** A SystemError from the last failed low-level call (`lastError()`), for `syscall` to `address:port`. */
export function nativeError(syscall: string, address: string, port: number): SystemError {
  const info = lastError();
  const code = info?.code ?? "EIO";
  return systemError(code, syscall, { address, port, message: `${syscall} ${code} ${address}:${port}` });
}

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
export function startFastOpenFd(to: ResolvedAddress, request: FastOpenRequest): FastOpenFd {
  const { payload, port } = request;
  const mode = connectMode(payload, request.fastOpen, request.lazy);
  const { ip, scopeId, family, address } = to;
  // One native call: an IPv4 socket for IPv4 peers (so Bun reports plain IPv4 addresses), IPv6 otherwise.
  const fd = connectStart(ip, port, scopeId, family, START_CODES[mode], payload, started);
  if (fd < 0) throw nativeError(lastError()?.syscall ?? "connect", address, port);
  const { queued, refused } = started;
  const taken = mode === "syn-data" ? queued : 0;
  return {
    fd,
    address: to,
    port,
    mode,
    attempted: mode !== "plain",
    refused,
    deferred: mode === "lazy" && !started.inProgress && !refused,
    bytesInSyn: refused ? 0 : taken,
    bytesAfterHandshake: refused ? taken : 0,
    remainder: taken === 0 ? payload : payload.subarray(taken),
    last: null,
    closed: false,
  };
}
