/**
 * The start of `connect()`'s native connect in one FFI call
 * (`fo_connect_start`): a new non-blocking socket of the family the address
 * needs (IPv4 peers on an IPv4 socket) and its connect (payload in the SYN,
 * lazy TFO, or plain), with the bytes queued and whether TFO was refused.
 * No family or socket-type checks are needed: the socket is new. Arguments
 * out of range give EINVAL, never a crash.
 */

import { errnoNumber, fromNative } from "../lowlevel/errors.ts";
import { pointable } from "../lowlevel/validate.ts";
import { native } from "../native/library.ts";

/** How the connect is started: plain, payload in the SYN, or lazy TFO. */
export const START_PLAIN = 0;
/** See `START_PLAIN`. */
export const START_SYN_DATA = 1;
/** See `START_PLAIN`. */
export const START_LAZY = 2;

/** What a successful `connectStart` did: the connect's result and TFO refusal. */
export interface StartResult {
  /** Bytes of the payload queued with the connect (in the SYN when TFO worked); 0 when it is still in progress. */
  queued: number;
  /** The connect is still in progress (EINPROGRESS): the handshake or the SYN is pending. */
  inProgress: boolean;
  /** The platform refused TFO: the plain path was used. */
  refused: boolean;
}

// Reused between calls: the library writes it during the call and keeps no pointer.
const out = new Int32Array(2);
const EINPROGRESS = -errnoNumber("EINPROGRESS");

/**
 * Starts a non-blocking connect to `ip` (16 bytes, IPv4 v4-mapped) `port`
 * (1..65535, checked by the caller) on a socket of `family` (4 needs a
 * v4-mapped `ip`: EAFNOSUPPORT otherwise), `mode` one of the `START_*` constants,
 * with `payload` for `START_SYN_DATA`. Returns the fd (the caller owns it)
 * and fills `result`; or -1 with `lastError()` set (syscall `socket` or
 * `connect`) and no fd left open.
 */
export function connectStart(
  ip: Uint8Array,
  port: number,
  scopeId: number,
  family: 4 | 6,
  mode: number,
  payload: Uint8Array,
  result: StartResult,
): number {
  const len = mode === START_SYN_DATA ? payload.byteLength : 0;
  const fd = native().fo_connect_start(ip, port, scopeId, family, mode, pointable(payload), len, out);
  if (fd < 0) return fromNative(fd, out[0] === 0 ? "socket" : "connect");
  const queued = out[0]!;
  result.queued = Math.max(queued, 0);
  result.inProgress = queued === EINPROGRESS;
  result.refused = out[1] === 1;
  return fd;
}
