/**
 * `connect(options)`: a drop-in for `Bun.connect` that opens the connection
 * with TCP Fast Open. The fd is made and connected natively
 * (`openFastOpenFd`), the payload goes in the SYN when a cookie is known and
 * the rest is written in order after the handshake, then the established fd
 * is handed to Bun's event loop with `Bun.connect({ fd })`.
 */
import type { Socket, SocketHandler, TLSOptions } from "bun";
import * as fo from "./lowlevel.ts";
import * as check from "./validate.ts";
import { systemError, type SystemError } from "./errors.ts";
import { resolveHost, type LookupFunction, type ResolvedAddress } from "./resolve.ts";
import { abortError, connectMode, openFastOpenFd, timeoutError, waitConnected, type FastOpenFd, type FastOpenFdOptions } from "./fastopen-fd.ts";
import { closeRecord, refreshRecord, registerConnection, type ConnectionRecord } from "./fastopen-status.ts";

/** Options of `connect`: those of `Bun.connect` (TCP form) plus the TFO ones. */
export interface ConnectOptions<Data = undefined> {
  /** Name (resolved with Bun's DNS, AAAA and A), IPv4 literal, or IPv6 literal (`fe80::1%eth0` allowed). */
  hostname: string;
  /** TCP port, 1..65535. */
  port: number;
  /** The socket handlers, as for `Bun.connect`. */
  socket: SocketHandler<Data>;
  /** The per-socket data (`socket.data`). */
  data?: Data;
  /** TLS as for `Bun.connect`; implies lazy TFO so the ClientHello rides in the SYN. */
  tls?: TLSOptions | boolean;
  /** As for `Bun.connect`. */
  allowHalfOpen?: boolean;
  /**
   * The first bytes to send: in the SYN when a cookie is known, the rest (or
   * all of it) written after the handshake, before `open` runs. Not with `tls`.
   */
  payload?: string | ArrayBufferView;
  /** Use TFO (default true). False: plain connect, the payload sent after the handshake. */
  fastOpen?: boolean;
  /**
   * Lazy TFO without a payload: the SYN waits for the first write, made
   * synchronously in `open`, and carries it. If `open` wrote nothing, the
   * SYN is sent empty as soon as it returns, so that a server that speaks
   * first is reached. Implied by `tls`.
   */
  lazy?: boolean;
  /** Connect timeout in ms (0 or absent: none). Rejects with ETIMEDOUT. */
  timeout?: number;
  /** Aborts the connect (rejects with ABORT_ERR). No effect once the promise has settled. */
  signal?: AbortSignal;
  /** Happy Eyeballs: ms before the next address is tried alongside (default 250; plain connects only). */
  attemptDelay?: number;
  /** The DNS lookup to use (default `Bun.dns.lookup`). */
  lookup?: LookupFunction;
}

/** Default Happy Eyeballs connection attempt delay (RFC 8305 recommends 250 ms). */
export const DEFAULT_ATTEMPT_DELAY_MS = 250;

/** Errors after which the next address is tried. */
const NEXT_ADDRESS_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EADDRNOTAVAIL",
  "EAFNOSUPPORT",
  "EINVAL",
  "EPERM",
  "EACCES",
]);

const HANDLER_NAMES = ["open", "close", "error", "data", "drain", "handshake", "end", "connectError", "timeout"] as const;

interface Checked<Data> {
  hostname: string;
  port: number;
  handlers: SocketHandler<Data>;
  payload: Uint8Array;
  fastOpen: boolean;
  lazy: boolean;
  tls: TLSOptions | boolean | undefined;
  timeout: number;
  signal: AbortSignal | undefined;
  attemptDelay: number;
  lookup: LookupFunction | undefined;
}

function optionalBoolean(options: object, name: string, fallback: boolean): boolean {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

function optionalNumber(options: object, name: string, fallback: number): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}

function checkHandlers<Data>(handlers: unknown): SocketHandler<Data> {
  if (typeof handlers !== "object" || handlers === null) throw new TypeError("socket must be an object of handlers");
  for (const name of HANDLER_NAMES) {
    const handler = (handlers as Record<string, unknown>)[name];
    if (handler !== undefined && typeof handler !== "function") throw new TypeError(`socket.${name} must be a function`);
  }
  const { data, drain } = handlers as Record<string, unknown>;
  if (data === undefined && drain === undefined) throw new TypeError('Expected at least "data" or "drain" callback');
  return handlers as SocketHandler<Data>;
}

/**
 * The TLS options with `serverName` defaulting to the hostname, as
 * `Bun.connect({ hostname, tls })` does: an adopted fd has no hostname, and
 * without it neither SNI is sent nor the certificate's identity checked.
 */
function withServerName(tls: TLSOptions | boolean | undefined, hostname: string): TLSOptions | boolean | undefined {
  if (tls === undefined || tls === false) return tls;
  const name = hostname.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (tls === true) return { serverName: name };
  const given = tls as TLSOptions & { servername?: unknown };
  if (given.serverName !== undefined || given.servername !== undefined) return tls;
  return { ...tls, serverName: name };
}

/** Checks `connect` options; throws TypeError/RangeError naming the bad one. */
function checkOptions<Data>(options: ConnectOptions<Data>): Checked<Data> {
  if (typeof options !== "object" || options === null) throw new TypeError("connect() needs an options object");
  if (typeof options.hostname !== "string") throw new TypeError(`hostname must be a string, got ${typeof options.hostname}`);
  const port = check.integer("port", options.port, 1, 65535);
  const handlers = checkHandlers<Data>(options.socket);
  const payload = options.payload === undefined ? new Uint8Array(0) : check.bytes(options.payload, "payload").slice();
  const tls = options.tls;
  if (tls !== undefined && typeof tls !== "boolean" && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be a boolean or a TLS options object");
  }
  const secure = tls !== undefined && tls !== false;
  if (secure && payload.byteLength > 0) {
    throw new TypeError("payload cannot be combined with tls: the ClientHello rides in the SYN; write your data after the handshake");
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
  if (options.lookup !== undefined && typeof options.lookup !== "function") throw new TypeError("lookup must be a function");
  optionalBoolean(options, "allowHalfOpen", false);
  return {
    hostname: options.hostname,
    port,
    handlers,
    payload,
    fastOpen: optionalBoolean(options, "fastOpen", true),
    lazy: optionalBoolean(options, "lazy", false) || secure,
    tls: withServerName(tls, options.hostname),
    timeout: optionalNumber(options, "timeout", 0),
    signal,
    attemptDelay: optionalNumber(options, "attemptDelay", DEFAULT_ATTEMPT_DELAY_MS),
    lookup: options.lookup,
  };
}

/** Settles with `promise`, or rejects on abort or at the deadline. */
function bounded<T>(promise: Promise<T>, signal: AbortSignal | undefined, deadline: number | null, where: string, port: number): Promise<T> {
  if (signal === undefined && deadline === null) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = deadline === null ? undefined : setTimeout(() => finish(() => reject(timeoutError(where, port))), Math.max(0, deadline - performance.now()));
    const onAbort = (): void => finish(() => reject(abortError(where, port, signal?.reason)));
    function finish(action: () => void): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      action();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** Tries the addresses one after another (used when data may ride in the SYN: never twice at once). */
async function inTurn(addresses: ResolvedAddress[], base: Omit<FastOpenFdOptions, "address">): Promise<FastOpenFd> {
  let first: unknown;
  for (let i = 0; i < addresses.length; i++) {
    try {
      return await openFastOpenFd({ ...base, address: addresses[i]! });
    } catch (error) {
      first ??= error;
      const code = (error as { code?: unknown }).code;
      if (typeof code !== "string" || !NEXT_ADDRESS_CODES.has(code)) throw error;
    }
  }
  throw first;
}

/**
 * Happy Eyeballs (RFC 8305): starts the next address when the current
 * attempt has not connected within `delayMs` or has failed; the first to
 * connect wins and the others are aborted (their fds closed).
 */
function race(addresses: ResolvedAddress[], base: Omit<FastOpenFdOptions, "address">, delayMs: number): Promise<FastOpenFd> {
  return new Promise((resolve, reject) => {
    const controllers: AbortController[] = [];
    let next = 0;
    let pending = 0;
    let done = false;
    let first: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (action: () => void): void => {
      done = true;
      clearTimeout(timer);
      action();
      for (const controller of controllers) controller.abort();
    };
    const start = (): void => {
      if (done || next >= addresses.length) return;
      const own = new AbortController();
      controllers.push(own);
      const signal = base.signal === undefined ? own.signal : AbortSignal.any([base.signal, own.signal]);
      const address = addresses[next++]!;
      pending++;
      clearTimeout(timer);
      timer = setTimeout(start, delayMs);
      openFastOpenFd({ ...base, address, signal }).then(
        (opened) => {
          pending--;
          if (done) fo.socketClose(opened.fd);
          else settle(() => resolve(opened));
        },
        (error: unknown) => {
          pending--;
          if (done) return;
          first ??= error;
          const code = (error as { code?: unknown }).code;
          const overall = code === "ETIMEDOUT" || code === "ABORT_ERR" || typeof code !== "string" || !NEXT_ADDRESS_CODES.has(code);
          if (overall) settle(() => reject(error));
          else if (next < addresses.length) start();
          else if (pending === 0) settle(() => reject(first));
        },
      );
    };
    start();
  });
}

/**
 * Sends the SYN of a deferred lazy connection that nothing was written to
 * (a zero-length send); a no-op once the SYN has left.
 */
function kick(record: ConnectionRecord): void {
  if (!record.closed) fo.socketSend(record.fd, new Uint8Array(0));
}

/** State shared between the wrapped handlers and `connect` while the promise is pending. */
interface Pending {
  /** Called after the user's `open` ran (and, lazily, the SYN was sent). */
  opened: () => void;
  /** Called once the connection counts as established (TLS: handshake done). */
  ready: () => void;
  /** Called when the socket closes before that. */
  failed: (error: Error | undefined) => void;
  /** Last error a handler reported. */
  error: Error | undefined;
}

/**
 * The user's handlers, wrapped to keep the TFO record current, send the SYN
 * of an idle lazy connection, and tell `connect` when a TLS connection is
 * ready or failed. Handlers the user did not give are not added (Bun calls
 * `open` after the TLS handshake only when there is no `handshake` handler).
 */
function wrapHandlers<Data>(user: SocketHandler<Data>, record: ConnectionRecord, opened: FastOpenFd, secure: boolean, pending: Pending): SocketHandler<Data> {
  const handlers: SocketHandler<Data> = { ...user };
  const userHandshake = user.handshake;
  handlers.open = (socket) => {
    const result = user.open?.(socket);
    if (opened.deferred && !secure) kick(record);
    pending.opened();
    if (secure && userHandshake === undefined) pending.ready();
    return result;
  };
  if (secure && userHandshake !== undefined) {
    handlers.handshake = (socket, success, authorizationError) => {
      refreshRecord(record);
      userHandshake.call(user, socket, success, authorizationError);
      pending.ready();
    };
  }
  if (opened.deferred && user.data !== undefined) {
    const userData = user.data;
    let fresh = false;
    handlers.data = (socket, data) => {
      if (!fresh) fresh = refreshRecord(record)?.state === 1;
      return userData.call(user, socket, data);
    };
  }
  handlers.error = (socket, error) => {
    pending.error = error;
    return user.error?.(socket, error);
  };
  handlers.end = (socket) => {
    refreshRecord(record);
    return user.end?.(socket);
  };
  handlers.close = (socket, error) => {
    closeRecord(record, false);
    pending.failed(error ?? pending.error);
    return user.close?.(socket, error);
  };
  return handlers;
}

/**
 * Makes the socket's closing methods read the kernel's TFO report first, so
 * `fastOpenStatus` still knows it after a local close (Bun closes the fd).
 */
function snapshotOnClose<Data>(socket: Socket<Data>, record: ConnectionRecord): void {
  for (const name of ["end", "terminate", "shutdown", "close"] as const) {
    const original = (socket as unknown as Record<string, unknown>)[name];
    if (typeof original !== "function") continue;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      refreshRecord(record);
      return (original as (...a: unknown[]) => unknown).apply(socket, args);
    };
    try {
      Object.defineProperty(socket, name, { value: wrapped, configurable: true, writable: true });
    } catch {
      // Bun may forbid it; the report then stays as last read.
    }
  }
}

/** Gives a lazily connected socket its peer address when Bun read it before the SYN left. */
function fillPeer<Data>(socket: Socket<Data>, opened: FastOpenFd): void {
  if (typeof socket.remoteAddress === "string" && socket.remoteAddress !== "") return;
  const family = opened.address.family === 4 ? "IPv4" : "IPv6";
  try {
    Object.defineProperty(socket, "remoteAddress", { value: opened.address.address, configurable: true });
    Object.defineProperty(socket, "remotePort", { value: opened.port, configurable: true });
    Object.defineProperty(socket, "remoteFamily", { value: family, configurable: true });
  } catch {
    // Bun may forbid it; the address is still in the connect options.
  }
}

function closedEarly(error: Error | undefined, opened: FastOpenFd, secure: boolean): SystemError {
  const { address } = opened.address;
  const code = (error as { code?: unknown } | undefined)?.code;
  const what = secure ? "before the TLS handshake completed" : "before it was established";
  return systemError(typeof code === "string" ? code : "ECONNRESET", "connect", {
    address,
    port: opened.port,
    message: `connection to ${address}:${opened.port} closed ${what}${error === undefined ? "" : `: ${error.message}`}`,
  });
}

/** Hands the fd to Bun and waits, for TLS, for the handshake. */
async function adopt<Data>(opened: FastOpenFd, options: ConnectOptions<Data>, checked: Checked<Data>, deadline: number | null): Promise<Socket<Data>> {
  const secure = checked.tls !== undefined && checked.tls !== false;
  const record: ConnectionRecord = {
    fd: opened.fd,
    mode: opened.mode,
    attempted: opened.attempted,
    refused: opened.refused,
    bytesInSyn: opened.bytesInSyn,
    bytesAfterHandshake: opened.bytesAfterHandshake,
    last: null,
    closed: false,
  };
  if (!opened.deferred) refreshRecord(record);
  const { promise: established, resolve, reject } = Promise.withResolvers<void>();
  established.catch(() => {});
  let settled = false;
  const closed = new AbortController();
  const where = { address: opened.address, port: opened.port, deadline, signal: closed.signal };
  const pending: Pending = {
    opened: () => {
      // A lazy connect without TLS: the SYN has left with the first write (or empty); wait for the handshake.
      if (opened.deferred && !secure) waitConnected(opened.fd, where).then(pending.ready, fail);
    },
    ready: () => {
      settled = true;
      resolve();
    },
    failed: (error) => {
      if (!settled) reject(closedEarly(error, opened, secure));
      settled = true;
      closed.abort();
    },
    error: undefined,
  };
  function fail(error: unknown): void {
    if (!settled) reject(error);
    settled = true;
  }
  const handlers = wrapHandlers(checked.handlers, record, opened, secure, pending);
  let socket: Socket<Data>;
  try {
    const adoptOptions = { fd: opened.fd, socket: handlers, data: options.data as Data, allowHalfOpen: options.allowHalfOpen ?? false };
    socket = await Bun.connect(secure ? { ...adoptOptions, tls: checked.tls } : adoptOptions);
  } catch (error) {
    closeRecord(record, false);
    fo.socketClose(opened.fd);
    throw error;
  }
  registerConnection(socket, record);
  snapshotOnClose(socket, record);
  fillPeer(socket, opened);
  if (!secure && !opened.deferred) return socket;
  try {
    await bounded(established, checked.signal, deadline, opened.address.address, opened.port);
  } catch (error) {
    settled = true;
    closed.abort();
    if (!record.closed) socket.terminate();
    throw error;
  }
  refreshRecord(record);
  return socket;
}

/**
 * Opens a TCP (or TLS) connection with TCP Fast Open: a drop-in for
 * `Bun.connect` with the same handlers (`open`, `data`, `drain`, `close`,
 * `end`, `error`, `timeout`, `connectError`, `handshake`) and the same
 * `data`, `tls` and `allowHalfOpen` options, plus `payload`, `fastOpen`,
 * `lazy`, `timeout` and `signal`.
 *
 * Resolves to Bun's `Socket` once the connection is established and the
 * whole payload has been handed to the kernel (with `tls`: once the TLS
 * handshake has completed; for a lazy connect without TLS: once `open` has
 * run, its first synchronous write riding in the SYN, and the handshake has
 * completed; in lazy mode `open` thus runs before the handshake, and a
 * failed connect also calls `close`). Rejects with a SystemError carrying `code`,
 * `errno`, `syscall`, `address` and `port` (ECONNREFUSED, ETIMEDOUT,
 * ABORT_ERR, ENOTFOUND, ...), after calling `socket.connectError` when given;
 * bad options reject with a TypeError or RangeError. No fd is left open on
 * any failure. See `fastOpenStatus(socket)` for what TFO did.
 */
export async function connect<Data = undefined>(options: ConnectOptions<Data>): Promise<Socket<Data>> {
  const checked = checkOptions(options);
  try {
    return await connectChecked(options, checked);
  } catch (error) {
    const onError = checked.handlers.connectError;
    if (onError !== undefined) {
      try {
        await onError.call(checked.handlers, null as unknown as Socket<Data>, error as Error);
      } catch {
        // A throwing connectError handler must not hide the connect error.
      }
    }
    throw error;
  }
}

async function connectChecked<Data>(options: ConnectOptions<Data>, checked: Checked<Data>): Promise<Socket<Data>> {
  const { signal, port } = checked;
  if (signal?.aborted === true) throw abortError(checked.hostname, port, signal.reason);
  const deadline = checked.timeout > 0 ? performance.now() + checked.timeout : null;
  const addresses = await bounded(resolveHost(checked.hostname, checked.lookup), signal, deadline, checked.hostname, port);
  const base = { port, payload: checked.payload, fastOpen: checked.fastOpen, lazy: checked.lazy, deadline, signal };
  const mode = connectMode(checked.payload, checked.fastOpen, checked.lazy);
  const opened =
    mode === "plain" && addresses.length > 1 ? await race(addresses, base, checked.attemptDelay) : await inTurn(addresses, base);
  return adopt(opened, options, checked, deadline);
}
