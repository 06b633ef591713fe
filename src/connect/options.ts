/**
 * The option checks of the connect layers, one rule per option, each
 * throwing a TypeError (wrong type) or RangeError (right type, bad value)
 * that names the option: `checkConnectOptions` for `connect()`, and
 * `checkCreateConnectionOptions` for node:net's `createConnection` (which
 * takes node's forms: `null` for absent, a numeric string port). The
 * libowfat layer's argument checks (fds, byte views, FFI ranges) stay in
 * `lowlevel/validate.ts`; the payload is read through them.
 */
import type { LookupFunction as NodeLookup } from "node:net";
import type { Socket, SocketHandler, TLSOptions } from "bun";
import { unbracket } from "../lowlevel/address.ts";
import { bytes, EMPTY_BYTES } from "../lowlevel/validate.ts";
import type { LookupFunction } from "./resolve.ts";

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
  connectTimeout?: number;
  /** Aborts the connect (rejects with ABORT_ERR). No effect once the promise has settled. */
  signal?: AbortSignal;
  /**
   * Happy Eyeballs: ms before the next address is tried alongside (default
   * 250), in every mode. With `payload`, `lazy` or `tls` the next attempt
   * carries the same first flight (the payload, what a lazy `open` wrote,
   * the ClientHello): when both hosts answer within the race, the first
   * flight may reach two hosts (the loser's connection is reset), a window
   * bounded by `attemptDelay`.
   */
  attemptDelay?: number;
  /** The DNS lookup to use (default `Bun.dns.lookup`). */
  lookup?: LookupFunction;
}

/**
 * An internal option of `connect()` (not part of its public options): a
 * function called with the Bun socket as soon as Bun has adopted an
 * attempt's fd, before the connection is established (not on the lean path,
 * where the socket is established at once and `open` runs). The node:net
 * layer uses it to unref a connecting socket and to close it on `destroy()`.
 */
export const ON_ADOPTED: unique symbol = Symbol("fastopen.onAdopted");

/** Default Happy Eyeballs connection attempt delay (RFC 8305 recommends 250 ms). */
export const DEFAULT_ATTEMPT_DELAY_MS = 250;

/**
 * A `connect()` call's options, checked: what its attempts share (each
 * attempt references it). The payload is a checked view of the caller's
 * bytes, used during the call (`connect()` copies it, or what is left of
 * it, when it must outlive the call); `lazy` is set with `tls`; `tls` has
 * its `serverName`.
 */
export interface CheckedConnect<Data> {
  readonly hostname: string;
  readonly port: number;
  readonly handlers: SocketHandler<Data>;
  readonly data: Data | undefined;
  readonly allowHalfOpen: boolean;
  readonly payload: Uint8Array;
  readonly fastOpen: boolean;
  readonly lazy: boolean;
  readonly tls: TLSOptions | boolean | undefined;
  readonly connectTimeout: number;
  readonly signal: AbortSignal | undefined;
  readonly attemptDelay: number;
  readonly lookup: LookupFunction | undefined;
  /** See `ON_ADOPTED`. */
  readonly onAdopted?: ((socket: Socket<Data>) => void) | undefined;
  /**
   * Internal (the node:net layer's optimistic connect, `connectOptimistic`):
   * lazy only to a host with one address (a race needs the first flight at
   * once); a deferred `open` that wrote nothing leaves the SYN waiting for
   * the first write (an empty write sends it empty).
   */
  readonly optimistic?: boolean;
}

/**
 * A node:net socket's own options (`new FastOpenSocket(options)`), checked:
 * undefined where not given (`null` is absent, as in node:net).
 */
export interface CheckedSocketOptions {
  family: 0 | 4 | 6 | undefined;
  timeout: number | undefined;
  connectTimeout: number | undefined;
  fastOpen: boolean | undefined;
  optimistic: boolean | undefined;
  noDelay: boolean | undefined;
  keepAlive: boolean | undefined;
  keepAliveInitialDelay: number | undefined;
  allowHalfOpen: boolean | undefined;
}

/** The TFO defaults a socket gives its `connect()`: they fill what the connect's options leave out. */
export type ConnectDefaults = Pick<CheckedSocketOptions, "family" | "connectTimeout" | "fastOpen" | "optimistic">;

/** `createConnection`'s options, checked (node:net forms normalised). */
export interface CheckedCreateConnection {
  host: string;
  port: number;
  family: 0 | 4 | 6;
  /** The idle timeout (`setTimeout`), undefined when not given. */
  timeout: number | undefined;
  connectTimeout: number;
  signal: AbortSignal | undefined;
  fastOpen: boolean;
  /** Optimistic connect (default true): `'connect'` before the handshake when the SYN waits for data. */
  optimistic: boolean;
  noDelay: boolean | undefined;
  keepAlive: boolean | undefined;
  keepAliveInitialDelay: number;
  allowHalfOpen: boolean;
  /** node:net's `lookup` option (`dns.lookup`'s signature), undefined when not given. */
  lookup: NodeLookup | undefined;
}

/** Longest delay a timer takes (setTimeout turns a longer one into 1 ms). */
export const MAX_TIMER_MS = 0x7fffffff;

const HANDLER_NAMES = [
  "open",
  "close",
  "error",
  "data",
  "drain",
  "handshake",
  "end",
  "connectError",
  "timeout",
] as const;

type Options = Record<string, unknown>;

/** `options` as an object of options; `what` names the call in the TypeError. */
export function optionsObject(options: unknown, what: string): Options {
  if (typeof options !== "object" || options === null) throw new TypeError(`${what} needs an options object`);
  return options as Options;
}

/** A boolean option (undefined: `fallback`). */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** A duration in ms that a timer can take, 0..2^31-1 (undefined: `fallback`). */
export function msOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be a finite number >= 0 (ms, at most ${MAX_TIMER_MS}), got ${value}`);
  }
  return value;
}

/** An abort signal, or undefined. */
export function signalOption(value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
  return value;
}

/** A host name or IP literal: a non-empty string. */
export function hostOption(name: string, value: unknown): string {
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${typeof value}`);
  if (value === "") throw new RangeError(`${name} must not be empty`);
  return value;
}

/**
 * The port to connect to, an integer in 1..65535; with `numericString` (node:net)
 * also as decimal text. A bad value is a RangeError with node's code ERR_SOCKET_BAD_PORT.
 */
export function portOption(value: unknown, numericString = false): number {
  const text = numericString && typeof value === "string";
  if (typeof value !== "number" && !text) {
    const what = numericString ? "a number or a numeric string" : "a number";
    throw new TypeError(`port must be ${what}, got ${value === null ? "null" : typeof value}`);
  }
  const port = typeof value === "string" ? (/^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN) : value;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    const error = new RangeError(`port must be an integer in 1..65535, got ${shown}`);
    (error as RangeError & { code: string }).code = "ERR_SOCKET_BAD_PORT";
    throw error;
  }
  return port;
}

/** A handler slot: absent or a function. */
const handlerOk = (value: unknown): boolean => value === undefined || typeof value === "function";

/** The socket handlers of `Bun.connect`: functions where given, `data` or `drain` at least. */
export function handlersOption<Data>(handlers: unknown): SocketHandler<Data> {
  if (typeof handlers !== "object" || handlers === null) throw new TypeError("socket must be an object of handlers");
  const h = handlers as Options;
  // Each read by name (one inline cache each: cheaper per connection than a loop over the names).
  const ok =
    handlerOk(h.open) &&
    handlerOk(h.close) &&
    handlerOk(h.error) &&
    handlerOk(h.data) &&
    handlerOk(h.drain) &&
    handlerOk(h.handshake) &&
    handlerOk(h.end) &&
    handlerOk(h.connectError) &&
    handlerOk(h.timeout);
  if (!ok) {
    const name = HANDLER_NAMES.find((n) => !handlerOk(h[n]));
    throw new TypeError(`socket.${name} must be a function`);
  }
  const { data, drain } = h;
  if (data === undefined && drain === undefined) throw new TypeError('Expected at least "data" or "drain" callback');
  return handlers as SocketHandler<Data>;
}

/**
 * The TLS options with `serverName` defaulting to the hostname, as
 * `Bun.connect({ hostname, tls })` does: an adopted fd has no hostname, and
 * without it neither SNI is sent nor the certificate's identity checked.
 */
function tlsOption(tls: unknown, hostname: string): TLSOptions | boolean | undefined {
  if (tls !== undefined && typeof tls !== "boolean" && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be a boolean or a TLS options object");
  }
  if (tls === undefined || tls === false) return tls;
  const name = unbracket(hostname).replace(/%.*$/, "");
  if (tls === true) return { serverName: name };
  const given = tls as TLSOptions & { servername?: unknown };
  if (given.serverName !== undefined || given.servername !== undefined) return given;
  return { ...given, serverName: name };
}

/**
 * The payload, checked (a string encoded), as a view of the caller's bytes:
 * most connects hand it all to the kernel in the connect call, so no copy
 * is made here (see `CheckedConnect`).
 */
function payloadOption(value: unknown): Uint8Array {
  if (value === undefined) return EMPTY_BYTES;
  return bytes(value, "payload");
}

/** Checks `connect` options; throws TypeError/RangeError naming the bad one. */
export function checkConnectOptions<Data>(options: ConnectOptions<Data>): CheckedConnect<Data> {
  const given = optionsObject(options, "connect()");
  const hostname = hostOption("hostname", options.hostname);
  const port = portOption(options.port);
  const handlers = handlersOption<Data>(options.socket);
  const payload = payloadOption(options.payload);
  const tls = tlsOption(options.tls, hostname);
  const secure = tls !== undefined && tls !== false;
  if (secure && payload.byteLength > 0) {
    throw new TypeError(
      "payload cannot be combined with tls: the ClientHello rides in the SYN; write your data after the handshake",
    );
  }
  const signal = signalOption(options.signal);
  if (options.lookup !== undefined && typeof options.lookup !== "function") {
    throw new TypeError("lookup must be a function");
  }
  return {
    hostname,
    port,
    handlers,
    data: options.data,
    allowHalfOpen: booleanOption("allowHalfOpen", given.allowHalfOpen, false),
    payload,
    fastOpen: booleanOption("fastOpen", given.fastOpen, true),
    lazy: booleanOption("lazy", given.lazy, false) || secure,
    tls,
    connectTimeout: msOption("connectTimeout", given.connectTimeout, 0),
    signal,
    attemptDelay: msOption("attemptDelay", given.attemptDelay, DEFAULT_ATTEMPT_DELAY_MS),
    lookup: options.lookup,
    onAdopted: (options as { [ON_ADOPTED]?: (socket: Socket<Data>) => void })[ON_ADOPTED],
  };
}

/** Option `name` of node:net options (`null` is absent: undefined). */
function nodeOption(given: Options, name: string): unknown {
  return given[name] ?? undefined;
}

/** A node:net boolean option, undefined when absent. */
function nodeBoolean(given: Options, name: string): boolean | undefined {
  const value = nodeOption(given, name);
  return value === undefined ? undefined : booleanOption(name, value, false);
}

/** A node:net duration option in ms, undefined when absent. */
function nodeMs(given: Options, name: string): number | undefined {
  const value = nodeOption(given, name);
  return value === undefined ? undefined : msOption(name, value, 0);
}

/** node:net's `family` option: 0, 4 or 6, undefined when absent. */
function familyOption(given: Options): 0 | 4 | 6 | undefined {
  const family = nodeOption(given, "family");
  if (family !== undefined && typeof family !== "number")
    throw new TypeError(`family must be a number, got ${typeof family}`);
  if (family !== undefined && family !== 0 && family !== 4 && family !== 6)
    throw new RangeError(`family must be 0, 4 or 6, got ${family}`);
  return family;
}

/** Checks a node:net socket's own options (`null` is absent); throws TypeError/RangeError naming the bad one. */
export function checkSocketOptions(options: unknown, what = "new FastOpenSocket()"): CheckedSocketOptions {
  const given = optionsObject(options, what);
  return {
    family: familyOption(given),
    timeout: nodeMs(given, "timeout"),
    connectTimeout: nodeMs(given, "connectTimeout"),
    fastOpen: nodeBoolean(given, "fastOpen"),
    optimistic: nodeBoolean(given, "optimistic"),
    noDelay: nodeBoolean(given, "noDelay"),
    keepAlive: nodeBoolean(given, "keepAlive"),
    keepAliveInitialDelay: nodeMs(given, "keepAliveInitialDelay"),
    allowHalfOpen: nodeBoolean(given, "allowHalfOpen"),
  };
}

const NO_DEFAULTS: ConnectDefaults = {
  family: undefined,
  connectTimeout: undefined,
  fastOpen: undefined,
  optimistic: undefined,
};

/**
 * Checks `createConnection` options (node:net's: `null` is absent); throws
 * TypeError/RangeError naming the bad one. `defaults` (a socket's TFO
 * defaults) fill `family`, `connectTimeout`, `fastOpen` and `optimistic` where not given.
 */
export function checkCreateConnectionOptions(
  options: unknown,
  defaults: ConnectDefaults = NO_DEFAULTS,
): CheckedCreateConnection {
  const given = optionsObject(options, "createConnection()");
  if (nodeOption(given, "socketPath") !== undefined) {
    throw new TypeError(
      "socketPath: Unix domain sockets are not supported by fastopen's createConnection (use node:net)",
    );
  }
  if (nodeOption(given, "localAddress") !== undefined) {
    throw new TypeError("localAddress is not supported by fastopen's createConnection");
  }
  const localPort = nodeOption(given, "localPort");
  if (localPort !== undefined && localPort !== 0) {
    throw new TypeError("localPort is not supported by fastopen's createConnection");
  }
  const host = hostOption("host", nodeOption(given, "host") ?? nodeOption(given, "hostname") ?? "localhost");
  // In checkSocketOptions' order, so that the first bad option is the one named.
  const family = familyOption(given);
  const timeout = nodeMs(given, "timeout");
  const connectTimeout = nodeMs(given, "connectTimeout");
  const fastOpen = nodeBoolean(given, "fastOpen");
  const optimistic = nodeBoolean(given, "optimistic");
  const noDelay = nodeBoolean(given, "noDelay");
  const keepAlive = nodeBoolean(given, "keepAlive");
  const keepAliveInitialDelay = nodeMs(given, "keepAliveInitialDelay");
  const allowHalfOpen = nodeBoolean(given, "allowHalfOpen");
  const lookup = nodeOption(given, "lookup");
  if (lookup !== undefined && typeof lookup !== "function")
    throw new TypeError(`lookup must be a function, got ${typeof lookup}`);
  return {
    host,
    port: portOption(given.port, true),
    family: family ?? defaults.family ?? 0,
    timeout,
    connectTimeout: connectTimeout ?? defaults.connectTimeout ?? 0,
    signal: signalOption(nodeOption(given, "signal")),
    fastOpen: fastOpen ?? defaults.fastOpen ?? true,
    optimistic: optimistic ?? defaults.optimistic ?? true,
    noDelay,
    keepAlive,
    keepAliveInitialDelay: keepAliveInitialDelay ?? 0,
    allowHalfOpen: allowHalfOpen ?? false,
    lookup: lookup as NodeLookup | undefined,
  };
}
