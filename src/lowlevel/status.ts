/** Decoding of the native per-connection TFO report (zig/status.zig). */

/** Why SYN data was not sent or not acknowledged. */
export type FastOpenReason = "none" | "no-cookie" | "data-not-acked" | "syn-retransmitted" | "blackhole" | "unknown";

const REASONS: readonly FastOpenReason[] = [
  "none",
  "no-cookie",
  "data-not-acked",
  "syn-retransmitted",
  "blackhole",
  "unknown",
];

/** What the kernel says about TFO on one connection. */
export interface KernelFastOpenStatus {
  /** The platform reports TFO state for this socket (false: the other fields are guesses). */
  known: boolean;
  /** Data rode in the SYN. */
  sent: boolean;
  /** The peer acknowledged the SYN data (on a server socket: SYN data was received). */
  acked: boolean;
  /** The handshake has completed. */
  established: boolean;
  /** Why the data was not sent or not acknowledged (`"none"` when it was, or nothing was tried). */
  reason: FastOpenReason;
  /** The platform's raw TCP state number. */
  state: number;
}

/** Decodes the packed status word returned by `fo_fastopen_status`. */
export function decodeStatus(word: number): KernelFastOpenStatus {
  if (!Number.isInteger(word) || word < 0) throw new RangeError(`bad status word: ${word}`);
  return {
    known: (word & 1) !== 0,
    sent: (word & 2) !== 0,
    acked: (word & 4) !== 0,
    established: (word & 8) !== 0,
    reason: REASONS[(word >> 8) & 0xff] ?? "unknown",
    state: (word >> 16) & 0xff,
  };
}
