/**
 * TFO cookie keys for a fleet: `fastOpenKeys` derives the same keys on
 * every server from a shared secret and the clock, so that a cookie one
 * server issued is accepted by the others; `randomKey` makes a fresh one.
 */
import { createHmac, randomBytes } from "node:crypto";
import { describe, KEY_BYTES } from "./lowlevel/key.ts";

export type { FastOpenKey } from "./lowlevel/key.ts";

/** Options of `fastOpenKeys`. */
export interface FastOpenKeysOptions {
  /** Milliseconds between key changes, the same on every server (1000 .. 2^40; hours or days in production). */
  interval: number;
  /** The time to derive the keys for, in ms since the epoch. Default `Date.now()`. */
  now?: number;
}

/** The keys a listener uses at one moment of a schedule. */
export interface FastOpenKeys {
  /** Issues new cookies and accepts them: the key of the current period. */
  primary: Uint8Array;
  /** Still accepted: the previous period's key in the first half of a period, the next one's in the second half. */
  backup: Uint8Array;
  /** The current period: `Math.floor(now / interval)`. */
  epoch: number;
  /** When (ms since the epoch) the pair changes next: the period's middle or its end. */
  changesAt: number;
}

/** Shortest accepted secret, in bytes. */
export const MIN_SECRET_BYTES = 16;
/** Shortest and longest accepted `interval` (ms). */
export const INTERVAL_RANGE = [1000, 2 ** 40] as const;

const LABEL = new TextEncoder().encode("fastopen tfo key v1\0");

/** A fresh random key (from the system's CSPRNG). */
export function randomKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/** The secret as bytes (a string as UTF-8), at least MIN_SECRET_BYTES long. */
export function parseSecret(secret: unknown, name = "secret"): Uint8Array {
  const bytes =
    typeof secret === "string"
      ? new TextEncoder().encode(secret)
      : secret instanceof Uint8Array
        ? new Uint8Array(secret)
        : null;
  if (bytes === null) throw new TypeError(`${name} must be a string or a Uint8Array, got ${describe(secret)}`);
  if (bytes.byteLength < MIN_SECRET_BYTES)
    throw new RangeError(`${name} must be at least ${MIN_SECRET_BYTES} bytes, got ${bytes.byteLength}`);
  return bytes;
}

/** `interval` checked: an integer number of ms in INTERVAL_RANGE. */
export function parseInterval(interval: unknown, name = "interval"): number {
  if (typeof interval !== "number") throw new TypeError(`${name} must be a number of ms, got ${describe(interval)}`);
  const [min, max] = INTERVAL_RANGE;
  if (!Number.isInteger(interval) || interval < min || interval > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max} ms, got ${interval}`);
  return interval;
}

/** The key of period `epoch`: HMAC-SHA256(secret, label, interval, epoch), first 16 bytes. */
function periodKey(secret: Uint8Array, interval: number, epoch: number): Uint8Array {
  const message = new Uint8Array(LABEL.byteLength + 16);
  message.set(LABEL, 0);
  const view = new DataView(message.buffer);
  view.setBigUint64(LABEL.byteLength, BigInt(interval));
  view.setBigInt64(LABEL.byteLength + 8, BigInt(epoch));
  return new Uint8Array(createHmac("sha256", secret).update(message).digest().subarray(0, KEY_BYTES));
}

/** `fastOpenKeys` on checked input. */
export function deriveKeys(secret: Uint8Array, interval: number, now: number): FastOpenKeys {
  const epoch = Math.floor(now / interval);
  const start = epoch * interval;
  const middle = start + Math.ceil(interval / 2);
  const late = now >= middle;
  return {
    primary: periodKey(secret, interval, epoch),
    backup: periodKey(secret, interval, late ? epoch + 1 : epoch - 1),
    epoch,
    changesAt: late ? start + interval : middle,
  };
}

/**
 * The TFO keys for `now` under a schedule every server of a fleet shares:
 * time is cut into periods of `interval` ms; each period has its own key
 * (derived from `secret`, HMAC-SHA256), which is the primary. The backup is
 * the previous period's key in the first half of a period and the next
 * one's in the second half, so a cookie issued at time T (the issuer's
 * clock) is accepted by every server whose clock reads within
 * `interval / 2` of T: the fleet's clock skew plus the cookie's age must
 * stay under `interval / 2`. Bad input throws TypeError/RangeError.
 */
export function fastOpenKeys(secret: string | Uint8Array, options: FastOpenKeysOptions): FastOpenKeys {
  if (typeof options !== "object" || options === null)
    throw new TypeError(`fastOpenKeys() needs options { interval }, got ${describe(options)}`);
  const bytes = parseSecret(secret);
  const interval = parseInterval(options.interval);
  const now = options.now ?? Date.now();
  if (typeof now !== "number") throw new TypeError(`now must be a number of ms since the epoch, got ${describe(now)}`);
  if (!Number.isFinite(now) || now < 0 || now > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`now must be a time in ms since the epoch (0 .. 2^53-1), got ${now}`);
  return deriveKeys(bytes, interval, now);
}
