/**
 * `connect(options)`: a drop-in for `Bun.connect` that opens the connection
 * with TCP Fast Open. The fd is made and its connect started natively
 * (`startFastOpenFd`; the payload goes in the SYN when a cookie is known),
 * handed at once to Bun's event loop with `Bun.connect({ fd })`, and the
 * connection completed from Bun's events (`connect-attempt.ts`): the rest of
 * the payload written in order after the handshake, no polling.
 */
import type { Socket, SocketHandler, TLSOptions } from "bun";
import * as check from "../lowlevel/validate.ts";
import { type AttemptOptions, type ConnectAttempt, type SharedFlight, startAttempt } from "./attempt.ts";
import { abortError, bounded, limited, limitOf, type StopError, watch } from "./deadline.ts";
import { isIpLiteral, type LookupFunction, type ResolvedAddress, resolveHost } from "./resolve.ts";

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

interface Checked<Data> {
  hostname: string;
  port: number;
  handlers: SocketHandler<Data>;
  payload: Uint8Array;
  fastOpen: boolean;
  lazy: boolean;
  tls: TLSOptions | boolean | undefined;
  connectTimeout: number;
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

/** Longest delay a timer takes (setTimeout turns a longer one into 1 ms). */
const MAX_TIMER_MS = 0x7fffffff;

function optionalNumber(options: object, name: string, fallback: number): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be a number of ms in 0..${MAX_TIMER_MS}, got ${value}`);
  }
  return value;
}

function checkHandlers<Data>(handlers: unknown): SocketHandler<Data> {
  if (typeof handlers !== "object" || handlers === null) throw new TypeError("socket must be an object of handlers");
  for (const name of HANDLER_NAMES) {
    const handler = (handlers as Record<string, unknown>)[name];
    if (handler !== undefined && typeof handler !== "function")
      throw new TypeError(`socket.${name} must be a function`);
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

const NO_PAYLOAD = new Uint8Array(new ArrayBuffer(0));

/**
 * A private copy of the payload (the caller may reuse its buffer), on an
 * ArrayBuffer of its own: views of it are then cheap to make and check.
 */
function ownCopy(view: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new ArrayBuffer(view.byteLength));
  copy.set(view);
  return copy;
}

/** Checks `connect` options; throws TypeError/RangeError naming the bad one. */
function checkOptions<Data>(options: ConnectOptions<Data>): Checked<Data> {
  if (typeof options !== "object" || options === null) throw new TypeError("connect() needs an options object");
  if (typeof options.hostname !== "string")
    throw new TypeError(`hostname must be a string, got ${typeof options.hostname}`);
  const port = check.integer("port", options.port, 1, 65535);
  const handlers = checkHandlers<Data>(options.socket);
  const payload = options.payload === undefined ? NO_PAYLOAD : ownCopy(check.bytes(options.payload, "payload"));
  const tls = options.tls;
  if (tls !== undefined && typeof tls !== "boolean" && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be a boolean or a TLS options object");
  }
  const secure = tls !== undefined && tls !== false;
  if (secure && payload.byteLength > 0) {
    throw new TypeError(
      "payload cannot be combined with tls: the ClientHello rides in the SYN; write your data after the handshake",
    );
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
  if (options.lookup !== undefined && typeof options.lookup !== "function")
    throw new TypeError("lookup must be a function");
  optionalBoolean(options, "allowHalfOpen", false);
  return {
    hostname: options.hostname,
    port,
    handlers,
    payload,
    fastOpen: optionalBoolean(options, "fastOpen", true),
    lazy: optionalBoolean(options, "lazy", false) || secure,
    tls: withServerName(tls, options.hostname),
    connectTimeout: optionalNumber(options, "connectTimeout", 0),
    signal,
    attemptDelay: optionalNumber(options, "attemptDelay", DEFAULT_ATTEMPT_DELAY_MS),
    lookup: options.lookup,
  };
}

/** Resolved IP literals (without a `%scope`, whose interface may change), reused by later connects. */
const literals = new Map<string, ResolvedAddress[]>();
const MAX_LITERALS = 256;

/** `resolveHost`, remembering IP literals. */
async function resolve(hostname: string, lookup: LookupFunction | undefined): Promise<ResolvedAddress[]> {
  const addresses = await resolveHost(hostname, lookup);
  if (!hostname.includes("%") && isIpLiteral(hostname)) {
    if (literals.size >= MAX_LITERALS) literals.clear();
    literals.set(hostname, addresses);
  }
  return addresses;
}

/** Whether the next address is worth a try after `error`. */
function tryNext(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && NEXT_ADDRESS_CODES.has(code);
}

/** Starts attempts to one address each; all of them stop at the deadline or on abort. */
type Starter<Data> = (address: ResolvedAddress, claim: () => boolean) => ConnectAttempt<Data>;

/**
 * Happy Eyeballs (RFC 8305): starts the next address when the current
 * attempt has not connected within `delayMs` or has failed; the first to
 * connect wins (claims the connection before the user sees it) and the
 * others are cancelled (their sockets terminated, their fds closed). Used
 * in every mode: data riding in the SYN goes with every attempt, so a first
 * flight may reach two hosts when both answer within the race.
 */
function race<Data>(addresses: ResolvedAddress[], start: Starter<Data>, delayMs: number): Promise<Socket<Data>> {
  return new Promise((resolve, reject) => {
    const attempts: Array<ConnectAttempt<Data>> = [];
    let next = 0;
    let pending = 0;
    let done = false;
    let first: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (winner: number): void => {
      done = true;
      clearTimeout(timer);
      attempts.forEach((attempt, i) => {
        if (i !== winner) attempt.cancel(new Error("lost the race"), true);
      });
    };
    const failed = (error: unknown): void => {
      if (done) return;
      first ??= error;
      if (!tryNext(error)) {
        finish(-1);
        reject(error);
      } else if (next < addresses.length) launch();
      else if (pending === 0) {
        finish(-1);
        reject(first);
      }
    };
    const launch = (): void => {
      if (done || next >= addresses.length) return;
      clearTimeout(timer);
      const index = next++;
      const claim = (): boolean => {
        if (done) return false;
        finish(index);
        return true;
      };
      let attempt: ConnectAttempt<Data>;
      try {
        attempt = start(addresses[index]!, claim);
      } catch (error) {
        failed(error);
        return;
      }
      attempts[index] = attempt;
      pending++;
      if (!done) timer = setTimeout(launch, delayMs);
      attempt.promise.then(
        (socket) => {
          pending--;
          resolve(socket);
        },
        (error: unknown) => {
          pending--;
          failed(error);
        },
      );
    };
    launch();
  });
}

/**
 * Opens a TCP (or TLS) connection with TCP Fast Open: a drop-in for
 * `Bun.connect` with the same handlers (`open`, `data`, `drain`, `close`,
 * `end`, `error`, `timeout`, `connectError`, `handshake`) and the same
 * `data`, `tls` and `allowHalfOpen` options, plus `payload`, `fastOpen`,
 * `lazy`, `connectTimeout` and `signal`.
 *
 * Resolves to Bun's `Socket` once the connection is established and the
 * whole payload has been handed to the kernel, right after the user's `open`
 * has run (with `tls`: once the TLS handshake has completed; `open` then runs
 * before `handshake`). Until then no user handler is called, except for a
 * lazy connect without TLS whose SYN waits for data (a cookie is known):
 * there `open` runs at once so that its first synchronous write rides in the
 * SYN, and a failed connect then also calls `close`. Rejects with a
 * SystemError carrying `code`, `errno`, `syscall`, `address` and `port`
 * (ECONNREFUSED, ETIMEDOUT, ABORT_ERR, ENOTFOUND, ...), after calling
 * `socket.connectError` when given; bad options reject with a TypeError or
 * RangeError. No fd is left open on any failure. See `fastOpenStatus(socket)`
 * for what TFO did.
 */
export async function connect<Data = undefined>(options: ConnectOptions<Data>): Promise<Socket<Data>> {
  const checked = checkOptions(options);
  const onError = checked.handlers.connectError;
  // Without a connectError handler there is nothing to call on failure: no extra promise step.
  if (onError === undefined) return connectChecked(options, checked);
  try {
    return await connectChecked(options, checked);
  } catch (error) {
    try {
      await onError.call(checked.handlers, null as unknown as Socket<Data>, error as Error);
    } catch {
      // A throwing connectError handler must not hide the connect error.
    }
    throw error;
  }
}

/** The attempt's options for `address` (one object per attempt: the attempt keeps it). */
function attemptOptions<Data>(
  options: ConnectOptions<Data>,
  checked: Checked<Data>,
  address: ResolvedAddress,
  claim: () => boolean,
  shared: SharedFlight = { opened: false, flight: null },
): AttemptOptions<Data> {
  return {
    address,
    port: checked.port,
    payload: checked.payload,
    fastOpen: checked.fastOpen,
    lazy: checked.lazy,
    tls: checked.tls,
    handlers: checked.handlers,
    data: options.data,
    allowHalfOpen: options.allowHalfOpen ?? false,
    claim,
    shared,
  };
}

const CLAIM_ALWAYS = (): boolean => true;

async function connectChecked<Data>(options: ConnectOptions<Data>, checked: Checked<Data>): Promise<Socket<Data>> {
  const { signal, port } = checked;
  if (signal?.aborted === true) throw abortError(checked.hostname, port, signal.reason);
  const limit = limitOf(signal, checked.connectTimeout);
  // Whether a deadline or a signal may have to stop the attempts.
  const watched = limited(limit);
  const known = literals.get(checked.hostname);
  // The common case (a known literal, no deadline, no signal): one attempt, nothing to watch or race.
  if (known !== undefined && known.length === 1 && !watched) {
    return startAttempt<Data>(attemptOptions(options, checked, known[0]!, CLAIM_ALWAYS)).promise;
  }
  const addresses = known ?? (await bounded(resolve(checked.hostname, checked.lookup), limit, checked.hostname, port));
  const live = new Set<ConnectAttempt<Data>>();
  const shared: SharedFlight = { opened: false, flight: null };
  let stopped: StopError | null = null;
  const start: Starter<Data> = (address, claim) => {
    if (stopped !== null) throw stopped(address.address, port);
    // Watched before Bun adopts the fd: a lazy connect runs `open` during the
    // adoption, and an abort or deadline there must reach this attempt.
    const attempt = startAttempt<Data>(attemptOptions(options, checked, address, claim, shared), (created) => {
      if (!watched) return;
      live.add(created);
      const forget = (): boolean => live.delete(created);
      created.promise.then(forget, forget);
    });
    return attempt;
  };
  const unwatch = watch(limit, (error) => {
    stopped = error;
    for (const attempt of live) attempt.cancel(error(attempt.address.address, port));
  });
  try {
    return addresses.length > 1
      ? await race(addresses, start, checked.attemptDelay)
      : await start(addresses[0]!, CLAIM_ALWAYS).promise;
  } finally {
    unwatch();
  }
}
