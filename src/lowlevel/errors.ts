/**
 * errno names and numbers for this platform, the low-level layer's
 * `lastError()`, and Node-style SystemErrors for the async layer.
 */
import { constants } from "node:os";

const numberByName: Record<string, number> = { ...constants.errno };
const nameByNumber = new Map<number, string>();
for (const [name, value] of Object.entries(numberByName)) {
  if (!nameByNumber.has(value)) nameByNumber.set(value, name);
}
// Where two names share a number (Linux: ENOTSUP = EOPNOTSUPP = 95; FreeBSD: both 45), the one the C ABI and the
// docs use wins; the table's first would be ENOTSUP.
if (numberByName.EOPNOTSUPP !== undefined) nameByNumber.set(numberByName.EOPNOTSUPP, "EOPNOTSUPP");

/** The error of the last failed low-level call. */
export interface ErrnoInfo {
  /** Symbolic name, e.g. `"EINPROGRESS"`. */
  code: string;
  /** The platform's errno number, e.g. 115 on Linux. */
  errno: number;
  /** The libowfat-style function that failed, e.g. `"socket_fastopen_connect6"`. */
  syscall: string;
}

/** Symbolic name of an errno number (`"E<n>"` when the platform has no name for it). */
export function errnoName(errno: number): string {
  return nameByNumber.get(errno) ?? `E${errno}`;
}

/** This platform's number for an errno name, e.g. `errnoNumber("ECONNREFUSED")`. */
export function errnoNumber(code: string): number {
  const value = numberByName[code];
  if (value === undefined) throw new RangeError(`unknown errno name: ${code}`);
  return value;
}

let last: ErrnoInfo | null = null;

/** The error of the last low-level call that returned -1 (null before any). */
export function lastError(): ErrnoInfo | null {
  return last;
}

/**
 * Turns a native result (`>= 0` or `-errno`) into the libowfat contract:
 * the value, or -1 with `lastError()` set.
 */
export function fromNative(result: number, syscall: string): number {
  if (result >= 0) return result;
  const errno = -result;
  last = { code: errnoName(errno), errno, syscall };
  return -1;
}

/**
 * `result` when it is >= 0; otherwise throws the SystemError of `lastError()`
 * (code, errno, syscall), its message naming `what` (default: the syscall).
 * For callers that cannot go on after a failed low-level call (the demo, tests).
 */
export function must(result: number, what?: string): number {
  if (result >= 0) return result;
  const code = last?.code ?? "EIO";
  const syscall = last?.syscall ?? what ?? "unknown";
  throw systemError(code, syscall, { message: `${what ?? syscall} failed: ${code} (${syscall})` });
}

/** Records an error that did not come from a native call (for example still connecting). */
export function setLastError(code: string, syscall: string): void {
  last = { code, errno: errnoNumber(code), syscall };
}

/** A Node-style SystemError: an `Error` with `code`, `errno`, `syscall` and optionally `address`, `port`. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** Builds a SystemError; `errno` is negative as in Node (`-111` for ECONNREFUSED on Linux). */
export function systemError(
  code: string,
  syscall: string,
  details: { address?: string; port?: number; message?: string } = {},
): SystemError {
  const errno = code in numberByName ? -errnoNumber(code) : 0;
  const where =
    details.address === undefined ? "" : ` ${details.address}${details.port === undefined ? "" : `:${details.port}`}`;
  const error = new Error(details.message ?? `${syscall} ${code}${where}`) as SystemError;
  error.name = "SystemError";
  error.code = code;
  error.errno = errno;
  error.syscall = syscall;
  if (details.address !== undefined) error.address = details.address;
  if (details.port !== undefined) error.port = details.port;
  return error;
}
