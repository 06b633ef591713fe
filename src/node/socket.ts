/**
 * `FastOpenSocket`: a `net.Socket`-like Duplex whose first bytes ride in the
 * SYN (made by `createConnection`, used by `FastOpenAgent`).
 *
 * How: from `socket.connect()` on, the socket gathers what is written to it
 * until the end of the current turn of the event loop (`setImmediate`:
 * `node:http` writes the request head, and a body given to `end()`, by
 * then), then calls the connect layer's `connect()` with that data as its
 * payload: in the SYN when a cookie is known, after the handshake otherwise,
 * exactly once either way. Later writes go through the Bun socket. This works
 * on every platform with TFO, FreeBSD (no lazy mode) included, and never
 * hands Bun an fd whose SYN has not left.
 */

import { Duplex } from "node:stream";
import type { Socket, SocketHandler } from "bun";
import { connect, connectOptimistic } from "../connect/connect.ts";
import { timeoutError } from "../connect/deadline.ts";
import {
  type CheckedCreateConnection,
  type CheckedSocketOptions,
  type ConnectDefaults,
  checkCreateConnectionOptions,
  checkSocketOptions,
  msOption,
  ON_ADOPTED,
} from "../connect/options.ts";
import { isIpLiteral, type LookupFunction } from "../connect/resolve.ts";
import { connectionRecord, type FastOpenStatus, fastOpenStatus } from "../connect/status.ts";
import { systemError } from "../lowlevel/errors.ts";
import { EMPTY_BYTES } from "../lowlevel/validate.ts";
import {
  type ConnectListener,
  type CreateConnectionOptions,
  connectArguments,
  type FastOpenSocketOptions,
  type NodeLookup,
} from "./arguments.ts";

export type { CreateConnectionOptions, FastOpenSocketOptions } from "./arguments.ts";

/** What `FastOpenSocket.readyState` reports, as `net.Socket`'s. */
export type SocketReadyState = "opening" | "open" | "readOnly" | "writeOnly" | "closed";

type Callback = (error?: Error | null) => void;

/** Most bytes written before the connection exists that are given to `connect()` as its payload. */
export const MAX_PAYLOAD = 64 * 1024;

/**
 * The handshake timeout (ms) of an optimistic connect without a
 * `connectTimeout`: a socket that reported `'connect'` before the SYN-ACK is
 * destroyed with an ETIMEDOUT SystemError if the handshake is not done by
 * then (clients such as ioredis arm their own connect timeout only while
 * `connecting`, which an optimistic socket no longer is).
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Turns of the event loop after an optimistic `'connect'` before a SYN still waiting for data is sent empty. */
const SYN_WAIT_TURNS = 2;

/** Bun's DNS, addresses of `family` only (0: both). */
function bunLookup(family: 0 | 4 | 6): LookupFunction {
  return (hostname) => Bun.dns.lookup(hostname, { family, socketType: "tcp" });
}

/** A node:net `lookup` option (`dns.lookup`'s signature) as `connect()`'s lookup, asking for every address. */
function nodeLookup(lookup: NodeLookup, family: 0 | 4 | 6): LookupFunction {
  return (hostname) =>
    new Promise((resolve, reject) => {
      lookup(hostname, { family, all: true }, (error, address, addressFamily) => {
        if (error) reject(error);
        else if (Array.isArray(address)) resolve(address);
        else resolve([{ address, family: addressFamily ?? (address.includes(":") ? 6 : 4) }]);
      });
    });
}

function toBuffer(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, encoding);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("chunk must be a string, Buffer or ArrayBufferView");
}

const EMPTY = Buffer.alloc(0);

function concat(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Where a `FastOpenSocket` is in its life; each transition is one assignment
 * of `#state`:
 *
 *     idle --connect()--> gathering --next turn--> connecting --established--> open --peer's FIN--> ended
 *     connecting --SYN deferred (optimistic)--> open (unconfirmed until the handshake is done)
 *     open, ended --Bun socket closed--> closed;   any --destroy()--> closed
 *
 * - `idle`: constructed, `connect()` not called yet; writes are queued;
 * - `gathering`: writes are queued, to be `connect()`'s payload at the end of the turn (one more turn when
 *   nothing was written in the first);
 * - `connecting`: `connect()` is in flight (no Bun socket yet; writes still queue);
 * - `open`: the Bun socket is ours, both ways (after an optimistic connect, before the handshake too: the first
 *   write rides in the SYN);
 * - `ended`: the peer's FIN arrived (the readable side has ended); writing may go on;
 * - `closed`: the Bun socket is closed, or never will exist (destroyed before it did).
 */
type Lifecycle = "idle" | "gathering" | "connecting" | "open" | "ended" | "closed";

/**
 * Reports a throw from inside a Bun socket callback (which would swallow it)
 * as an uncaught exception, as node:net does: `'uncaughtException'` handlers
 * get it, or it is printed (with its own stack) and the process exits 1.
 */
function surface(error: unknown): void {
  reportError(error);
}

/** Emits `'lookup'` as node:net does: `(error, address, family, host)`, the first address of the answer. */
function emitLookup(
  socket: FastOpenSocket,
  host: string,
  error: Error | null,
  first?: { address: string; family: number },
): void {
  try {
    socket.emit("lookup", error, first?.address, first?.family, host);
  } catch (thrown) {
    surface(thrown);
  }
}

/** The Duplex options of every socket, shared (one object per connection less). */
const DUPLEX_OPTIONS = { allowHalfOpen: false, emitClose: false, decodeStrings: true } as const;
const HALF_OPEN_DUPLEX_OPTIONS = { ...DUPLEX_OPTIONS, allowHalfOpen: true } as const;

/** `createConnection`'s checked options, for the socket being constructed and its `connect()` (see `startSocket`). */
let presetTarget: CheckedCreateConnection | null = null;
let checkedTarget: CheckedCreateConnection | null = null;

/**
 * A connecting socket from options already checked (`createConnection`):
 * `new FastOpenSocket(options).connect(options, listener)`, the options
 * checked once (the constructor and `connect()` take them as they are).
 */
export function startSocket(target: CheckedCreateConnection, listener: ConnectListener | undefined): FastOpenSocket {
  presetTarget = target;
  let socket: FastOpenSocket;
  try {
    socket = new FastOpenSocket();
  } finally {
    presetTarget = null;
  }
  checkedTarget = target;
  try {
    return socket.connect(target as CreateConnectionOptions, listener);
  } finally {
    checkedTarget = null;
  }
}

/**
 * A `net.Socket`-compatible Duplex over a TFO connection: `new
 * FastOpenSocket(options?)` then `socket.connect(port, host?, listener?)` or
 * `socket.connect(options, listener?)`, as node:net (`createConnection` does
 * both). Events: `'lookup'` (a host name resolved), `'connect'` and `'ready'`
 * once connected (the SYN's payload handed to the kernel), `'data'`, `'end'`,
 * `'timeout'`, `'error'` (SystemErrors with `code`, `errno`, `syscall`,
 * `address`, `port`), `'close'` with `hadError`.
 */
export class FastOpenSocket extends Duplex {
  /** Bytes received. */
  bytesRead = 0;
  /** The idle timeout in ms set by `setTimeout` (undefined: none). */
  timeout: number | undefined = undefined;

  /** The TFO defaults given to the constructor, for `connect()`. */
  readonly #defaults: ConnectDefaults;
  /** The checked options of `connect()`: where to, and how. */
  #target: CheckedCreateConnection | null = null;
  #state: Lifecycle = "idle";
  /** The Bun socket, from `open` on (kept after close, for the addresses and the TFO report). */
  #socket: Socket<FastOpenSocket> | null = null;
  /** The Bun socket of the connect in progress, once Bun has adopted its fd (not established yet). */
  #adopted: Socket<FastOpenSocket> | null = null;
  /** Stops a connect that `destroy()` cannot reach through its socket (a host name's lookup, a race). */
  #abort: AbortController | null = null;
  /** Written before the connection exists: the next payload, then the data flushed once connected. */
  #queue: Buffer[] = [];
  #queued = 0;
  /** A write callback held back while the pre-connect queue is over the high-water mark. */
  #held: Callback | null = null;
  /** Calls back once the payload (taken from the queue) has been handed to the kernel. */
  #payloadDone: Callback | null = null;
  /** What a short write left, and its callback, written on `drain`. */
  #rest: { data: Buffer; done: Callback } | null = null;
  #final: Callback | null = null;
  #written = 0;
  #lastError: Error | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #noDelay: boolean | undefined;
  #keepAlive: { enable: boolean; delay: number } | undefined;
  #ref = true;
  /** The start already waited one more turn for a first write. */
  #waited = false;
  /** This connect is optimistic (lazy, no payload): `'connect'` may come before the handshake. */
  #optimistic = false;
  /** Reported connected before the handshake (optimistic): confirmed once it is done, else an error. */
  #unconfirmed = false;
  /** The optimistic connect's timer: `connectTimeout`, then (once `'connect'` was reported) the handshake's. */
  #handshake: ReturnType<typeof setTimeout> | undefined;
  /** A close of the Bun socket before the handshake was confirmed: replayed once it is (else the error wins). */
  #heldClose: { error: Error | undefined; was: Lifecycle } | null = null;

  /**
   * The Bun socket handlers, shared by every FastOpenSocket: the Bun socket's
   * `data` is its FastOpenSocket. A throw from a listener (or from anything
   * they run) is rethrown as an uncaught exception, not handed to Bun.
   */
  static readonly #handlers: SocketHandler<FastOpenSocket> = {
    open(socket) {
      try {
        socket.data.#connected(socket, true);
      } catch (error) {
        surface(error);
      }
    },
    data(socket, data) {
      try {
        socket.data.#onData(data);
      } catch (error) {
        surface(error);
      }
    },
    drain(socket) {
      try {
        socket.data.#onDrain();
      } catch (error) {
        surface(error);
      }
    },
    end(socket) {
      try {
        socket.data.#onEnd();
      } catch (error) {
        surface(error);
      }
    },
    error(socket, error) {
      socket.data.#lastError ??= error;
    },
    close(socket, error) {
      try {
        socket.data.#onClose(error);
      } catch (thrown) {
        surface(thrown);
      }
    },
  };

  /**
   * A socket that is not connected yet (as `new net.Socket()`): `connect()`
   * starts it. `options` sets its behaviour and the TFO defaults of its
   * connect (`fastOpen`, `connectTimeout`, `family`). Throws TypeError/RangeError for bad options.
   */
  constructor(options: FastOpenSocketOptions = {}) {
    const preset = presetTarget;
    presetTarget = null;
    const checked = preset ?? checkSocketOptions(options);
    super(checked.allowHalfOpen === true ? HALF_OPEN_DUPLEX_OPTIONS : DUPLEX_OPTIONS);
    this.#defaults = checked;
    // createConnection's socket: its connect() applies them.
    if (preset === null) this.#apply(checked);
  }

  /**
   * Starts the connection (as `net.Socket.connect`): what is written until
   * the end of this turn (the next one when nothing was) is its payload, in
   * the SYN when a cookie is known. With nothing written and `optimistic`
   * (the default), a deferred SYN (cookie known) makes the socket report
   * `'connect'` at once, its first write riding in the SYN.
   * `listener` is added as a `'connect'` listener. Bad arguments throw a
   * TypeError/RangeError; on a socket already connecting or connected, the
   * socket is destroyed with an EALREADY error, as in node:net; on a
   * destroyed one, an Error (`ERR_SOCKET_CLOSED`) is thrown.
   */
  connect(options: CreateConnectionOptions, listener?: ConnectListener): this;
  connect(port: number | string, host?: string, listener?: ConnectListener): this;
  connect(first: CreateConnectionOptions | number | string, second?: unknown, third?: unknown): this {
    let target: CheckedCreateConnection;
    let listener: ConnectListener | undefined;
    if (first === checkedTarget && checkedTarget !== null) {
      // From createConnection, checked already.
      checkedTarget = null;
      target = first as CheckedCreateConnection;
      listener = second as ConnectListener | undefined;
    } else {
      const given = connectArguments(first, second, third);
      target = checkCreateConnectionOptions(given.options, this.#defaults);
      listener = given.listener;
    }
    if (this.#state === "closed" || this.destroyed) {
      const error = new Error("connect() on a destroyed FastOpenSocket: make a new socket");
      throw Object.assign(error, { code: "ERR_SOCKET_CLOSED" });
    }
    if (this.#state !== "idle") {
      const where = this.#target!;
      const message = `connect EALREADY ${where.host}:${where.port}: the socket is already connecting or connected`;
      this.destroy(systemError("EALREADY", "connect", { address: where.host, port: where.port, message }));
      return this;
    }
    this.#begin(target, listener);
    return this;
  }

  /** Starts gathering the payload of the connect to `target` (an idle socket's). */
  #begin(target: CheckedCreateConnection, listener: ConnectListener | undefined): void {
    this.#target = target;
    this.#apply(target);
    if (listener !== undefined) this.once("connect", listener as () => void);
    this.#state = "gathering";
    this.#gatherSoon();
  }

  /** The end of this turn's gathering (kept referenced: the connect starts even on an unref'd socket). */
  #gatherSoon(): void {
    setImmediate(FastOpenSocket.#startSoon, this);
  }

  /** True from `connect()` until the connection is established (as `net.Socket.connecting`). */
  get connecting(): boolean {
    return this.#state === "gathering" || this.#state === "connecting";
  }

  /** Peer address once connected (undefined before). */
  get remoteAddress(): string | undefined {
    return this.#socket?.remoteAddress;
  }

  /** Peer port once connected. */
  get remotePort(): number | undefined {
    return this.#socket?.remotePort;
  }

  /** `"IPv4"` or `"IPv6"` once connected. */
  get remoteFamily(): string | undefined {
    return this.#socket?.remoteFamily;
  }

  /** Local address once connected. */
  get localAddress(): string | undefined {
    return this.#socket?.localAddress;
  }

  /** Local port once connected. */
  get localPort(): number | undefined {
    return this.#socket?.localPort;
  }

  /** `"IPv4"` or `"IPv6"` once connected. */
  get localFamily(): string | undefined {
    return this.#socket?.localFamily;
  }

  /** Bytes written to the socket, including those not yet handed to the kernel (as node:net). */
  get bytesWritten(): number {
    return this.#written;
  }

  /** True while there is no open connection: before it is established and after it closed (as node:net). */
  get pending(): boolean {
    return !this.#live();
  }

  /** As `net.Socket.readyState`. */
  get readyState(): SocketReadyState {
    if (this.connecting && !this.destroyed) return "opening";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  /** The local endpoint (`{}` before the connection exists), as `net.Socket.address()`. */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    const socket = this.#socket;
    if (socket === null) return {};
    return { address: socket.localAddress, family: socket.localFamily, port: socket.localPort };
  }

  /**
   * The TFO report of this connection (see `fastOpenStatus`): whether the
   * first bytes rode in the SYN, were acknowledged, and why not. Null before
   * the connection exists. Still answers after close (the last report).
   */
  fastOpenStatus(): FastOpenStatus | null {
    return this.#socket === null ? null : fastOpenStatus(this.#socket);
  }

  /** TCP_NODELAY (applied once connected). */
  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    if (this.#live()) this.#socket!.setNoDelay(noDelay);
    return this;
  }

  /** SO_KEEPALIVE with an initial delay in ms (applied once connected). */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = { enable, delay: initialDelay };
    if (this.#live()) this.#socket!.setKeepAlive(enable, Math.floor(initialDelay / 1000));
    return this;
  }

  /**
   * Emits `'timeout'` after `ms` without reading or writing (0 disables), as
   * `net.Socket.setTimeout`; the socket stays open. `callback` is added as a
   * `'timeout'` listener (once), or removed when `ms` is 0.
   */
  setTimeout(ms: number, callback?: () => void): this {
    msOption("timeout", ms, 0);
    this.timeout = ms === 0 ? undefined : ms;
    if (callback !== undefined) {
      if (ms === 0) this.removeListener("timeout", callback);
      else this.once("timeout", callback);
    }
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#touch();
    return this;
  }

  /** Keeps the event loop alive for this socket (the default), connecting or connected. */
  ref(): this {
    this.#ref = true;
    (this.#socket ?? this.#adopted)?.ref();
    if (this.#before()) this.#handshake?.ref();
    return this;
  }

  /**
   * Lets the process exit while this socket is open, and (unlike a
   * `net.Socket`, whose pending connect keeps the process alive) while its
   * connect to an IP address is in progress, once Bun holds the connecting
   * socket; also before `connect()` (it then applies from the connect's
   * start). The gathering turn, a host name's lookup and the
   * `connectTimeout` of a connect that is not optimistic still keep the
   * process alive until the connect has started or failed; an optimistic
   * connect's handshake timer does not.
   */
  unref(): this {
    this.#ref = false;
    (this.#socket ?? this.#adopted)?.unref();
    this.#handshake?.unref();
    return this;
  }

  /** Ends the writable side, then destroys once finished (as node:net). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once("finish", () => this.destroy());
  }

  /** Closes with a TCP RST (as `net.Socket.resetAndDestroy`). */
  resetAndDestroy(): this {
    if (this.#live()) {
      this.#state = "closed";
      this.#socket!.terminate();
    }
    return this.destroy();
  }

  /** Applies the socket-level options given (`noDelay`, `keepAlive`, `timeout`). */
  #apply(checked: Pick<CheckedSocketOptions, "noDelay" | "keepAlive" | "keepAliveInitialDelay" | "timeout">): void {
    if (checked.noDelay !== undefined) this.setNoDelay(checked.noDelay);
    if (checked.keepAlive !== undefined) this.setKeepAlive(checked.keepAlive, checked.keepAliveInitialDelay ?? 0);
    if (checked.timeout !== undefined) this.setTimeout(checked.timeout);
  }

  /** Whether the connection does not exist yet (writes are queued, `end()` waits). */
  #before(): boolean {
    return this.#state === "idle" || this.#state === "gathering" || this.#state === "connecting";
  }

  /** Whether the Bun socket exists and is open. */
  #live(): boolean {
    return this.#state === "open" || this.#state === "ended";
  }

  /** Activity: restarts the idle timer (one timer per socket, refreshed). */
  #touch(): void {
    if (this.timeout === undefined || this.destroyed) return;
    if (this.#idle !== undefined) {
      this.#idle.refresh();
      return;
    }
    this.#idle = setTimeout(FastOpenSocket.#idleFor, this.timeout, this);
    this.#idle.unref();
  }

  static #idleFor(socket: FastOpenSocket): void {
    socket.#idle = undefined;
    socket.emit("timeout");
  }

  static #closeSoon(socket: FastOpenSocket, hadError: boolean): void {
    socket.emit("close", hadError);
  }

  static #established(socket: Socket<FastOpenSocket>): void {
    socket.data.#connected(socket, false);
  }

  /** The optimistic `'connect'`, then a wait for the first write (which sends the SYN). */
  static #emitConnect(socket: FastOpenSocket): void {
    if (socket.destroyed || !socket.#live()) return;
    socket.emit("connect");
    socket.emit("ready");
    setImmediate(FastOpenSocket.#kick, socket, SYN_WAIT_TURNS);
  }

  /** Nothing written `turns` turns after an optimistic `'connect'`: the SYN leaves empty (the server speaks first). */
  static #kick(socket: FastOpenSocket, turns: number): void {
    if (!socket.#unconfirmed || !socket.#live() || socket.#written > 0 || socket.writableLength > 0) return;
    if (turns > 1) setImmediate(FastOpenSocket.#kick, socket, turns - 1);
    else socket.#socket!.write(EMPTY_BYTES);
  }

  static #handshakeTimedOut(socket: FastOpenSocket): void {
    socket.#handshake = undefined;
    if (socket.destroyed) return;
    socket.destroy(timeoutError(socket.#target!.host, socket.#target!.port));
  }

  /** Arms the optimistic connect's timer: kept referenced only while connecting with the socket ref()'d. */
  #armHandshake(ms: number): void {
    clearTimeout(this.#handshake);
    this.#handshake = setTimeout(FastOpenSocket.#handshakeTimedOut, ms, this);
    if (!this.#ref || !this.#before()) this.#handshake.unref();
  }

  /** The optimistic connect's handshake is done: no timer; a close that came meanwhile is handled now. */
  #confirm(): void {
    clearTimeout(this.#handshake);
    this.#handshake = undefined;
    this.#unconfirmed = false;
    const held = this.#heldClose;
    if (held === null) {
      this.#maybeFinish();
      return;
    }
    this.#heldClose = null;
    this.#state = held.was;
    this.#onClose(held.error);
  }

  static #startSoon(socket: FastOpenSocket): void {
    socket.#start();
  }

  /** Bun adopted the fd of the connect in progress (`ON_ADOPTED`): ours to unref, or to close on `destroy()`. */
  static #onAdopted(socket: Socket<FastOpenSocket>): void {
    const self = socket.data;
    if (self.#state !== "connecting") {
      socket.terminate();
      return;
    }
    self.#adopted = socket;
    if (!self.#ref) socket.unref();
  }

  /**
   * The lookup for `connect()` (undefined: Bun's DNS, both families): the
   * user's, or Bun's of one family, telling `'lookup'` listeners when there are any.
   */
  #lookup(target: CheckedCreateConnection): LookupFunction | undefined {
    const family = target.family;
    const given = target.lookup === undefined ? undefined : nodeLookup(target.lookup, family);
    const resolve = given ?? (family === 0 ? undefined : bunLookup(family));
    if (this.listenerCount("lookup") === 0) return resolve;
    const lookup = resolve ?? bunLookup(0);
    return async (hostname) => {
      let answers: Array<{ address: string; family: number }>;
      try {
        answers = await lookup(hostname);
      } catch (error) {
        emitLookup(this, hostname, error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
      emitLookup(this, hostname, null, answers[0]);
      return answers;
    };
  }

  /** Connects with what was written so far as the payload. */
  #start(): void {
    if (this.#state !== "gathering") return;
    if (this.#queue.length === 0 && !this.#waited) {
      // Nothing written yet: one more turn, for clients that write a `setImmediate` later (Postgres.js).
      this.#waited = true;
      this.#gatherSoon();
      return;
    }
    this.#state = "connecting";
    const options = this.#target!;
    // At most MAX_PAYLOAD bytes go through connect() (the SYN takes one MSS at most); the rest once connected.
    const all = this.#queue.length > 0 ? concat(this.#queue) : EMPTY;
    const payload = all.byteLength > MAX_PAYLOAD ? all.subarray(0, MAX_PAYLOAD) : all;
    if (payload === all) {
      this.#queue.length = 0;
      this.#queued = 0;
      this.#payloadDone = this.#held;
      this.#held = null;
    } else {
      this.#queue = [all.subarray(MAX_PAYLOAD)];
      this.#queued = all.byteLength - MAX_PAYLOAD;
    }
    const optimistic = options.optimistic && options.fastOpen && payload.byteLength === 0 && !this.writableEnded;
    // An optimistic connect's deadline is this socket's timer, which also bounds a handshake that outlives the
    // optimistic 'connect' (unref'd from then on, see `#connected`).
    this.#optimistic = optimistic;
    if (optimistic && options.connectTimeout > 0) this.#armHandshake(options.connectTimeout);
    (optimistic ? connectOptimistic<FastOpenSocket> : connect<FastOpenSocket>)({
      hostname: options.host,
      port: options.port,
      payload,
      fastOpen: options.fastOpen,
      connectTimeout: optimistic ? 0 : options.connectTimeout,
      signal: this.#signal(options),
      allowHalfOpen: true,
      lookup: this.#lookup(options),
      socket: FastOpenSocket.#handlers,
      data: this,
      [ON_ADOPTED]: FastOpenSocket.#onAdopted,
    } as Parameters<typeof connect<FastOpenSocket>>[0]).then(FastOpenSocket.#established, (error: unknown) =>
      this.#failed(error),
    );
  }

  /**
   * The signal of the connect: the caller's, and for a host name our own,
   * that `destroy()` aborts. A connect to an IP address needs none: Bun
   * adopts its fd at once, and `destroy()` closes that socket.
   */
  #signal(options: CheckedCreateConnection): AbortSignal | undefined {
    if (isIpLiteral(options.host)) return options.signal;
    this.#abort = new AbortController();
    const own = this.#abort.signal;
    return options.signal === undefined ? own : AbortSignal.any([options.signal, own]);
  }

  /**
   * The connection is up (from `open`, or from `connect()`'s promise should
   * `open` not have run): `'connect'`, then what was queued meanwhile. An
   * optimistic connect's `open` with the SYN deferred (`fromOpen`, the
   * record says so): `'connect'` on the next tick, the handshake confirmed
   * by the promise (or its timer's ETIMEDOUT, or the connect's error).
   */
  #connected(socket: Socket<FastOpenSocket>, fromOpen: boolean): void {
    if (this.#state !== "connecting") {
      if (this.#socket === socket) {
        if (this.#unconfirmed) this.#confirm();
      } else socket.close(); // Destroyed while connecting: the connection is not wanted.
      return;
    }
    this.#state = "open";
    this.#socket = socket;
    this.#adopted = null;
    if (this.#noDelay !== undefined) socket.setNoDelay(this.#noDelay);
    if (this.#keepAlive !== undefined)
      socket.setKeepAlive(this.#keepAlive.enable, Math.floor(this.#keepAlive.delay / 1000));
    if (!this.#ref) socket.unref();
    this.#touch();
    if (fromOpen && this.#optimistic && connectionRecord(socket)?.deferred === true) {
      this.#unconfirmed = true;
      if (this.#handshake === undefined) this.#armHandshake(HANDSHAKE_TIMEOUT_MS);
      this.#handshake!.unref();
      process.nextTick(FastOpenSocket.#emitConnect, this);
      // Written while a host name's lookup went on: the first write, which sends the SYN.
      this.#flushQueue();
      return;
    }
    clearTimeout(this.#handshake);
    this.#handshake = undefined;
    const payloadDone = this.#payloadDone;
    this.#payloadDone = null;
    payloadDone?.();
    this.emit("connect");
    this.emit("ready");
    this.#flushQueue();
  }

  /** What was queued while connecting goes through the Bun socket; then `end()`'s FIN, if due. */
  #flushQueue(): void {
    if (this.#queue.length > 0 && this.#live()) {
      const data = concat(this.#queue);
      const held = this.#held;
      this.#queue = [];
      this.#queued = 0;
      this.#held = null;
      this.#send(data, (error) => held?.(error));
    }
    this.#maybeFinish();
  }

  #failed(error: unknown): void {
    if (this.destroyed) return;
    this.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  #onData(data: Buffer): void {
    if (this.destroyed) return;
    this.bytesRead += data.byteLength;
    this.#touch();
    if (!this.push(data)) this.#socket?.pause();
  }

  #onDrain(): void {
    const rest = this.#rest;
    if (rest === null) return;
    this.#rest = null;
    this.#send(rest.data, rest.done);
  }

  /** The peer's FIN: the end of the readable side. */
  #onEnd(): void {
    if (this.#state !== "open") return;
    this.#state = "ended";
    if (!this.destroyed) this.push(null);
  }

  /** The Bun socket closed (by the peer, or after an error); not called when `destroy()` closed it. */
  #onClose(error: Error | undefined): void {
    const was = this.#state;
    if (was !== "open" && was !== "ended") return;
    this.#state = "closed";
    if (this.#unconfirmed) {
      // Before the handshake was confirmed: the connect's rejection (ECONNREFUSED...) or its success decides.
      this.#heldClose = { error, was };
      return;
    }
    const failure = error ?? this.#lastError;
    const rest = this.#rest;
    this.#rest = null;
    if (failure !== undefined) {
      rest?.done(failure);
      if (!this.destroyed) this.destroy(failure);
      return;
    }
    rest?.done(this.#closedError());
    // A clean close (FIN after our shutdown): end of the readable side; the rest follows node:net's rules.
    if (was === "open" && !this.destroyed) this.push(null);
    this.#maybeFinish();
  }

  #closedError(): Error {
    return systemError("EPIPE", "write", {
      address: this.#target!.host,
      port: this.#target!.port,
      message: "This socket has been ended by the other party",
    });
  }

  /** Writes `data` through the Bun socket; `done` runs once all of it went to the kernel. */
  #send(data: Buffer, done: Callback): void {
    if (this.#heldClose !== null && this.#rest === null) {
      // Closed before the handshake was confirmed: the connect's outcome (its error, or the close) settles this.
      this.#rest = { data, done };
      return;
    }
    if (!this.#live()) {
      done(this.#closedError());
      return;
    }
    const n = data.byteLength === 0 ? 0 : this.#socket!.write(data);
    if (n < 0) {
      done(this.#closedError());
      return;
    }
    if (n > 0) this.#touch();
    if (n === data.byteLength) {
      done();
      this.#maybeFinish();
      return;
    }
    this.#rest = { data: data.subarray(n), done };
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: Callback): void {
    const buffer = toBuffer(chunk, encoding);
    this.#written += buffer.byteLength;
    if (!this.#before()) {
      this.#send(buffer, callback);
      return;
    }
    this.#queue.push(buffer);
    this.#queued += buffer.byteLength;
    this.#acceptedEarly(callback);
  }

  override _writev(chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, callback: Callback): void {
    const buffers = chunks.map((c) => toBuffer(c.chunk, c.encoding));
    for (const b of buffers) this.#written += b.byteLength;
    if (!this.#before()) {
      this.#send(concat(buffers), callback);
      return;
    }
    this.#queue.push(...buffers);
    for (const b of buffers) this.#queued += b.byteLength;
    this.#acceptedEarly(callback);
  }

  /** A write queued before the connection exists: accepted at once up to the high-water mark. */
  #acceptedEarly(callback: Callback): void {
    // Accepted at once up to the high-water mark: node:http writes the head and body as separate chunks, and all of
    // it may ride in the SYN.
    if (this.#queued <= this.writableHighWaterMark) callback();
    else this.#held = callback;
  }

  override _read(): void {
    if (this.#live()) this.#socket!.resume();
  }

  override _final(callback: Callback): void {
    this.#final = callback;
    this.#maybeFinish();
  }

  /** Half-closes (FIN) once everything written has gone to the kernel and `end()` was called. */
  #maybeFinish(): void {
    const final = this.#final;
    if (final === null || this.#before() || this.#rest !== null || this.#queue.length > 0) return;
    if (this.#unconfirmed) {
      // A FIN before the SYN-ACK would abort the connect (SYN_SENT to CLOSE): the SYN leaves (empty if nothing was
      // written), the FIN once the handshake is done (`#confirm`).
      if (this.#written === 0) this.#socket!.write(EMPTY_BYTES);
      return;
    }
    this.#final = null;
    if (this.#live()) this.#socket!.shutdown();
    final();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    clearTimeout(this.#handshake);
    this.#handshake = undefined;
    const live = this.#live();
    this.#state = "closed";
    this.#abort?.abort();
    if (live) this.#socket!.close();
    const adopted = this.#adopted;
    this.#adopted = null;
    // A connect in progress: its attempt sees the close and rejects (ignored: destroyed).
    adopted?.terminate();
    const held = this.#held;
    const payloadDone = this.#payloadDone;
    const rest = this.#rest;
    this.#held = this.#payloadDone = null;
    this.#rest = null;
    held?.(error ?? undefined);
    payloadDone?.(error ?? undefined);
    rest?.done(error ?? undefined);
    callback(error);
    process.nextTick(FastOpenSocket.#closeSoon, this, error !== null);
  }
}
