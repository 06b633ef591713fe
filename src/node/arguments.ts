/**
 * The node:net layer's options (`new FastOpenSocket()`, `socket.connect()`,
 * `createConnection()`) and node:net's argument forms. They are checked by
 * `connect/options.ts`, the one checker of the connect layers.
 */
import type { LookupFunction as NodeLookup } from "node:net";

export type { NodeLookup };

/** Options of `new FastOpenSocket(options)`: how the socket behaves, and the TFO defaults of its `connect()`. */
export interface FastOpenSocketOptions {
  /** 4 or 6: only addresses of that family (0 or absent: both). */
  family?: number;
  /** Idle timeout in ms, as `socket.setTimeout(timeout)`: emits `'timeout'`, does not close. */
  timeout?: number;
  /** Connect timeout in ms (0 or absent: none): the socket is destroyed with an ETIMEDOUT SystemError. */
  connectTimeout?: number;
  /** Use TFO (default true). False: a plain connect through the same code. */
  fastOpen?: boolean;
  /**
   * Optimistic connect (default true): when nothing was written by the time the connect starts and the kernel
   * defers the SYN (a cookie is known, the host has one address), the socket reports connected at once
   * (`connecting` false, `'connect'` on the next tick) and its first write rides in the SYN. A failed handshake is
   * then an `'error'` (ECONNREFUSED, ETIMEDOUT after `connectTimeout` or `HANDSHAKE_TIMEOUT_MS`) and `'close'`.
   * False: `'connect'` only once the handshake is done.
   */
  optimistic?: boolean;
  /** TCP_NODELAY once connected (as `setNoDelay`). */
  noDelay?: boolean;
  /** SO_KEEPALIVE once connected (as `setKeepAlive`). */
  keepAlive?: boolean;
  /** Keep-alive initial delay in ms. */
  keepAliveInitialDelay?: number;
  /** As in node:net: false (default) ends the writable side when the peer ends. Constructor only. */
  allowHalfOpen?: boolean;
}

/** Options of `createConnection` and `socket.connect(options)`: node:net's (TCP form) that apply, plus the TFO ones. */
export interface CreateConnectionOptions extends FastOpenSocketOptions {
  /** Host name or IP literal (default `"localhost"`). */
  host?: string | null;
  /** Used when `host` is absent (as `http.request` options carry it). */
  hostname?: string | null;
  /** TCP port, 1..65535 (a numeric string is accepted, as in node:net). */
  port?: number | string | null;
  /** Aborts the connect: the socket is destroyed with an ABORT_ERR error. */
  signal?: AbortSignal;
  /** A host name lookup with `dns.lookup`'s signature, as node:net takes it (default: Bun's DNS). */
  lookup?: NodeLookup | null;
  /** Not supported (Unix domain sockets): a TypeError. */
  socketPath?: string | null;
  /** Not supported: a TypeError when set. */
  localAddress?: string | null;
  /** Not supported: a TypeError when set to a non-zero port. */
  localPort?: number | null;
}

/** A connect listener, as node:net takes it. */
export type ConnectListener = (...args: never[]) => void;

/**
 * The arguments of `createConnection()` and `socket.connect()` as node:net
 * reads them: `(options, listener?)` or `(port, host?, listener?)`. A
 * non-numeric string first is node's `(path, listener?)`: a TypeError here.
 */
export function connectArguments(
  first: unknown,
  second: unknown,
  third: unknown,
): { options: CreateConnectionOptions; listener: ConnectListener | undefined } {
  let options: CreateConnectionOptions;
  let listener: unknown;
  if (typeof first === "object" && first !== null) {
    options = first as CreateConnectionOptions;
    listener = second;
  } else {
    if (typeof first === "string" && !/^\s*\d+\s*$/.test(first))
      throw new TypeError(
        `connect(${JSON.stringify(first)}): a path (Unix domain socket) is not supported; ` +
          "a port is a number or a numeric string",
      );
    options = { port: first as number | string, ...(typeof second === "string" ? { host: second } : {}) };
    listener = typeof second === "function" ? second : third;
  }
  if (listener !== undefined && listener !== null && typeof listener !== "function")
    throw new TypeError("connectListener must be a function");
  return { options, listener: (listener ?? undefined) as ConnectListener | undefined };
}
