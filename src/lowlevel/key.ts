/**
 * The listener's own TFO cookie key (Linux TCP_FASTOPEN_KEY), libowfat-style:
 * 0 or a byte count, or -1 with the error in `lastError()`; and the key
 * forms it reads and prints (16 bytes, 32 hex digits, the sysctl's form).
 */
import { native } from "../native/library.ts";
import { fromNative } from "./errors.ts";
import * as check from "./validate.ts";

/** A TFO cookie key: 16 bytes, 32 hex digits, or `xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx` (the sysctl's form). */
export type FastOpenKey = Uint8Array | string;

/** Bytes in one TFO key (the kernel's TCP_FASTOPEN_KEY_LENGTH). */
export const KEY_BYTES = 16;

const HEX = /^[0-9a-f]{32}$/i;
const SYSCTL = /^[0-9a-f]{8}(?:-[0-9a-f]{8}){3}$/i;

/**
 * One key as 16 fresh bytes (a copy, so the caller's buffer may change
 * later). A string is 32 hex digits in byte order, or the sysctl's four
 * dash-separated 32-bit words (each stored little-endian, as the kernel
 * does). Errors name `name` and never echo the key.
 */
export function parseKey(name: string, key: unknown): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.byteLength !== KEY_BYTES) throw new RangeError(`${name} must be 16 bytes, got ${key.byteLength}`);
    return new Uint8Array(key);
  }
  if (typeof key !== "string")
    throw new TypeError(`${name} must be a 16-byte Uint8Array or a 32-hex-digit string, got ${describe(key)}`);
  if (HEX.test(key))
    return Uint8Array.from({ length: KEY_BYTES }, (_, i) => Number.parseInt(key.slice(2 * i, 2 * i + 2), 16));
  if (SYSCTL.test(key)) {
    const bytes = new Uint8Array(KEY_BYTES);
    const view = new DataView(bytes.buffer);
    for (const [i, word] of key.split("-").entries()) view.setUint32(4 * i, Number.parseInt(word, 16), true);
    return bytes;
  }
  throw new RangeError(
    `${name} must be 32 hex digits or xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx, got a string of ${key.length} characters`,
  );
}

/** A listener's keys from `[primary, backup?]`: 16 or 32 bytes, primary first. */
export function parseKeyList(name: string, keys: unknown): Uint8Array {
  if (!Array.isArray(keys)) throw new TypeError(`${name} must be an array [primary, backup?], got ${describe(keys)}`);
  if (keys.length < 1 || keys.length > 2)
    throw new RangeError(`${name} must hold 1 or 2 keys (primary, backup), got ${keys.length}`);
  return joinKeys(parseKey(`${name}[0]`, keys[0]), keys.length === 2 ? parseKey(`${name}[1]`, keys[1]) : undefined);
}

/** `primary` alone (16 bytes) or followed by `backup` (32 bytes): what TCP_FASTOPEN_KEY takes. */
export function joinKeys(primary: Uint8Array, backup?: Uint8Array): Uint8Array {
  if (backup === undefined) return new Uint8Array(primary);
  const both = new Uint8Array(2 * KEY_BYTES);
  both.set(primary, 0);
  both.set(backup, KEY_BYTES);
  return both;
}

/** A key as 32 hex digits (byte order): the form `parseKey` reads back. */
export function keyHex(key: Uint8Array): string {
  return Buffer.from(key).toString("hex");
}

/** A key in the `net.ipv4.tcp_fastopen_key` form (four little-endian 32-bit words). */
export function keySysctl(key: Uint8Array): string {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return [0, 1, 2, 3]
    .map((i) =>
      view
        .getUint32(4 * i, true)
        .toString(16)
        .padStart(8, "0"),
    )
    .join("-");
}

/** What `value` is, for an error message (never its content). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/**
 * Sets the TFO cookie key of listener `s` in place of the namespace's:
 * `primary` issues and accepts cookies, `backup` (optional) is still
 * accepted, for a rotation without a cookie gap. Keys are 16-byte
 * Uint8Arrays or 32 hex digits (TypeError/RangeError otherwise). 0, or -1
 * (EOPNOTSUPP on macOS and FreeBSD, which have no per-listener key).
 */
export function socketFastopenKey(s: number, primary: FastOpenKey, backup?: FastOpenKey): number {
  const fd = check.fd(s, "s");
  const first = parseKey("primary", primary);
  const key = joinKeys(first, backup === undefined ? undefined : parseKey("backup", backup));
  return fromNative(native().fo_socket_fastopen_key(fd, key, key.byteLength), "socket_fastopen_key");
}

/**
 * The TFO keys `s` has of its own into `out` (at least 32 bytes): the bytes
 * written, 16 (primary), 32 (primary then backup) or 0 (none: `s` uses the
 * namespace's key, which the kernel does not report per socket); or -1
 * (EOPNOTSUPP on macOS and FreeBSD).
 */
export function socketFastopenKeyGet(s: number, out: Uint8Array): number {
  const fd = check.fd(s, "s");
  if (!(out instanceof Uint8Array)) throw new TypeError("out must be a Uint8Array");
  if (out.byteLength < 32) throw new RangeError(`out must hold 32 bytes, got ${out.byteLength}`);
  const buffer = new Uint8Array(32);
  const n = fromNative(native().fo_socket_fastopen_key_get(fd, buffer), "socket_fastopen_key_get");
  if (n > 0) out.set(buffer.subarray(0, n));
  return n;
}
