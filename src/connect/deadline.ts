/**
 * The end of a `connect()`: its `connectTimeout` deadline and its abort
 * signal, watched by one timer and one listener, and the SystemErrors the
 * attempts they stop reject with.
 */
import { type SystemError, systemError } from "../lowlevel/errors.ts";

/** Makes the error that an attempt to `address:port` stops with. */
export type StopError = (address: string, port: number) => Error;

/** What stops a connect: an abort signal, a deadline (a `performance.now()` time), both, or neither. */
export interface Limit {
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | null;
}

/** The error a timed-out attempt rejects with: ETIMEDOUT, syscall `connect`. */
export function timeoutError(address: string, port: number): SystemError {
  return systemError("ETIMEDOUT", "connect", { address, port, message: `connect ETIMEDOUT ${address}:${port}` });
}

/** The error an aborted attempt rejects with: name AbortError, code ABORT_ERR. */
export function abortError(address: string | undefined, port: number | undefined, reason?: unknown): SystemError {
  const where = address === undefined ? "" : ` ${address}:${port}`;
  const error = systemError("ABORT_ERR", "connect", { message: `The operation was aborted${where}` });
  error.name = "AbortError";
  if (address !== undefined) error.address = address;
  if (port !== undefined) error.port = port;
  if (reason !== undefined) (error as { cause?: unknown }).cause = reason;
  return error;
}

/** The limit of a connect given `signal` and `timeoutMs` (0: no deadline), starting now. */
export function limitOf(signal: AbortSignal | undefined, timeoutMs: number): Limit {
  return { signal, deadline: timeoutMs > 0 ? performance.now() + timeoutMs : null };
}

/** Whether `limit` can stop anything (a signal or a deadline). */
export function limited(limit: Limit): boolean {
  return limit.signal !== undefined || limit.deadline !== null;
}

const UNWATCHED = (): void => {};

/**
 * Calls `stop` once, with the error maker, when the deadline passes or the
 * signal aborts (whichever comes first); returns the function that stops
 * watching. Never calls `stop` synchronously.
 */
export function watch(limit: Limit, stop: (error: StopError) => void): () => void {
  if (!limited(limit)) return UNWATCHED;
  const { signal, deadline } = limit;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unwatch = (): void => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  const onAbort = (): void => {
    unwatch();
    stop((address, port) => abortError(address, port, signal?.reason));
  };
  const onTimeout = (): void => {
    unwatch();
    stop(timeoutError);
  };
  if (deadline !== null) timer = setTimeout(onTimeout, Math.max(0, deadline - performance.now()));
  signal?.addEventListener("abort", onAbort, { once: true });
  return unwatch;
}

/** Settles with `promise`, or rejects (as an attempt to `address:port`) on abort or at the deadline. */
export function bounded<T>(promise: Promise<T>, limit: Limit, address: string, port: number): Promise<T> {
  if (!limited(limit)) return promise;
  return new Promise<T>((resolve, reject) => {
    const unwatch = watch(limit, (error) => reject(error(address, port)));
    promise.then(
      (value) => {
        unwatch();
        resolve(value);
      },
      (error: unknown) => {
        unwatch();
        reject(error);
      },
    );
  });
}
