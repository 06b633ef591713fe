/**
 * The options of `new FastOpenSocket()`, `socket.connect()` and
 * `createConnection()`, and their checks: a bad one throws a TypeError or
 * RangeError naming it, before anything is changed or opened.
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

/** The checked `FastOpenSocketOptions`; undefined where not given. */
export interface Settings {
  family: 0 | 4 | 6 | undefined;
  timeout: number | undefined;
  connectTimeout: number | undefined;
  fastOpen: boolean | undefined;
  noDelay: boolean | undefined;
  keepAlive: boolean | undefined;
  keepAliveInitialDelay: number | undefined;
  allowHalfOpen: boolean | undefined;
}

/** Where to connect, checked. */
export interface Destination {
  host: string;
  port: number;
  signal: AbortSignal | undefined;
  lookup: NodeLookup | undefined;
}

/** A connect listener, as node:net takes it. */
export type ConnectListener = (...args: never[]) => void;

/** Longest delay a timer takes (setTimeout turns a longer one into 1 ms). */
const MAX_TIMER_MS = 0x7fffffff;

function badPort(value: unknown): RangeError {
  const error = new RangeError(
    `port must be an integer in 1..65535, got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
  );
  (error as RangeError & { code: string }).code = "ERR_SOCKET_BAD_PORT";
  return error;
}

function checkPort(value: unknown): number {
  if (typeof value !== "number" && typeof value !== "string")
    throw new TypeError(`port must be a number or a numeric string, got ${value === null ? "null" : typeof value}`);
  const port = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) throw badPort(value);
  return port;
}

function optional<T>(options: object, name: string, type: "boolean" | "number"): T | undefined {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new TypeError(`${name} must be a ${type}, got ${typeof value}`);
  if (type === "number" && (!Number.isFinite(value) || (value as number) < 0))
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  return value as T;
}

/** A delay in ms that a timer can take (0..2^31-1). */
function optionalDelay(options: object, name: string): number | undefined {
  const value = optional<number>(options, name, "number");
  if (value !== undefined && value > MAX_TIMER_MS)
    throw new RangeError(`${name} must be a number of ms in 0..${MAX_TIMER_MS}, got ${value}`);
  return value;
}

/** Checks the socket's options; throws TypeError/RangeError naming the bad one. */
export function checkSettings(options: FastOpenSocketOptions): Settings {
  if (typeof options !== "object" || options === null) throw new TypeError("options must be an object");
  const family = optional<number>(options, "family", "number");
  if (family !== undefined && family !== 0 && family !== 4 && family !== 6)
    throw new RangeError(`family must be 0, 4 or 6, got ${family}`);
  return {
    family,
    timeout: optionalDelay(options, "timeout"),
    connectTimeout: optionalDelay(options, "connectTimeout"),
    fastOpen: optional<boolean>(options, "fastOpen", "boolean"),
    noDelay: optional<boolean>(options, "noDelay", "boolean"),
    keepAlive: optional<boolean>(options, "keepAlive", "boolean"),
    keepAliveInitialDelay: optional<number>(options, "keepAliveInitialDelay", "number"),
    allowHalfOpen: optional<boolean>(options, "allowHalfOpen", "boolean"),
  };
}

/** Checks where to connect; throws TypeError/RangeError naming the bad option. */
export function checkDestination(options: CreateConnectionOptions): Destination {
  if (typeof options !== "object" || options === null)
    throw new TypeError("createConnection() needs an options object");
  if (options.socketPath != null)
    throw new TypeError(
      "socketPath: Unix domain sockets are not supported by fastopen's createConnection (use node:net)",
    );
  if (options.localAddress != null) throw new TypeError("localAddress is not supported by fastopen's createConnection");
  if (options.localPort != null && options.localPort !== 0)
    throw new TypeError("localPort is not supported by fastopen's createConnection");
  const host = options.host ?? options.hostname ?? "localhost";
  if (typeof host !== "string") throw new TypeError(`host must be a string, got ${typeof host}`);
  if (host === "") throw new RangeError("host must not be empty");
  const signal = options.signal;
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal))
    throw new TypeError("signal must be an AbortSignal");
  const lookup = options.lookup;
  if (lookup !== undefined && lookup !== null && typeof lookup !== "function")
    throw new TypeError(`lookup must be a function, got ${typeof lookup}`);
  return { host, port: checkPort(options.port), signal: signal ?? undefined, lookup: lookup ?? undefined };
}

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
