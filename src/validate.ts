/**
 * Argument checks made before anything crosses the FFI. Each throws a
 * TypeError (wrong type) or RangeError (right type, bad value) whose message
 * names the argument.
 */

/** Bytes accepted from a string or any ArrayBufferView. */
export type BufferSource = string | ArrayBufferView;

const MAX_INT32 = 0x7fffffff;
const MAX_UINT32 = 0xffffffff;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

/** An integer within `[min, max]`. */
export function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${describe(value)}`);
  if (value < min || value > max) throw new RangeError(`${name} must be in ${min}..${max}, got ${value}`);
  return value;
}

/** A file descriptor: a non-negative int32. */
export function fd(value: unknown, name = "fd"): number {
  return integer(name, value, 0, MAX_INT32);
}

/** A TCP port, 0..65535. */
export function port(value: unknown, name = "port"): number {
  return integer(name, value, 0, 65535);
}

/** A u32 (scope ids, queue lengths). */
export function uint32(value: unknown, name: string): number {
  return integer(name, value, 0, MAX_UINT32);
}

/** A byte address of exactly `size` bytes (16 for IPv6, 4 for IPv4). */
export function ipBytes(value: unknown, size: 4 | 16, name = "ip"): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    const hint = size === 16 ? "parseIp6()" : "parseIp4()";
    throw new TypeError(`${name} must be a Uint8Array of ${size} bytes (see ${hint}), got ${describe(value)}`);
  }
  if (value.byteLength !== size) throw new RangeError(`${name} must be exactly ${size} bytes, got ${value.byteLength}`);
  return value;
}

/**
 * A buffer argument as bytes: strings are UTF-8 encoded, views are used in
 * place (their offset and length honoured, never copied).
 */
export function bytes(value: unknown, name = "buf"): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer as ArrayBuffer & { detached?: boolean };
    if (buffer.detached === true) throw new TypeError(`${name} is backed by a detached ArrayBuffer`);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  throw new TypeError(`${name} must be a string or an ArrayBufferView, got ${describe(value)}`);
}

/** A writable byte view (for receive buffers). */
export function writableBytes(value: unknown, name = "buf"): Uint8Array {
  if (typeof value === "string" || !ArrayBuffer.isView(value)) {
    throw new TypeError(`${name} must be an ArrayBufferView, got ${describe(value)}`);
  }
  return bytes(value, name);
}

/** `len` defaults to the whole buffer and may never exceed it. */
export function length(value: unknown, available: number, name = "len"): number {
  if (value === undefined) return available;
  return integer(name, value, 0, Math.min(available, MAX_INT32));
}
