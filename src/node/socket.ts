/**
 * `FastOpenSocket`: a `net.Socket`-like Duplex whose first bytes ride in the
 * SYN (made by `createConnection`, used by `FastOpenAgent`).
 *
 * How: the socket gathers what is written to it until the end of the
 * current turn of the event loop (`setImmediate`: `node:http` writes the
 * request head, and a body given to `end()`, by then), then connects with
 * `connect()` and that data as its payload: in the SYN when a cookie is
 * known, after the handshake otherwise, exactly once either way. Later writes
 * go through the Bun socket. This works on every platform with TFO, FreeBSD
 * (no lazy mode) included, and never hands Bun an fd whose SYN has not left.
 */

import { Duplex } from "node:stream";
import type { Socket, SocketHandler } from "bun";
import { connect } from "../connect/connect.ts";
import type { LookupFunction } from "../connect/resolve.ts";
import { type FastOpenStatus, fastOpenStatus } from "../connect/status.ts";
import { systemError } from "../lowlevel/errors.ts";

/** Options of `createConnection`: those of `net.createConnection` (TCP form) that apply, plus the TFO ones. */
export interface CreateConnectionOptions {
  /** Host name or IP literal (default `"localhost"`). */
  host?: string | null;
  /** Used when `host` is absent (as `http.request` options carry it). */
  hostname?: string | null;
  /** TCP port, 1..65535 (a numeric string is accepted, as in node:net). */
  port?: number | string | null;
  /** 4 or 6: only addresses of that family (0 or absent: both). */
  family?: number;
  /** Idle timeout in ms, as `socket.setTimeout(timeout)`: emits `'timeout'`, does not close. */
  timeout?: number;
  /** Connect timeout in ms (0 or absent: none): the socket is destroyed with an ETIMEDOUT SystemError. */
  connectTimeout?: number;
  /** Aborts the connect: the socket is destroyed with an ABORT_ERR error. */
  signal?: AbortSignal;
  /** Use TFO (default true). False: a plain connect through the same code. */
  fastOpen?: boolean;
  /** TCP_NODELAY once connected (as `setNoDelay`). */
  noDelay?: boolean;
  /** SO_KEEPALIVE once connected (as `setKeepAlive`). */
  keepAlive?: boolean;
  /** Keep-alive initial delay in ms. */
  keepAliveInitialDelay?: number;
  /** As in node:net: false (default) ends the writable side when the peer ends. */
  allowHalfOpen?: boolean;
  /** Not supported (Unix domain sockets): a TypeError. */
  socketPath?: string | null;
  /** Not supported: a TypeError when set. */
  localAddress?: string | null;
  /** Not supported: a TypeError when set to a non-zero port. */
  localPort?: number | null;
}

/** What `FastOpenSocket.readyState` reports, as `net.Socket`'s. */
export type SocketReadyState = "opening" | "open" | "readOnly" | "writeOnly" | "closed";

interface Checked {
  host: string;
  port: number;
  family: 0 | 4 | 6;
  timeout: number | undefined;
  connectTimeout: number;
  signal: AbortSignal | undefined;
  fastOpen: boolean;
  noDelay: boolean | undefined;
  keepAlive: boolean | undefined;
  keepAliveInitialDelay: number;
  allowHalfOpen: boolean;
}

type Callback = (error?: Error | null) => void;

/** Most bytes written before the connection exists that are given to `connect()` as its payload. */
export const MAX_PAYLOAD = 64 * 1024;

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

/** Checks `createConnection` options; throws TypeError/RangeError naming the bad one. */
function checkOptions(options: CreateConnectionOptions): Checked {
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
  const family = optional<number>(options, "family", "number") ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) throw new RangeError(`family must be 0, 4 or 6, got ${family}`);
  const signal = options.signal;
  if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal))
    throw new TypeError("signal must be an AbortSignal");
  return {
    host,
    port: checkPort(options.port),
    family,
    timeout: optional<number>(options, "timeout", "number"),
    connectTimeout: optional<number>(options, "connectTimeout", "number") ?? 0,
    signal: signal ?? undefined,
    fastOpen: optional<boolean>(options, "fastOpen", "boolean") ?? true,
    noDelay: optional<boolean>(options, "noDelay", "boolean"),
    keepAlive: optional<boolean>(options, "keepAlive", "boolean"),
    keepAliveInitialDelay: optional<number>(options, "keepAliveInitialDelay", "number") ?? 0,
    allowHalfOpen: optional<boolean>(options, "allowHalfOpen", "boolean") ?? false,
  };
}

/** A lookup that keeps only addresses of `family` (Bun's DNS). */
function familyLookup(family: 4 | 6): LookupFunction {
  return (hostname) => Bun.dns.lookup(hostname, { family, socketType: "tcp" });
}

function toBuffer(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, encoding);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError("chunk must be a string, Buffer or ArrayBufferView");
}

function concat(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Where a `FastOpenSocket` is in its life; each transition is one assignment
 * of `#state`:
 *
 *     gathering --next turn--> connecting --established--> open --peer's FIN--> ended
 *     open, ended --Bun socket closed--> closed;   any --destroy()--> closed
 *
 * - `gathering`: writes are queued, to be `connect()`'s payload at the end of the turn;
 * - `connecting`: `connect()` is in flight (no Bun socket yet; writes still queue);
 * - `open`: the Bun socket is ours, both ways;
 * - `ended`: the peer's FIN arrived (the readable side has ended); writing may go on;
 * - `closed`: the Bun socket is closed, or never will exist (destroyed before it did).
 */
type Lifecycle = "gathering" | "connecting" | "open" | "ended" | "closed";

/**
 * Reports a throw from inside a Bun socket callback (which would swallow it)
 * as an uncaught exception, as node:net does: `'uncaughtException'` handlers
 * get it, or it is printed (with its own stack) and the process exits 1.
 */
function surface(error: unknown): void {
  reportError(error);
}

/**
 * A `net.Socket`-compatible Duplex over a TFO connection (see
 * `createConnection`). Events: `'connect'` and `'ready'` once connected (the
 * SYN's payload handed to the kernel), `'data'`, `'end'`, `'timeout'`,
 * `'error'` (SystemErrors with `code`, `errno`, `syscall`, `address`,
 * `port`), `'close'` with `hadError`.
 */
export class FastOpenSocket extends Duplex {
  /** Bytes received. */
  bytesRead = 0;
  /** The idle timeout in ms set by `setTimeout` (undefined: none). */
  timeout: number | undefined = undefined;

  readonly #options: Checked;
  #state: Lifecycle = "gathering";
  /** The Bun socket, from `open` on (kept after close, for the addresses and the TFO report). */
  #socket: Socket<FastOpenSocket> | null = null;
  readonly #abort = new AbortController();
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

  /**
   * The Bun socket handlers, shared by every FastOpenSocket: the Bun socket's
   * `data` is its FastOpenSocket. A throw from a listener (or from anything
   * they run) is rethrown as an uncaught exception, not handed to Bun.
   */
  static readonly #handlers: SocketHandler<FastOpenSocket> = {
    open(socket) {
      try {
        socket.data.#connected(socket);
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

  /** Starts connecting at once; prefer `createConnection`. Throws TypeError/RangeError for bad options. */
  constructor(options: CreateConnectionOptions) {
    const checked = checkOptions(options);
    super({ allowHalfOpen: checked.allowHalfOpen, emitClose: false, decodeStrings: true });
    this.#options = checked;
    this.#noDelay = checked.noDelay;
    if (checked.keepAlive !== undefined)
      this.#keepAlive = { enable: checked.keepAlive, delay: checked.keepAliveInitialDelay };
    if (checked.timeout !== undefined) this.setTimeout(checked.timeout);
    setImmediate(() => this.#start());
  }

  /** True until the connection is established (as `net.Socket.connecting`). */
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

  /** True while there is no open connection: before it is established, and after it closed (as `net.Socket.pending`). */
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
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)
      throw new RangeError(`timeout must be a finite number >= 0, got ${String(ms)}`);
    this.timeout = ms === 0 ? undefined : ms;
    if (callback !== undefined) {
      if (ms === 0) this.removeListener("timeout", callback);
      else this.once("timeout", callback);
    }
    this.#touch();
    return this;
  }

  /** Keeps the event loop alive for this socket once connected (the default). */
  ref(): this {
    this.#ref = true;
    this.#socket?.ref();
    return this;
  }

  /** Lets the process exit while this connected socket is open (the connect itself keeps it alive). */
  unref(): this {
    this.#ref = false;
    this.#socket?.unref();
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

  /** Whether the Bun socket exists and is open. */
  #live(): boolean {
    return this.#state === "open" || this.#state === "ended";
  }

  /** Refreshes the idle timer. */
  #touch(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    if (this.timeout === undefined || this.destroyed) return;
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      this.emit("timeout");
    }, this.timeout);
    this.#idle.unref();
  }

  /** Connects with what was written so far as the payload. */
  #start(): void {
    if (this.#state !== "gathering") return;
    this.#state = "connecting";
    const options = this.#options;
    // At most MAX_PAYLOAD bytes go through connect() (the SYN takes one MSS at most); the rest is written once connected.
    const all = concat(this.#queue.length > 0 ? this.#queue : [Buffer.alloc(0)]);
    const payload = all.subarray(0, Math.min(all.byteLength, MAX_PAYLOAD));
    const rest = all.subarray(payload.byteLength);
    this.#queue = rest.byteLength > 0 ? [rest] : [];
    this.#queued = rest.byteLength;
    if (rest.byteLength === 0) {
      this.#payloadDone = this.#held;
      this.#held = null;
    }
    const signal =
      options.signal === undefined ? this.#abort.signal : AbortSignal.any([options.signal, this.#abort.signal]);
    connect<FastOpenSocket>({
      hostname: options.host,
      port: options.port,
      payload,
      fastOpen: options.fastOpen,
      connectTimeout: options.connectTimeout,
      signal,
      allowHalfOpen: true,
      ...(options.family === 0 ? {} : { lookup: familyLookup(options.family) }),
      socket: FastOpenSocket.#handlers,
      data: this,
    }).then(
      (socket) => this.#connected(socket),
      (error: unknown) => this.#failed(error),
    );
  }

  /**
   * The connection is up (from `open`, or from `connect()`'s promise should
   * `open` not have run): `'connect'`, then what was queued meanwhile.
   */
  #connected(socket: Socket<FastOpenSocket>): void {
    if (this.#state !== "connecting") {
      // Destroyed while connecting: the connection is not wanted.
      if (this.#socket !== socket) socket.close();
      return;
    }
    this.#state = "open";
    this.#socket = socket;
    if (this.#noDelay !== undefined) socket.setNoDelay(this.#noDelay);
    if (this.#keepAlive !== undefined)
      socket.setKeepAlive(this.#keepAlive.enable, Math.floor(this.#keepAlive.delay / 1000));
    if (!this.#ref) socket.unref();
    this.#touch();
    const payloadDone = this.#payloadDone;
    this.#payloadDone = null;
    payloadDone?.();
    this.emit("connect");
    this.emit("ready");
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
      address: this.#options.host,
      port: this.#options.port,
      message: "This socket has been ended by the other party",
    });
  }

  /** Writes `data` through the Bun socket; `done` runs once all of it went to the kernel. */
  #send(data: Buffer, done: Callback): void {
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
    this.#accept([toBuffer(chunk, encoding)], callback);
  }

  override _writev(chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, callback: Callback): void {
    this.#accept(
      chunks.map((c) => toBuffer(c.chunk, c.encoding)),
      callback,
    );
  }

  #accept(buffers: Buffer[], callback: Callback): void {
    for (const b of buffers) this.#written += b.byteLength;
    if (!this.connecting) {
      this.#send(concat(buffers), callback);
      return;
    }
    this.#queue.push(...buffers);
    for (const b of buffers) this.#queued += b.byteLength;
    // Accepted at once up to the high-water mark (node:http writes the head and body as separate chunks; all of it may ride in the SYN).
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
    if (final === null || this.connecting || this.#rest !== null || this.#queue.length > 0) return;
    this.#final = null;
    if (this.#live()) this.#socket!.shutdown();
    final();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    const live = this.#live();
    this.#state = "closed";
    this.#abort.abort();
    if (live) this.#socket!.close();
    const held = [this.#held, this.#payloadDone, this.#rest?.done];
    this.#held = this.#payloadDone = null;
    this.#rest = null;
    for (const done of held) done?.(error ?? undefined);
    callback(error);
    process.nextTick(() => this.emit("close", error !== null));
  }
}
