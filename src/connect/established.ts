/// <reference path="../types/bun-fd.d.ts" preserve="true" />
/**
 * `connect()`'s lean path: a connection whose handshake is already over
 * when the native connect call returns (on loopback the kernel completes it
 * inside the call) and whose whole payload went with the SYN has nothing
 * left for `connect()` to do. Bun adopts its fd with the user's own
 * handlers (copied), only `open` wrapped (to register the connection for
 * `fastOpenStatus`), so every later event goes straight to the user, as
 * with `Bun.connect` (handlers called with the socket as `this`).
 */
import type { Socket, SocketHandler } from "bun";
import { systemError } from "../lowlevel/errors.ts";
import * as fo from "../lowlevel/socket.ts";
import type { ConnectAttempt } from "./attempt.ts";
import type { FastOpenFd } from "./fd.ts";
import type { CheckedConnect } from "./options.ts";
import { closeRecord, registerConnection } from "./status.ts";

/** `::1`, or an IPv4 loopback address (`127.0.0.0/8`, v4-mapped): where the connect call completes the handshake. */
export function isLoopback(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  if (ip[10] === 0xff && ip[11] === 0xff) return ip[12] === 127;
  for (let i = 10; i < 15; i++) if (ip[i] !== 0) return false;
  return ip[15] === 1;
}

/**
 * Whether `opened` is established with nothing left to send: one kernel
 * report (TCP_INFO), kept as the connection's TFO report (it does not
 * change once the handshake is over).
 */
export function establishedAtStart(opened: FastOpenFd): boolean {
  if (opened.remainder.byteLength > 0 || opened.deferred) return false;
  const status = fo.socketFastopenStatus(opened.fd);
  if (status?.established !== true) return false;
  opened.last = status;
  return true;
}

/** A connection Bun is adopting: what its wrapped `open` needs. */
interface Adoption<Data> {
  readonly opened: FastOpenFd;
  readonly user: SocketHandler<Data>;
  /** Read `remoteAddress` at `open`, so that Bun keeps it after close (the caller gave a name, not an address). */
  readonly keepPeer: boolean;
  socket: Socket<Data> | null;
}

/** The adoption in progress: Bun runs `open` synchronously inside `Bun.connect({ fd })`. */
let adopting: Adoption<unknown> | null = null;

function adoptedOpen(socket: Socket<unknown>): void {
  const adoption = adopting;
  adopting = null;
  if (adoption === null) return; // Only reached inside adoptEstablished.
  adoption.socket = socket;
  registerConnection(socket, adoption.opened);
  if (adoption.keepPeer) void socket.remoteAddress;
  adoption.user.open?.call(socket, socket);
}

/** The handlers Bun reads besides `open` (copied: Bun reads own properties faster than inherited ones). */
const PASSED = [
  "data",
  "drain",
  "end",
  "close",
  "error",
  "timeout",
  "handshake",
  "connectError",
  "binaryType",
] as const;

/** The user's handlers with `open` wrapped, one per handlers object, rebuilt when the user's have changed. */
const wrapped = new WeakMap<object, Record<string, unknown>>();

/** Whether `handlers` still has the user's own (each read by name: one inline cache each, no loop). */
function unchanged(handlers: Record<string, unknown>, given: Record<string, unknown>): boolean {
  return (
    handlers.data === given.data &&
    handlers.drain === given.drain &&
    handlers.end === given.end &&
    handlers.close === given.close &&
    handlers.error === given.error &&
    handlers.timeout === given.timeout &&
    handlers.handshake === given.handshake &&
    handlers.connectError === given.connectError &&
    handlers.binaryType === given.binaryType
  );
}

function withAdoptedOpen<Data>(user: SocketHandler<Data>): SocketHandler<Data> {
  const given = user as unknown as Record<string, unknown>;
  let handlers = wrapped.get(user);
  if (handlers !== undefined && !unchanged(handlers, given)) handlers = undefined;
  if (handlers === undefined) {
    handlers = { open: adoptedOpen };
    for (const name of PASSED) handlers[name] = given[name];
    wrapped.set(user, handlers);
  }
  return handlers as unknown as SocketHandler<Data>;
}

const NOTHING_TO_CANCEL = (): void => {};

/** The rejection of an established connection that lost a race (`claim` said no). */
function lostRace(opened: FastOpenFd): Error {
  const { address } = opened.address;
  const message = `connect to ${address}:${opened.port} cancelled`;
  return systemError("ECANCELED", "connect", { address, port: opened.port, message });
}

/** Closes the fd that Bun did not take and rejects with `error`. */
function notAdopted<Data>(opened: FastOpenFd, error: unknown): Promise<Socket<Data>> {
  if (!opened.closed) {
    closeRecord(opened, false);
    fo.socketClose(opened.fd);
  }
  const failed = Promise.reject(error instanceof Error ? error : new Error(String(error)));
  failed.catch(() => {});
  return failed;
}

/** Bun's adoption of `adoption.opened` with the user's handlers; its promise, or the rejection of a failure. */
function adopt<Data>(adoption: Adoption<Data>, plan: CheckedConnect<Data>): Promise<Socket<Data>> {
  const { opened } = adoption;
  adopting = adoption as Adoption<unknown>;
  let adopted: Promise<Socket<Data>>;
  try {
    const socket = withAdoptedOpen(plan.handlers);
    adopted = Bun.connect({ fd: opened.fd, socket, data: plan.data as Data, allowHalfOpen: plan.allowHalfOpen });
  } catch (error) {
    return notAdopted(opened, error);
  } finally {
    adopting = null;
  }
  if (adoption.socket !== null) return adopted;
  // `open` did not run during the adoption (never seen): whatever Bun says, no fd is left behind.
  return adopted.catch((error: unknown) =>
    adoption.socket === null ? notAdopted(opened, error) : Promise.reject(error),
  );
}

/**
 * Bun adopts the established `opened` with the user's handlers (see the
 * module comment); the user's `open` runs during the adoption, and the
 * attempt's promise is Bun's own. `claim` (a race) is asked first: false
 * closes the fd and rejects with ECANCELED.
 */
export function adoptEstablished<Data>(
  opened: FastOpenFd,
  plan: CheckedConnect<Data>,
  claim: () => boolean,
  keepPeer: boolean,
): ConnectAttempt<Data> {
  const promise = claim()
    ? adopt({ opened, user: plan.handlers, keepPeer, socket: null }, plan)
    : notAdopted<Data>(opened, lostRace(opened));
  return { address: opened.address, promise, cancel: NOTHING_TO_CANCEL };
}
