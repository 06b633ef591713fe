/// <reference path="../types/bun-fd.d.ts" preserve="true" />
/**
 * One connection attempt of `connect()`: the native TFO connect, then the
 * still-connecting fd adopted by Bun's event loop at once
 * (`Bun.connect({ fd })`), and the connection completed from Bun's events,
 * without polling: the handlers below write the payload's unsent rest in
 * order, wait for `drain` while the handshake (or a full send buffer) holds
 * it back, and check the kernel's connect state after every write and event.
 * The user's handlers see the socket only once it is established (with TLS:
 * once the handshake is done); a deferred lazy connect without TLS is the
 * exception, its `open` running at once so that its first write rides in
 * the SYN.
 */
import type { Socket, SocketHandler } from "bun";
import { lastError, type SystemError, systemError } from "../lowlevel/errors.ts";
import * as fo from "../lowlevel/socket.ts";
import { EMPTY_BYTES } from "../lowlevel/validate.ts";
import { adoptEstablished, establishedAtStart, isLoopback } from "./established.ts";
import { type FastOpenFd, nativeError, startFastOpenFd } from "./fd.ts";
import type { CheckedConnect } from "./options.ts";
import type { ResolvedAddress } from "./resolve.ts";
import { closeRecord, refreshRecord, registerConnection, sentCounts } from "./status.ts";

/**
 * What the attempts of one connect() call share: whether the user's `open`
 * has run (on a deferred lazy attempt), what it wrote while the SYN waited
 * (the first flight) and whether it then ended the socket, which a later
 * attempt of a race replays instead of running `open` again.
 */
export interface SharedFlight {
  opened: boolean;
  flight: Uint8Array | null;
  /** The user's `open` called `end()` after its writes: a replaying attempt ends its socket too. */
  ended: boolean;
}

/** The bytes of a `socket.write(data, byteOffset?, byteLength?)` argument. */
function writtenBytes(data: unknown, offset: unknown, length: unknown): Uint8Array | null {
  let bytes: Uint8Array;
  if (typeof data === "string") bytes = new TextEncoder().encode(data);
  else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else return null;
  const start = typeof offset === "number" && typeof data !== "string" ? offset : 0;
  const end = typeof length === "number" && typeof data !== "string" ? start + length : bytes.byteLength;
  return bytes.subarray(start, end);
}

/** A running attempt: its outcome, and a way to stop it. */
export interface ConnectAttempt<Data> {
  readonly address: ResolvedAddress;
  /** Resolves with the established socket (the user's `open` has run); rejects with a SystemError. */
  readonly promise: Promise<Socket<Data>>;
  /** Ends a still-connecting attempt (its socket terminated, its fd closed) and rejects it with `error`. */
  cancel(error: Error, quiet?: boolean): void;
}

type Phase = "connecting" | "established" | "failed";

/** The error of an attempt that lost a race or was cancelled without a reason. */
function cancelled(address: string, port: number): SystemError {
  return systemError("ECANCELED", "connect", { address, port, message: `connect to ${address}:${port} cancelled` });
}

/** A private copy of a chunk Bun handed to `data` (kept until the user's `open` has run). */
function copyChunk(chunk: unknown): unknown {
  if (Buffer.isBuffer(chunk)) return Buffer.from(chunk);
  if (chunk instanceof ArrayBuffer) return chunk.slice(0);
  if (chunk instanceof Uint8Array) return chunk.slice();
  return chunk;
}

/**
 * Gives the socket its peer address before the handshake: Bun keeps the
 * first `remoteAddress` it reads, and before the handshake there is none
 * (read after it, it is right: only a deferred lazy connect, whose `open`
 * runs first, needs this).
 */
function fillPeer<Data>(socket: Socket<Data>, opened: FastOpenFd): void {
  const family = opened.address.family === 4 ? "IPv4" : "IPv6";
  try {
    Object.defineProperty(socket, "remoteAddress", { value: opened.address.address, configurable: true });
    Object.defineProperty(socket, "remotePort", { value: opened.port, configurable: true });
    Object.defineProperty(socket, "remoteFamily", { value: family, configurable: true });
  } catch {
    // Bun may forbid it; the address is still in the connect options.
  }
}

/** What is known of why a connection closed before it was established (Bun gives no error for these). */
interface EarlyClose {
  /** The application ended or terminated the socket (a lazy `open` may, before the handshake). */
  byApplication: boolean;
  /** The peer's FIN arrived (and, allowHalfOpen being false, Bun closed the socket). */
  peerEnded: boolean;
  /** Payload bytes not yet written. */
  unsent: number;
}

/**
 * The rejection of a connection Bun closed before it was established: the
 * error Bun reported, else what is known of the cause (the application's
 * own end()/terminate(), the peer's FIN with payload bytes left unsent),
 * else ECONNRESET.
 */
function closedEarly(error: Error | undefined, opened: FastOpenFd, secure: boolean, cause: EarlyClose): SystemError {
  const { address } = opened.address;
  const where = `${address}:${opened.port}`;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" && cause.byApplication) {
    const syn = opened.bytesInSyn > 0 ? `; ${opened.bytesInSyn} B had left in the SYN and may have arrived` : "";
    return systemError("ECONNABORTED", "connect", {
      address,
      port: opened.port,
      message: `connection to ${where} closed by the application before the handshake completed${syn}`,
    });
  }
  if (typeof code !== "string" && cause.peerEnded && !secure) {
    return systemError("EPIPE", "connect", {
      address,
      port: opened.port,
      message:
        `connection to ${where} ended by the peer (FIN, no reset) with ${cause.unsent} B of the payload unsent; ` +
        "closed as allowHalfOpen is false",
    });
  }
  const what = secure ? "before the TLS handshake completed" : "before it was established";
  return systemError(typeof code === "string" ? code : "ECONNRESET", "connect", {
    address,
    port: opened.port,
    message: `connection to ${where} closed ${what}${error === undefined ? "" : `: ${error.message}`}`,
  });
}

/**
 * What a handshake_failure alert means when the user chose the key-exchange
 * groups (`tls.ecdhCurve`): a server that supports none of them answers so.
 */
function groupsHint(message: string, tls: unknown): string {
  const curve = (tls as { ecdhCurve?: unknown } | null)?.ecdhCurve;
  if (typeof curve !== "string" || !message.includes("HANDSHAKE_FAILURE")) return "";
  return ` (tls.ecdhCurve is "${curve}": a server that supports none of these key-exchange groups answers so)`;
}

/** The rejection of a failed TLS handshake: Bun's code and message, as a SystemError of the connect. */
function handshakeFailed(error: Error | null, opened: FastOpenFd, tls: unknown): SystemError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error?.message ?? `TLS handshake with ${opened.address.address}:${opened.port} failed`;
  const failure = systemError(typeof code === "string" ? code : "EPROTO", "connect", {
    address: opened.address.address,
    port: opened.port,
    message: `${message}${groupsHint(message, tls)}`,
  });
  if (error !== null) (failure as { cause?: unknown }).cause = error;
  return failure;
}

/** OpenSSL's certificate verification results (node's `authorizationError` codes), and node's name mismatch. */
const VERIFY_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * Whether a failed handshake report is only a certificate check that the
 * TLS options waive (`rejectUnauthorized: false`): the handshake itself
 * completed.
 */
export function verificationOnly(error: Error | null, tls: unknown): boolean {
  if (typeof tls !== "object" || tls === null || (tls as { rejectUnauthorized?: unknown }).rejectUnauthorized !== false)
    return false;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && VERIFY_CODES.has(code);
}

/** A user handler as `invoke` calls it (the arguments after the socket are the event's). */
type UserHandler<Data> = (this: Socket<Data>, socket: Socket<Data>, a: never, b: never) => unknown;

/** The socket methods by which the application closes it. */
const CLOSERS = ["end", "terminate"] as const;

/** Gives `socket` an own method `name` (shadowing Bun's); false when Bun forbids it. */
function ownMethod(socket: object, name: string, value: (...args: never[]) => unknown): boolean {
  try {
    Object.defineProperty(socket, name, { configurable: true, writable: true, value });
    return true;
  } catch {
    return false;
  }
}

/** Removes an own method set by `ownMethod` (Bun's shows again). */
function dropOwn(socket: object, name: string): void {
  try {
    delete (socket as Record<string, unknown>)[name];
  } catch {
    // Not an own property: nothing to undo.
  }
}

/** Removes the `end`/`terminate` wrappers of a deferred lazy connect. */
function dropClosers(socket: object): void {
  for (const name of CLOSERS) dropOwn(socket, name);
}

/** The bytes of `parts`, one after another, on an ArrayBuffer of their own. */
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(parts.reduce((n, p) => n + p.byteLength, 0)));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

class Attempt<Data> implements ConnectAttempt<Data> {
  readonly address: ResolvedAddress;
  readonly promise: Promise<Socket<Data>>;
  private readonly outcome: PromiseWithResolvers<Socket<Data>>;
  private readonly user: SocketHandler<Data>;
  private readonly secure: boolean;
  /** Deferred lazy connect without TLS: the user's `open` runs at once, its first write riding in the SYN. */
  private readonly early: boolean;
  private phase: Phase = "connecting";
  private socket: Socket<Data> | null = null;
  /** The user's handlers get the events (after `open` ran). */
  private forwarding = false;
  /** An optimistic connect's SYN waits for the socket's first write (`holdSyn`): nothing else may send it. */
  private synHeld = false;
  private remainder: Uint8Array;
  private readonly held: unknown[] = [];
  private endHeld = false;
  private reported: Error | undefined;
  /** The application ended or terminated the socket while the connect was pending (a lazy `open` may). */
  private closedByApplication = false;
  /** The peer's FIN arrived. */
  private peerEnded = false;
  /** Another attempt of this connect ran the user's `open`: this one sends its first flight instead. */
  private readonly replay: boolean;

  constructor(
    /** The started fd, also the connection's record for `fastOpenStatus`. */
    private readonly opened: FastOpenFd,
    private readonly plan: CheckedConnect<Data>,
    private readonly claim: () => boolean,
    private readonly shared: SharedFlight,
    private readonly keepPeer: boolean,
  ) {
    this.address = opened.address;
    this.user = plan.handlers;
    this.secure = plan.tls !== undefined && plan.tls !== false;
    this.replay = shared.opened && shared.flight !== null && !this.secure;
    this.early = opened.deferred && !this.secure && !this.replay;
    // A copy: the rest is written after connect() has returned, and the caller may reuse its buffer.
    const rest = opened.remainder;
    this.remainder = this.replay ? concat(shared.flight!, rest) : rest.byteLength === 0 ? rest : concat(rest);
    this.outcome = Promise.withResolvers<Socket<Data>>();
    this.promise = this.outcome.promise;
    this.promise.catch(() => {});
  }

  /** Hands the fd to Bun's loop (which now owns it). */
  adopt(): void {
    const base = {
      fd: this.opened.fd,
      socket: this.handlers(),
      data: this.plan.data as Data,
      allowHalfOpen: this.plan.allowHalfOpen,
    };
    try {
      const adopted = Bun.connect(this.secure ? { ...base, tls: this.plan.tls } : base);
      adopted.catch((error: unknown) => this.adoptFailed(error));
    } catch (error) {
      this.adoptFailed(error);
      return;
    }
    if (this.secure) this.watchFlight();
  }

  /**
   * TLS: measures how much of the ClientHello rode in the SYN. A deferred
   * lazy SYN leaves with Bun's first write of it, which the kernel cuts to
   * what the SYN can carry (about the MSS less 40 B); Bun writes the rest on
   * a later writable event, after the SYN-ACK. Checked once per loop turn
   * until the first bytes have left: while one data segment (the SYN) has
   * left, the kernel's count of bytes sent is the SYN's share. Without a
   * deferred SYN (no cookie yet) none of it rode.
   */
  private watchFlight(): void {
    const record = this.opened;
    if (!record.deferred) {
      record.tlsFlight = "measured";
      return;
    }
    record.tlsFlight = "pending";
    const check = (): void => {
      if (record.tlsFlight !== "pending") return;
      if (this.phase !== "connecting" || record.closed) record.tlsFlight = "unmeasured";
      else if (!this.measureSyn()) setImmediate(check);
    };
    setImmediate(check);
  }

  /** One look at what has left (see `watchFlight`): true once the SYN's share is known, or cannot be. */
  private measureSyn(sent = sentCounts(this.opened.fd)): boolean {
    const record = this.opened;
    if (sent !== null && sent.bytes === 0) return false;
    if (sent !== null && sent.segments === 1) {
      record.bytesInSyn = sent.bytes;
      record.tlsFlight = "measured";
    } else record.tlsFlight = "unmeasured";
    return true;
  }

  /**
   * TLS, the handshake over: the ClientHello's bytes that did not ride in the
   * SYN went after the TCP handshake (Bun reports the TLS handshake before it
   * writes the client's Finished, so the count of bytes sent is the
   * ClientHello's, plus any retransmission).
   */
  private settleFlight(): void {
    const record = this.opened;
    if (record.closed) return;
    // One look at the kernel's counts, for the SYN's share (if still pending) and the rest.
    const sent = sentCounts(record.fd);
    if (record.tlsFlight === "pending" && !this.measureSyn(sent)) record.tlsFlight = "unmeasured";
    if (sent === null) record.tlsFlight = "unmeasured";
    else record.bytesAfterHandshake = Math.max(0, sent.bytes - record.bytesInSyn);
  }

  cancel(error: Error, quiet = false): void {
    // A race's loser: the user never hears of it again (a lazy `open` may have seen it).
    if (quiet && this.phase === "connecting") this.forwarding = false;
    this.fail(error);
  }

  private adoptFailed(error: unknown): void {
    if (this.socket === null && !this.opened.closed) {
      // Bun never took the fd: it is still ours to close.
      closeRecord(this.opened, false);
      fo.socketClose(this.opened.fd);
    }
    this.fail(error instanceof Error ? error : new Error(String(error)));
  }

  /** The handlers Bun calls: internal until the connection is established, then forwarding to the user's. */
  private handlers(): SocketHandler<Data> {
    const user = this.user;
    const handlers: SocketHandler<Data> = {
      open: (socket) => this.onOpen(socket),
      drain: (socket) => this.onDrain(socket),
      end: (socket) => this.onEnd(socket),
      error: (socket, error) => this.onError(socket, error),
      close: (socket, error) => this.onClose(socket, error),
    };
    if (user.binaryType !== undefined) handlers.binaryType = user.binaryType;
    const userData = user.data;
    if (userData !== undefined)
      handlers.data = (socket, chunk) => this.onData(socket, chunk, userData as UserHandler<Data>);
    const userTimeout = user.timeout as UserHandler<Data> | undefined;
    if (userTimeout !== undefined) {
      handlers.timeout = (socket) => (this.forwarding ? this.invoke(socket, userTimeout) : undefined);
    }
    // Always given with TLS: Bun then calls `open` at once and `handshake` when done.
    if (this.secure) handlers.handshake = (socket, success, error) => this.onHandshake(socket, success, error);
    return handlers;
  }

  private onOpen(socket: Socket<Data>): void {
    this.socket = socket;
    if (this.phase === "failed") {
      // Cancelled before Bun got this far.
      socket.terminate();
      return;
    }
    registerConnection(socket, this.opened);
    // The caller's hook (node:net layer) may terminate the socket here: Bun then calls `close` at once.
    this.plan.onAdopted?.(socket);
    if (this.phase !== "connecting") return;
    if (this.secure) return; // The TLS handshake tells when the connection is up.
    // A replayed empty first flight on a deferred fd: send the SYN now.
    if (this.replay && this.opened.deferred && this.remainder.byteLength === 0)
      fo.socketSend(this.opened.fd, EMPTY_BYTES);
    if (this.early) {
      fillPeer(socket, this.opened);
      this.forwarding = true;
      this.openCapturing(socket);
      // Optimistic, and `open` sent no SYN (it wrote nothing): the SYN waits for the first write.
      const unsent = this.opened.bytesInSyn === 0;
      if (this.plan.optimistic === true && unsent && this.phase === "connecting" && this.alive(socket)) {
        this.holdSyn(socket);
        return;
      }
      // Nothing written in `open`: send the SYN empty, so a server that speaks first is reached.
      if (unsent && this.phase === "connecting" && this.alive(socket)) fo.socketSend(this.opened.fd, EMPTY_BYTES);
      this.progress(socket);
      return;
    }
    // Nothing to check or write yet: Bun polls the new socket for writable, and its first writable (or data)
    // event comes once the handshake is over or failed; `progress` then reads the kernel's report once and writes
    // the payload's rest. A failed connect reaches `close` with the kernel's error (ECONNREFUSED...).
  }

  /**
   * Runs the user's `open` on a deferred lazy attempt, recording what it
   * wrote (what the kernel took) as the connect's first flight, for a later
   * attempt of a race to send instead of running `open` again. The first
   * write sends the SYN: what the kernel took of it rode in the SYN (the
   * record's `bytesInSyn`; later writes wait for the handshake). Until the
   * connect settles, the socket's `end` and `terminate` first note that the
   * application closes it (see `closing`).
   */
  private openCapturing(socket: Socket<Data>): void {
    const shared = this.shared;
    shared.opened = true;
    const parts: Uint8Array[] = [];
    const write = socket.write as (...args: unknown[]) => number;
    let synSent = false;
    let captured = ownMethod(socket, "write", (data: unknown, offset?: unknown, length?: unknown): number => {
      const n = write.call(socket, data, offset, length);
      if (n > 0 && !synSent) {
        synSent = true;
        this.opened.bytesInSyn = n;
      }
      const bytes = n > 0 ? writtenBytes(data, offset, length) : null;
      if (bytes !== null) parts.push(bytes.slice(0, n));
      else if (n > 0) captured = false;
      return n;
    });
    for (const name of CLOSERS) {
      const close = socket[name] as (...args: unknown[]) => unknown;
      ownMethod(socket, name, (...args: unknown[]): unknown => {
        if (name === "end") {
          shared.ended = true;
          const bytes = args[0] === undefined ? EMPTY_BYTES : writtenBytes(args[0], args[1], args[2]);
          if (bytes === null) captured = false;
          else if (bytes.byteLength > 0) parts.push(bytes.slice());
        }
        this.closing(socket);
        return close.apply(socket, args);
      });
    }
    try {
      this.invoke(socket, this.user.open as UserHandler<Data> | undefined);
    } finally {
      dropOwn(socket, "write");
      shared.flight = captured ? concat(...parts) : null;
    }
  }

  /**
   * An optimistic connect (see `connectOptimistic`): the SYN waits for the
   * socket's first write, which it carries (the bytes the kernel took are
   * the record's `bytesInSyn`); an empty write sends it empty. From then on
   * the connect moves on as any other.
   */
  private holdSyn(socket: Socket<Data>): void {
    const write = socket.write as (...args: unknown[]) => number;
    this.synHeld = true;
    ownMethod(socket, "write", (data: unknown, offset?: unknown, length?: unknown): number => {
      dropOwn(socket, "write");
      this.synHeld = false;
      const n = write.call(socket, data, offset, length);
      if (n > 0) this.opened.bytesInSyn = n;
      // Bun may not make a system call for nothing: the SYN leaves empty here.
      else if (this.phase === "connecting" && this.alive(socket)) fo.socketSend(this.opened.fd, EMPTY_BYTES);
      this.progress(socket);
      return n;
    });
  }

  /**
   * The application ends or terminates the socket of a deferred lazy
   * connect that has not settled: when the handshake is done by now, the
   * connect is established first (it resolves: its first flight was
   * delivered); otherwise the close is the application's (the rejection
   * says so, not "reset").
   */
  private closing(socket: Socket<Data>): void {
    if (this.phase !== "connecting") return;
    if (this.alive(socket) && this.remainder.byteLength === 0 && this.connectedNow()) this.establish(socket);
    else this.closedByApplication = true;
  }

  /**
   * Moves the connect on: writes what is left of the payload while the
   * kernel takes it, and establishes the connection once it is connected
   * and nothing is left. A write that the kernel refuses (still connecting,
   * send buffer full) makes Bun report `drain` when it can go on; an empty
   * write does so while the handshake is pending.
   */
  private progress(socket: Socket<Data>): void {
    // A deferred fd polls writable before its SYN has left (Linux, for the SYN's data): not the handshake's end.
    if (this.synHeld) return;
    let armed = false;
    for (;;) {
      if (this.phase !== "connecting" || !this.alive(socket)) return;
      if (!this.connectedNow()) {
        if (this.phase !== "connecting" || armed) return;
        armed = true;
        // A replay on a deferred fd: nothing has left yet, what the kernel takes of its first write rides in the SYN.
        this.advance(socket.write(this.remainder), this.replay && this.opened.deferred && this.opened.bytesInSyn === 0);
        continue;
      }
      if (this.remainder.byteLength === 0) {
        this.establish(socket);
        return;
      }
      const written = socket.write(this.remainder);
      if (written <= 0) return;
      this.advance(written);
    }
  }

  /**
   * Whether the handshake is done, from the kernel's TFO report (one call,
   * which also keeps the report current); if not, the connect's own state:
   * still in progress, or failed (the attempt then fails with its error).
   */
  private connectedNow(): boolean {
    const status = fo.socketFastopenStatus(this.opened.fd);
    if (status?.established) {
      this.opened.last = status;
      return true;
    }
    if (fo.socketConnected(this.opened.fd) === 1) {
      refreshRecord(this.opened);
      return true;
    }
    if (lastError()?.code !== "EINPROGRESS") this.fail(nativeError("connect", this.address.address, this.opened.port));
    return false;
  }

  /** The fd is still Bun's and open (Bun closes it, and calls `close`, synchronously on terminate/end). */
  private alive(socket: Socket<Data>): boolean {
    return !this.opened.closed && socket.readyState > 0;
  }

  /** `written` bytes of the remainder went to the kernel: in the SYN (`inSyn`), or after the handshake. */
  private advance(written: number, inSyn = false): void {
    if (written <= 0) return;
    this.remainder = this.remainder.subarray(written);
    if (inSyn) this.opened.bytesInSyn = written;
    else this.opened.bytesAfterHandshake += written;
  }

  /**
   * The connection is up (the TFO report was just read): the promise
   * resolves, the user's `open` runs and the held events follow.
   */
  private establish(socket: Socket<Data>): void {
    if (!this.claim()) {
      this.fail(cancelled(this.address.address, this.opened.port));
      return;
    }
    this.phase = "established";
    if (this.early) dropClosers(socket);
    // Bun keeps the first peer address it reads: read while it is known, it stays after close (the caller gave a
    // name, not the address; otherwise it is read when asked, as with Bun.connect).
    if (this.keepPeer) void socket.remoteAddress;
    this.outcome.resolve(socket);
    if (this.forwarding) return;
    this.forwarding = true;
    if (!this.replay) this.invoke(socket, this.user.open as UserHandler<Data> | undefined);
    const userData = this.user.data as UserHandler<Data> | undefined;
    if (this.held.length > 0) {
      for (const chunk of this.held.splice(0)) {
        if (!this.alive(socket) || userData === undefined) break;
        this.invoke(socket, userData, chunk);
      }
    }
    if (this.endHeld && this.alive(socket)) this.invoke(socket, this.user.end as UserHandler<Data> | undefined);
    // The user's `open` (run by another attempt) ended its socket after the first flight: so does this one.
    if (this.replay && this.shared.ended && this.alive(socket)) socket.end();
  }

  /**
   * Calls a user handler with the event's arguments and the socket as
   * `this`, as Bun.connect does. A throw goes to the user's `error`
   * handler, as with Bun.connect; with none (or when that throws too) it is
   * reported as an uncaught exception: printed, exit code 1,
   * `'uncaughtException'` listeners called (`reportError`), never lost.
   */
  private invoke(socket: Socket<Data>, handler: UserHandler<Data> | undefined, a?: unknown, b?: unknown): void {
    if (handler === undefined) return;
    try {
      handler.call(socket, socket, a as never, b as never);
    } catch (thrown) {
      const onError = this.user.error as UserHandler<Data> | undefined;
      if (onError === undefined || handler === onError) reportError(thrown);
      else this.invoke(socket, onError, thrown);
    }
  }

  private fail(error: Error): void {
    if (this.phase !== "connecting") return;
    this.phase = "failed";
    if (this.early && this.socket !== null) dropClosers(this.socket);
    this.outcome.reject(error);
    if (this.socket !== null && this.alive(this.socket)) {
      refreshRecord(this.opened);
      this.socket.terminate();
    }
  }

  /** Whether this event should move a plain connect on (not TLS, not yet up). */
  private connecting(): boolean {
    return this.phase === "connecting" && !this.secure;
  }

  private onDrain(socket: Socket<Data>): void {
    const forwarded = this.forwarding;
    if (this.connecting()) this.progress(socket);
    if (forwarded) this.invoke(socket, this.user.drain as UserHandler<Data> | undefined);
  }

  private onData(socket: Socket<Data>, chunk: unknown, userData: UserHandler<Data>): void {
    const forwarded = this.forwarding;
    // Readable may be reported before writable: the handshake may be done already.
    if (this.connecting()) this.progress(socket);
    if (this.early && this.opened.last?.established !== true) refreshRecord(this.opened);
    if (forwarded || (this.forwarding && this.alive(socket))) this.invoke(socket, userData, chunk);
    else if (this.phase === "connecting") this.held.push(copyChunk(chunk));
  }

  private onEnd(socket: Socket<Data>): void {
    const forwarded = this.forwarding;
    if (this.connecting()) this.progress(socket);
    if (this.phase === "connecting") this.endedWhileConnecting();
    // The report is final once the handshake is over: read again only if it was not (a failing connect).
    if (this.opened.last?.established !== true) refreshRecord(this.opened);
    if (forwarded || (this.forwarding && this.alive(socket)))
      this.invoke(socket, this.user.end as UserHandler<Data> | undefined);
    else if (this.phase === "connecting") this.endHeld = true;
  }

  /**
   * Bun reports `end` both for the peer's FIN and for a connect that failed
   * (a refused lazy SYN): the kernel tells which. Still a peer: a FIN,
   * remembered for the rejection if Bun now closes. Else the connect's own
   * error (ECONNREFUSED, ECONNRESET, ...) fails the attempt.
   */
  private endedWhileConnecting(): void {
    if (this.opened.closed) return;
    if (fo.socketConnected(this.opened.fd) === 1) this.peerEnded = true;
    else if (lastError()?.code !== "EINPROGRESS")
      this.fail(nativeError("connect", this.address.address, this.opened.port));
  }

  private onError(socket: Socket<Data>, error: Error): void {
    this.reported = error;
    if (this.forwarding) this.invoke(socket, this.user.error as UserHandler<Data> | undefined, error);
  }

  /**
   * A failed handshake rejects the connect with Bun's TLS error. With
   * `rejectUnauthorized: false` Bun may still report a failed verification
   * (a self-signed certificate over a real link) and keep the socket open:
   * the connection is then established, `authorized` false, as with
   * `Bun.connect`.
   */
  private onHandshake(socket: Socket<Data>, success: boolean, error: Error | null): void {
    refreshRecord(this.opened);
    if (this.phase === "connecting") {
      this.settleFlight();
      if (!success && !(verificationOnly(error, this.plan.tls) && this.alive(socket))) {
        this.fail(handshakeFailed(error, this.opened, this.plan.tls));
        return;
      }
      this.establish(socket);
    }
    if (this.forwarding) this.invoke(socket, this.user.handshake as UserHandler<Data> | undefined, success, error);
  }

  private onClose(socket: Socket<Data>, error: Error | undefined): void {
    closeRecord(this.opened, false);
    if (this.phase === "connecting") {
      this.phase = "failed";
      if (this.early) dropClosers(socket);
      const cause = {
        byApplication: this.closedByApplication,
        peerEnded: this.peerEnded,
        unsent: this.remainder.byteLength,
      };
      this.outcome.reject(closedEarly(error ?? this.reported, this.opened, this.secure, cause));
    }
    if (this.forwarding) this.invoke(socket, this.user.close as UserHandler<Data> | undefined, error);
  }
}

/**
 * Starts one attempt of `plan` to `address`: the native connect (throws its
 * SystemError at once, with the fd closed, when it fails synchronously) and
 * the adoption by Bun. `claim` is asked once, synchronously, when the
 * connection is ready and before the user sees it: false (another attempt
 * won a race) makes this attempt end its socket quietly and reject with
 * ECANCELED. `shared` is shared by the attempts of one connect() call: the
 * user's lazy `open` runs once, its first flight replayed by the others.
 * `beforeAdopt` sees the attempt first, so that a cancellation made in a
 * handler that Bun runs during the adoption (a lazy connect's `open`) reaches it.
 */
export function startAttempt<Data>(
  plan: CheckedConnect<Data>,
  address: ResolvedAddress,
  claim: () => boolean,
  shared: SharedFlight,
  beforeAdopt?: (attempt: ConnectAttempt<Data>) => void,
  keepPeer = true,
): ConnectAttempt<Data> {
  const opened = startFastOpenFd(address, plan);
  // On loopback the connect call completes the handshake: with the payload sent, nothing is left to do.
  const secure = plan.tls !== undefined && plan.tls !== false;
  if (!secure && !shared.opened && isLoopback(address.ip) && establishedAtStart(opened)) {
    const adopted = adoptEstablished(opened, plan, claim, keepPeer);
    beforeAdopt?.(adopted);
    return adopted;
  }
  const attempt = new Attempt(opened, plan, claim, shared, keepPeer);
  beforeAdopt?.(attempt);
  attempt.adopt();
  return attempt;
}
