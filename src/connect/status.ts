/**
 * `fastOpenStatus(socket)`: per connection, whether the payload (or the first
 * write) rode in the SYN, whether the server acknowledged it, and why not.
 * `connect()` registers each socket it makes; other Bun sockets (for example
 * those a `listen()` server accepts) are read through their fd while open.
 */
import type { Socket } from "bun";
import { fastopenRefused, socketFastopenStatus as nativeStatus } from "../lowlevel/socket.ts";
import type { KernelFastOpenStatus } from "../lowlevel/status.ts";
import { native } from "../native/library.ts";

/**
 * Why the data did not ride in the SYN or was not acknowledged:
 * - `"none"`: it rode and was acknowledged;
 * - `"not-attempted"`: nothing to send in the SYN (no payload, not lazy) or `fastOpen: false`;
 * - `"no-cookie"`: no cookie for this server yet, the SYN asked for one;
 * - `"disabled"`: the platform refused TFO (client bit of `net.ipv4.tcp_fastopen` off), for this connect or
 *   within the last `FASTOPEN_REFUSAL_MS` (remembered; `support().refusedUntil`): plain connect + send;
 * - `"data-not-acked"`: data went in the SYN but the server did not take it (no TFO there, bad cookie);
 * - `"syn-retransmitted"`: the SYN was lost and resent without data;
 * - `"blackhole"`: the kernel's blackhole detection turned TFO off;
 * - `"pending"`: lazy connection whose SYN has not left yet;
 * - `"no-data"`: lazy connection whose SYN left empty (nothing was written before it had to go);
 * - `"first-flight-too-large"`: TLS: the ClientHello was larger than the SYN could carry; `bytesInSyn` of it rode
 *   (acknowledged), `bytesAfterHandshake` waited for the handshake, so the server could not answer any sooner;
 * - `"unknown"`: the platform does not say.
 */
export type FastOpenOutcome =
  | "none"
  | "not-attempted"
  | "no-cookie"
  | "disabled"
  | "data-not-acked"
  | "syn-retransmitted"
  | "blackhole"
  | "pending"
  | "no-data"
  | "first-flight-too-large"
  | "unknown";

/** How `connect()` made a connection: payload in the SYN, lazy TFO, or a plain connect. */
export type ConnectMode = "syn-data" | "lazy" | "plain";

/** The TFO report of one connection. */
export interface FastOpenStatus {
  /** Data rode in the SYN. */
  sent: boolean;
  /** The peer acknowledged the SYN data (on an accepted socket: SYN data was received). */
  acked: boolean;
  /** Why not, or `"none"` when it rode and was acknowledged. */
  reason: FastOpenOutcome;
  /**
   * Bytes of the payload the kernel took with the SYN (`connect()` sockets; 0 otherwise); `lazy`: of the first
   * write, which sends the SYN; with `tls`, bytes of the ClientHello that rode in the SYN (Linux `TCP_INFO`).
   */
  bytesInSyn: number;
  /** Bytes of the payload written after the handshake; with `tls`, bytes of the ClientHello that waited for it. */
  bytesAfterHandshake: number;
  /** The connect mode used: `"syn-data"`, `"lazy"`, `"plain"`, or `"accepted"`/`"unknown"` for other sockets. */
  mode: ConnectMode | "accepted" | "unknown";
  /** The kernel's raw report (TCP_INFO), or null when it could not be read. */
  kernel: KernelFastOpenStatus | null;
  /** True when `kernel` is the last report read before the socket closed. */
  final: boolean;
}

/** What `connect()` knows about a connection it made (the fd's start, then its progress). */
export interface ConnectionRecord {
  readonly fd: number;
  readonly mode: ConnectMode;
  /** TFO was attempted (payload or lazy with `fastOpen` on). */
  readonly attempted: boolean;
  /** The platform refused TFO for this connect (fallback to plain connect). */
  readonly refused: boolean;
  /**
   * Bytes of the payload the kernel took with the connect call (in the SYN when TFO worked); TLS: see `tlsFlight`;
   * for an optimistic connect, those of the first write, which sent the deferred SYN.
   */
  bytesInSyn: number;
  /** A lazy connect whose SYN waited for the first write (its `open` ran before the handshake). */
  readonly deferred?: boolean;
  /** Bytes of the payload written after the connect call (once connected). */
  bytesAfterHandshake: number;
  /**
   * TLS only: how far the split of the ClientHello between the SYN (`bytesInSyn`) and the handshake
   * (`bytesAfterHandshake`) is known: `"pending"` until its first bytes have left, `"measured"` from the kernel's
   * count of bytes sent, `"unmeasured"` when the platform does not say or the moment was missed.
   */
  tlsFlight?: "pending" | "measured" | "unmeasured";
  /** Last kernel report; refreshed while the socket is open. */
  last: KernelFastOpenStatus | null;
  closed: boolean;
}

const records = new WeakMap<object, ConnectionRecord>();

/** Remembers what `connect()` did for `socket` (its fd, mode and payload split). */
export function registerConnection(socket: object, record: ConnectionRecord): void {
  records.set(socket, record);
}

/** The record of a socket made by `connect()`, if any. */
export function connectionRecord(socket: object): ConnectionRecord | undefined {
  return records.get(socket);
}

/** Reads the kernel report of a record's fd while the socket is open (kept after close). */
export function refreshRecord(record: ConnectionRecord): KernelFastOpenStatus | null {
  if (!record.closed) record.last = nativeStatus(record.fd) ?? record.last;
  return record.last;
}

/** Marks the record closed after a last read (call before Bun closes the fd, or right after with no read). */
export function closeRecord(record: ConnectionRecord, readFirst: boolean): void {
  if (readFirst) refreshRecord(record);
  record.closed = true;
}

// Filled by each `sentCounts` call and read right after it.
const sentOut = new Uint32Array(2);

/**
 * What the kernel has sent on `fd` (Linux `TCP_INFO`: tcpi_bytes_sent, retransmissions included, and
 * tcpi_data_segs_out, a SYN with data counting as one), or null where the platform does not say.
 */
export function sentCounts(fd: number): { bytes: number; segments: number } | null {
  if (native().fo_fastopen_sent(fd, sentOut) < 0) return null;
  return { bytes: sentOut[0]!, segments: sentOut[1]! };
}

/** Why a record's data rode in the SYN and was acknowledged: in whole, or (TLS) only a part of the ClientHello. */
function ackedOutcome(record: ConnectionRecord | null): FastOpenOutcome {
  if (record?.tlsFlight === undefined) return "none";
  if (record.tlsFlight !== "measured") return "unknown";
  return record.bytesAfterHandshake > 0 ? "first-flight-too-large" : "none";
}

function outcome(
  kernel: KernelFastOpenStatus | null,
  attempted: boolean,
  refused: boolean,
  mode: ConnectMode | "unknown",
  record: ConnectionRecord | null = null,
): FastOpenOutcome {
  if (!attempted) return "not-attempted";
  if (refused) return "disabled";
  if (kernel === null || !kernel.known) return "unknown";
  if (kernel.sent && kernel.acked) return ackedOutcome(record);
  switch (kernel.reason) {
    case "no-cookie":
      return "no-cookie";
    case "data-not-acked":
      return "data-not-acked";
    case "syn-retransmitted":
      return "syn-retransmitted";
    case "blackhole":
      return "blackhole";
    case "none":
      // Linux SYN_SENT (2) with nothing reported yet: a lazy SYN still waiting for data.
      if (mode === "lazy" && kernel.state === 2) return "pending";
      // An optimistic connect's first write that left in the SYN and was never acknowledged (refused, dropped).
      if (mode === "lazy" && !kernel.sent) return (record?.bytesInSyn ?? 0) > 0 ? "data-not-acked" : "no-data";
      return kernel.sent ? "data-not-acked" : "unknown";
    default:
      return "unknown";
  }
}

function foreignOutcome(kernel: KernelFastOpenStatus | null, accepted: boolean): FastOpenOutcome {
  if (kernel === null) return "unknown";
  if (accepted) return kernel.acked ? "none" : "not-attempted";
  return outcome(kernel, true, fastopenRefused(), "unknown");
}

/** Whether Bun still holds the socket's fd (its `readyState` is negative once closed). */
function isOpen<Data>(socket: Socket<Data>): boolean {
  return socket.readyState === 1 || socket.readyState === 0;
}

function fdOf(socket: object): number | null {
  const fd = (socket as { fd?: unknown }).fd;
  return typeof fd === "number" && Number.isInteger(fd) && fd >= 0 ? fd : null;
}

/**
 * The TFO report of a Bun socket: from `connect()` (with the payload split
 * and the mode), or for any other open Bun socket read from its fd (a socket
 * accepted by a TFO listener reports `acked` when its SYN carried data).
 * Throws a TypeError for a non-object; returns `reason: "unknown"` with a
 * null `kernel` when nothing can be read (a closed foreign socket).
 */
export function fastOpenStatus<Data>(socket: Socket<Data>): FastOpenStatus {
  if (typeof socket !== "object" || socket === null) throw new TypeError("socket must be a Bun Socket");
  const record = records.get(socket);
  if (record !== undefined) {
    // Closed without telling the record (its handlers replaced by `reload()`): its fd may be another socket's now.
    if (!record.closed && !isOpen(socket)) closeRecord(record, false);
    const kernel = refreshRecord(record);
    const reason = outcome(kernel, record.attempted, record.refused, record.mode, record);
    return {
      sent: record.attempted && !record.refused && (kernel?.sent ?? false),
      acked: record.attempted && !record.refused && (kernel?.acked ?? false),
      reason,
      bytesInSyn: record.bytesInSyn,
      bytesAfterHandshake: record.bytesAfterHandshake,
      mode: record.mode,
      kernel,
      final: record.closed,
    };
  }
  const fd = isOpen(socket) ? fdOf(socket) : null;
  const kernel = fd === null ? null : nativeStatus(fd);
  const accepted = (socket as { listener?: unknown }).listener !== undefined;
  return {
    sent: kernel?.sent ?? false,
    acked: kernel?.acked ?? false,
    reason: foreignOutcome(kernel, accepted),
    bytesInSyn: 0,
    bytesAfterHandshake: 0,
    mode: accepted ? "accepted" : "unknown",
    kernel,
    final: false,
  };
}
