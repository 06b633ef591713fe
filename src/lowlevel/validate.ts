/**
 * Argument checks made before anything crosses the FFI. Each throws a
 * TypeError (wrong type) or RangeError (right type, bad value) whose message
 * names the argument.
 */

import { types } from "node:util";

/** Bytes accepted from a string or any ArrayBufferView. */
export type BufferSource = string | ArrayBufferView;

const MAX_INT32 = 0x7fffffff;

/** Zero bytes on an ArrayBuffer of their own (shared: an empty view has nothing to change). */
export const EMPTY_BYTES = new Uint8Array(new ArrayBuffer(0));

// Passed in place of an empty view, whose pointer bun:ffi may make null: one
// byte, so that the pointer is real; the length passed with it is 0, so the
// native side never reads or writes it.
const POINTER_BYTE = new Uint8Array(1);

/** `view`, or for an empty one a one-byte stand-in (pass the length as 0): never a null pointer across the FFI. */
export function pointable(view: Uint8Array): Uint8Array {
  return view.byteLength === 0 ? POINTER_BYTE : view;
}
const MAX_UINT32 = 0xffffffff;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  if (typeof value !== "object") return typeof value;
  try {
    // A hostile object (a Proxy, a throwing getter) must not turn a TypeError into its own error.
    const name: unknown = (value as object).constructor?.name;
    return typeof name === "string" ? name : "object";
  } catch {
    return "object";
  }
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

// The engine's own accessors: an own property or a subclass getter named
// `byteLength` must never make the native side read past a view.
type Getter<T> = (this: unknown) => T;
function intrinsic<T>(prototype: object, name: string): Getter<T> {
  return Object.getOwnPropertyDescriptor(prototype, name)!.get as Getter<T>;
}
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedBuffer = intrinsic<ArrayBufferLike>(typedArrayPrototype, "buffer");
const typedOffset = intrinsic<number>(typedArrayPrototype, "byteOffset");
const typedLength = intrinsic<number>(typedArrayPrototype, "byteLength");
const viewBuffer = intrinsic<ArrayBufferLike>(DataView.prototype, "buffer");
const viewOffset = intrinsic<number>(DataView.prototype, "byteOffset");
const viewLength = intrinsic<number>(DataView.prototype, "byteLength");
const bufferDetached = intrinsic<boolean>(ArrayBuffer.prototype, "detached");

/** The real buffer, offset and length of a view (never its own, overridable properties). */
function viewParts(value: ArrayBufferView, name: string): { buffer: ArrayBufferLike; offset: number; length: number } {
  const typed = types.isTypedArray(value);
  const buffer = typed ? typedBuffer.call(value) : viewBuffer.call(value);
  if (types.isArrayBuffer(buffer) && bufferDetached.call(buffer)) {
    throw new TypeError(`${name} is backed by a detached ArrayBuffer`);
  }
  if (typed) return { buffer, offset: typedOffset.call(value), length: typedLength.call(value) };
  try {
    return { buffer, offset: viewOffset.call(value), length: viewLength.call(value) };
  } catch {
    throw new TypeError(`${name} is a DataView out of the bounds of its resized ArrayBuffer`);
  }
}

/** A byte address of exactly `size` bytes (16 for IPv6, 4 for IPv4). */
export function ipBytes(value: unknown, size: 4 | 16, name = "ip"): Uint8Array {
  if (!types.isUint8Array(value)) {
    const hint = size === 16 ? "parseIp6()" : "parseIp4()";
    throw new TypeError(`${name} must be a Uint8Array of ${size} bytes (see ${hint}), got ${describe(value)}`);
  }
  const length = viewParts(value, name).length;
  if (length !== size) throw new RangeError(`${name} must be exactly ${size} bytes, got ${length}`);
  return value;
}

/**
 * A buffer argument as bytes: strings are UTF-8 encoded, views are used in
 * place (their offset and length honoured, never copied). A typed array that
 * a resize left out of bounds of its buffer reads as empty.
 */
export function bytes(value: unknown, name = "buf"): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (ArrayBuffer.isView(value)) {
    const { buffer, offset, length } = viewParts(value, name);
    return new Uint8Array(buffer, offset, length);
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
