/**
 * Deterministic test bytes and their digests, shared by the scenarios and
 * the tests that check what they delivered.
 */
import { createHash } from "node:crypto";

/**
 * `len` bytes of xorshift32 from the initial state `state` (taken as an
 * unsigned 32-bit integer; 0 becomes 1): a lost, doubled or swapped chunk
 * changes the digest.
 */
export function xorshiftBytes(len: number, state: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = state >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
