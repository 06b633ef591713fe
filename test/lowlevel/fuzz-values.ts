/**
 * Argument generators for the FFI-boundary fuzzer: for each kind of argument,
 * valid values (so that calls get past the checks and reach the kernel) and
 * hostile ones (wrong types, NaN, negative, huge and fractional numbers,
 * detached, resized and shared buffers, views at offsets, lying `byteLength`,
 * Proxies). Every value is drawn from the seeded `Rng`, so a seed replays the
 * same sequence of arguments.
 */
import { parseIp6, v4Mapped } from "../../src/lowlevel/address.ts";
import { POLLIN, POLLOUT } from "../../src/lowlevel/socket.ts";
import type { Rng } from "../support/raw.ts";

/** Guard bytes written around every receive buffer, checked after each call. */
export const GUARD = 0xa5;
const GUARD_SIZE = 16;

/** A receive buffer whose neighbouring bytes are guards (`check()` is false if any changed). */
export interface Guarded {
  view: ArrayBufferView;
  check(): boolean;
}

const HOSTILE_SCALARS: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  "",
  "1",
  "::1",
  " 80",
  1n,
  -1n,
  Symbol("fuzz"),
  () => 1,
  {},
  [],
  [1, 2, 3],
  new Date(0),
  /x/,
  new Map(),
  { valueOf: () => 80 },
  { toString: () => "80" },
  new Proxy({}, {}),
  Object.create(null),
];

const HOSTILE_NUMBERS: readonly number[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0.5,
  0.5,
  1.5,
  -2,
  2 ** 31,
  2 ** 31 - 0.5,
  2 ** 32,
  2 ** 32 + 80,
  2 ** 53,
  2 ** 64,
  -(2 ** 31),
  -(2 ** 31) - 1,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  -Number.MAX_SAFE_INTEGER,
];

/** A hostile non-number or bad number. */
export function hostileScalar(rng: Rng): unknown {
  return rng.chance(0.5) ? rng.pick(HOSTILE_SCALARS) : rng.pick(HOSTILE_NUMBERS);
}

/** A view of `buffer` whose own `byteLength` property lies. */
function lyingLength<T extends ArrayBufferView>(view: T, claimed: number): T {
  Object.defineProperty(view, "byteLength", { value: claimed });
  return view;
}

class LyingView extends Uint8Array {
  override get byteLength(): number {
    return 1 << 20;
  }
  override get byteOffset(): number {
    return 0;
  }
  override get buffer(): ArrayBuffer {
    return new ArrayBuffer(1 << 20);
  }
}

/** A view over a buffer that has been transferred away. */
function detached(rng: Rng): ArrayBufferView {
  const buffer = new ArrayBuffer(rng.int(64) + 1);
  const view = rng.chance(0.5) ? new Uint8Array(buffer) : new DataView(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

/** Views over a resizable buffer, resized after the view was made. */
function resized(rng: Rng): ArrayBufferView {
  const rab = new ArrayBuffer(32, { maxByteLength: 256 });
  const kind = rng.int(4);
  const view =
    kind === 0
      ? new Uint8Array(rab, 8, 16)
      : kind === 1
        ? new Uint8Array(rab, 4)
        : kind === 2
          ? new DataView(rab, 8, 16)
          : new Uint16Array(rab, 2, 8);
  rab.resize(rng.pick([0, 4, 10, 20, 100, 256]));
  return view;
}

/** A valid or hostile byte source (send buffers, payloads). */
export function bufferArg(rng: Rng): unknown {
  switch (rng.int(16)) {
    case 0:
      return rng.pick(["", "x", "héllo wörld ✓", "\ud800 lone surrogate", "a".repeat(70_000)]);
    case 1:
    case 2:
      return rng.bytes(rng.pick([0, 1, 7, 100, 1400, 9000]));
    case 3: {
      const backing = rng.bytes(256);
      const offset = rng.int(200);
      return new Uint8Array(backing.buffer, offset, rng.int(256 - offset + 1));
    }
    case 4:
      return new DataView(rng.bytes(64).buffer, rng.int(32), rng.int(32));
    case 5:
      return new Float64Array(rng.bytes(64).buffer, 8 * rng.int(4), rng.int(4));
    case 6: {
      const shared = new Uint8Array(new SharedArrayBuffer(128));
      shared.set(rng.bytes(128));
      const offset = rng.int(100);
      return new Uint8Array(shared.buffer, offset, rng.int(28));
    }
    case 7:
      return detached(rng);
    case 8:
      return resized(rng);
    case 9:
      return lyingLength(new Uint8Array(rng.bytes(8).buffer, 2, 2), rng.pick([4, 8, 1 << 20, -1, Number.NaN]));
    case 10:
      return new LyingView(rng.int(4));
    case 11:
      return Buffer.from(rng.pick(["pooled", "a", ""]));
    case 12:
      return rng.pick([
        new ArrayBuffer(8),
        new SharedArrayBuffer(8),
        [1, 2, 3],
        { byteLength: 8, buffer: new ArrayBuffer(8) },
      ]);
    case 13:
      return new Proxy(new Uint8Array(8), {});
    default:
      return hostileScalar(rng);
  }
}

/** A `len` for a buffer of `available` bytes: absent, exact, one more, within, or hostile. */
export function lengthArg(rng: Rng, available: number): unknown {
  switch (rng.int(8)) {
    case 0:
    case 1:
    case 2:
      return undefined;
    case 3:
      return available;
    case 4:
      return available + 1;
    case 5:
      return rng.int(available + 1);
    case 6:
      return rng.pick([0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + available]);
    default:
      return hostileScalar(rng);
  }
}

/** The byte length a buffer argument really has (0 when it is not a view or a string). */
export function realLength(value: unknown): number {
  if (typeof value === "string") return new TextEncoder().encode(value).byteLength;
  if (!ArrayBuffer.isView(value)) return 0;
  const prototype =
    value instanceof DataView ? DataView.prototype : (Object.getPrototypeOf(Uint8Array.prototype) as object);
  try {
    return Reflect.get(prototype, "byteLength", value) as number;
  } catch {
    return 0;
  }
}

/** A receive buffer: a guarded view at an offset, or something hostile (`null` guard when no guard applies). */
export function receiveArg(rng: Rng): { value: unknown; guarded: Guarded | null } {
  if (rng.chance(0.7)) {
    const size = rng.pick([0, 1, 5, 64, 1500, 70_000]);
    const shared = rng.chance(0.2);
    const total = GUARD_SIZE + size + GUARD_SIZE;
    const backing = shared ? new Uint8Array(new SharedArrayBuffer(total)) : new Uint8Array(total);
    backing.fill(GUARD);
    const kind = rng.int(3);
    const view =
      kind === 0
        ? new Uint8Array(backing.buffer, GUARD_SIZE, size)
        : kind === 1
          ? new DataView(backing.buffer, GUARD_SIZE, size)
          : new Uint16Array(backing.buffer, GUARD_SIZE, size >> 1);
    const check = (): boolean => {
      for (let i = 0; i < GUARD_SIZE; i++) if (backing[i] !== GUARD || backing[total - 1 - i] !== GUARD) return false;
      return true;
    };
    if (rng.chance(0.1)) lyingLength(view, size + GUARD_SIZE);
    return { value: view, guarded: { view, check } };
  }
  const value = bufferArg(rng);
  return { value, guarded: null };
}

const IP6_TEXT = [
  "::1",
  "::ffff:127.0.0.1",
  "::",
  "2001:db8::1",
  "fe80::1",
  "::ffff:192.0.2.1",
  "ff02::1",
  "::ffff:0.0.0.0",
  "::ffff:255.255.255.255",
];

/** A 16-byte address (valid, at an offset, of another size, lying, detached...) or something hostile. */
export function ip6Arg(rng: Rng): unknown {
  switch (rng.int(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return parseIp6(rng.pick(IP6_TEXT)).ip;
    case 4: {
      const backing = new Uint8Array(48).fill(0xab);
      const offset = rng.int(32);
      backing.set(parseIp6(rng.pick(IP6_TEXT)).ip, offset);
      return new Uint8Array(backing.buffer, offset, 16);
    }
    case 5:
      return new Uint8Array(rng.pick([0, 1, 4, 15, 17, 32]));
    case 6:
      return lyingLength(new Uint8Array(new ArrayBuffer(16), 0, rng.pick([0, 1, 4])), 16);
    case 7:
      return rng.pick([
        new Uint16Array(8),
        new Int8Array(16),
        new DataView(new ArrayBuffer(16)),
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
      ]);
    case 8:
      return rng.chance(0.5) ? detached(rng) : resized(rng);
    default:
      return hostileScalar(rng);
  }
}

/** A 4-byte address or something hostile. */
export function ip4Arg(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
    case 1:
    case 2:
      return new Uint8Array(
        rng.pick([
          [127, 0, 0, 1],
          [0, 0, 0, 0],
          [192, 0, 2, 1],
          [255, 255, 255, 255],
          [224, 0, 0, 1],
        ]),
      );
    case 3:
      return rng.chance(0.5) ? new Uint8Array(rng.pick([0, 3, 5, 16])) : v4Mapped(new Uint8Array([127, 0, 0, 1]));
    case 4:
      return lyingLength(new Uint8Array(new ArrayBuffer(4), 0, 1), 4);
    default:
      return hostileScalar(rng);
  }
}

/** A port: one of the fixture listeners', 0, 1, 9, 65535, or hostile. */
export function portArg(rng: Rng, listening: readonly number[]): unknown {
  if (rng.chance(0.45)) return rng.pick(listening);
  if (rng.chance(0.5)) return rng.pick([0, 1, 9, 65535, 65536, -1]);
  return hostileScalar(rng);
}

/** A scope id or hostile. */
export function scopeArg(rng: Rng): unknown {
  if (rng.chance(0.7)) return rng.pick([0, 0, 0, 1, 2 ** 32 - 1]);
  return hostileScalar(rng);
}

/** poll events or hostile. */
export function eventsArg(rng: Rng): unknown {
  if (rng.chance(0.7)) return rng.pick([POLLIN, POLLOUT, POLLIN | POLLOUT, 0, 0x7fff, 0x8000]);
  return hostileScalar(rng);
}

/** A poll timeout that can never block: 0, or a value the checks refuse. */
export function timeoutArg(rng: Rng): unknown {
  if (rng.chance(0.6)) return 0;
  const value = hostileScalar(rng);
  return typeof value === "number" && Number.isInteger(value) && value >= -1 && value <= 0x7fffffff ? 0 : value;
}

/** A queue length / backlog or hostile. */
export function countArg(rng: Rng): unknown {
  if (rng.chance(0.6)) return rng.pick([0, 1, 16, 256, 0x7fffffff]);
  return hostileScalar(rng);
}

/** An `out` parameter: absent, a plain object, frozen, a refusing Proxy, or hostile. */
export function outArg(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
    case 1:
      return undefined;
    case 2:
      return { ip: new Uint8Array(16), port: 0, scopeId: 0 };
    case 3:
      return Object.freeze({ ip: new Uint8Array(16), port: 0, scopeId: 0 });
    case 4:
      return new Proxy({}, { set: () => false });
    default:
      return hostileScalar(rng);
  }
}
