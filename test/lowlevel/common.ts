/**
 * Shared pieces of the core scenarios (run inside private network
 * namespaces) and of the tests that read their reports: deterministic
 * payloads, listeners, and one TFO exchange measured end to end.
 */

import { must } from "../../src/lowlevel/errors.ts";
import {
  counterDelta,
  type Endpoint6,
  type FastOpenCounters,
  fastOpenCounters,
  fastopenRefused,
  formatIp6,
  type KernelFastOpenStatus,
  lastError,
  POLLIN,
  POLLOUT,
  socketAccept6,
  socketBind4,
  socketBind6,
  socketClose,
  socketConnected,
  socketFastopen,
  socketFastopenConnect4,
  socketFastopenConnect6,
  socketFastopenLazy6,
  socketFastopenNoCookie,
  socketFastopenStatus,
  socketListen,
  socketLocal6,
  socketPoll,
  socketRecv,
  socketSend,
  socketShutdownWrite,
  socketTcp4,
  socketTcp4b,
  socketTcp6,
  socketTcp6b,
} from "../../src/lowlevel.ts";
import { sha256, xorshiftBytes } from "../support/bytes.ts";

export { report } from "../support/scenario-main.ts";
export { sha256 };

/**
 * The IPv6 MSS over an Ethernet MTU of 1500 (1500 - 40 IPv6 - 20 TCP).
 * Scenarios set the namespace's loopback MTU to 1500 so that this is exactly
 * one MSS there; a SYN carries somewhat less (the kernel reserves the 40
 * bytes of option space), so this size also exercises the remainder path.
 */
export const ONE_MSS = 1440;

export { assertPrivateNetns, currentNetns, PARENT_NETNS_ENV } from "../support/netns.ts";

/** `len` deterministic pseudo-random bytes (xorshift32 from `seed`): a lost or doubled chunk changes the digest. */
export function pattern(len: number, seed: number): Uint8Array {
  return xorshiftBytes(len, seed * 2654435761 + 1);
}

/** A listening socket and the port the kernel gave it. */
export interface Listener {
  fd: number;
  port: number;
}

/** Options of `listen6`. */
export interface ListenOptions {
  /** Call `socketFastopen` on the listener (default true). */
  fastopen?: boolean;
  /** Call `socketFastopenNoCookie` on the listener (default false). */
  noCookie?: boolean;
  /** Scope id for a link-local address. */
  scopeId?: number;
}

function finishListener(fd: number, options: ListenOptions): Listener {
  if (options.fastopen ?? true) must(socketFastopen(fd), "socketFastopen");
  if (options.noCookie ?? false) must(socketFastopenNoCookie(fd), "socketFastopenNoCookie(listener)");
  must(socketListen(fd, 64), "socketListen");
  const local = {} as Endpoint6;
  must(socketLocal6(fd, local), "socketLocal6");
  return { fd, port: local.port };
}

/** A non-blocking IPv6 listener on `[ip]:0`. */
export function listen6(ip: Uint8Array, options: ListenOptions = {}): Listener {
  const fd = must(socketTcp6(), "socketTcp6");
  must(socketBind6(fd, ip, 0, options.scopeId ?? 0), "socketBind6");
  return finishListener(fd, options);
}

/** A non-blocking IPv4 listener on `ip4:0`. */
export function listen4(ip4: Uint8Array, options: ListenOptions = {}): Listener {
  const fd = must(socketTcp4(), "socketTcp4");
  must(socketBind4(fd, ip4, 0), "socketBind4");
  return finishListener(fd, options);
}

/** The kind of client socket and the connect call used. */
export type ClientKind = "tcp6" | "tcp6b" | "tcp4" | "tcp4b";

/** One client connection to run through `exchange` (to the listener's port). */
export interface ExchangeSpec {
  kind: ClientKind;
  /** 16 bytes for tcp6/tcp6b (socketFastopenConnect6), 4 for tcp4/tcp4b (socketFastopenConnect4). */
  ip: Uint8Array;
  scopeId?: number;
  payload: Uint8Array;
  /** Call `socketFastopenNoCookie` on the client before connecting. */
  noCookie?: boolean;
  /**
   * Connect with `socketFastopenLazy6` (tcp6 only), then send the payload with
   * `socketSend`: `returned`/`error` then describe that first send when the
   * connect was deferred (returned 0), and the connect itself otherwise.
   */
  lazy?: boolean;
}

/** What one exchange observed, end to end. */
export interface Exchange {
  /** Payload length. */
  length: number;
  /** What socketFastopenConnect returned (lazy: see `ExchangeSpec.lazy`). */
  returned: number;
  /** What socketFastopenLazy6 returned (null when not lazy). */
  lazyConnect: number | null;
  /** `lastError().code` when it returned -1, else null. */
  error: string | null;
  /** socketPoll(POLLOUT) on the client after the call (null for blocking sockets). */
  pollEvents: number | null;
  /** socketConnected() after that. */
  connected: number;
  /** Bytes the server could read right after accept, before the client's first socketSend. */
  arrivedWithConnect: number;
  /** Bytes the client sent with socketSend after the connect call. */
  sentAfter: number;
  /** socketFastopenStatus of the client socket. */
  client: KernelFastOpenStatus | null;
  /** socketFastopenStatus of the accepted socket. */
  server: KernelFastOpenStatus | null;
  /** TcpExt counter deltas of the namespace over this one connection. */
  delta: FastOpenCounters;
  /** Bytes the server read before end of stream, and their digest. */
  received: number;
  sha256: string;
  /** The peer address socketAccept6 reported. */
  peer: string;
  /** fastopenRefused() after the call. */
  refused: boolean;
}

function clientSocket(kind: ClientKind): number {
  const create = { tcp6: socketTcp6, tcp6b: socketTcp6b, tcp4: socketTcp4, tcp4b: socketTcp4b }[kind];
  return must(create(), kind);
}

/** The connect call(s) of one exchange: what the caller sees, and the lazy connect's own result. */
function fastopenConnect(
  fd: number,
  port: number,
  spec: ExchangeSpec,
): { returned: number; lazyConnect: number | null } {
  if (spec.lazy ?? false) {
    if (spec.kind !== "tcp6") throw new Error("lazy exchanges use tcp6");
    const lazyConnect = socketFastopenLazy6(fd, spec.ip, port, spec.scopeId ?? 0);
    return { returned: lazyConnect === 0 ? socketSend(fd, spec.payload) : lazyConnect, lazyConnect };
  }
  if (spec.kind === "tcp6" || spec.kind === "tcp6b") {
    return { returned: socketFastopenConnect6(fd, spec.ip, port, spec.scopeId ?? 0, spec.payload), lazyConnect: null };
  }
  return { returned: socketFastopenConnect4(fd, spec.ip, port, spec.payload), lazyConnect: null };
}

/** Reads what `fd` has now into `into`; true at end of stream. */
function drain(fd: number, into: Uint8Array[], scratch: Uint8Array): boolean {
  for (;;) {
    const n = socketRecv(fd, scratch);
    if (n > 0) into.push(scratch.slice(0, n));
    else if (n === 0) return true;
    else if (lastError()?.code === "EAGAIN") return false;
    else throw new Error(`server recv failed: ${JSON.stringify(lastError())}`);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Hang guard only (never asserted): a scenario that stalls fails instead of hanging. */
const STALL_MS = 10_000;

/**
 * Connects a client with `socketFastopenConnect*`, accepts it on `listener`
 * (non-blocking), then sends whatever the call did not with `socketSend`,
 * shuts the client down and reads to end of stream on the server, recording
 * the statuses of both ends and the namespace's counter deltas.
 */
export function exchange(listener: Listener, spec: ExchangeSpec): Exchange {
  const before = fastOpenCounters();
  const client = clientSocket(spec.kind);
  if (spec.noCookie ?? false) must(socketFastopenNoCookie(client), "socketFastopenNoCookie");
  const { returned, lazyConnect } = fastopenConnect(client, listener.port, spec);
  const error = returned < 0 ? (lastError()?.code ?? "none") : null;
  if (error !== null && error !== "EINPROGRESS") throw new Error(`socketFastopenConnect failed: ${error}`);
  const refused = fastopenRefused();
  const blocking = spec.kind.endsWith("b");
  const pollEvents = blocking ? null : must(socketPoll(client, POLLOUT, STALL_MS), "socketPoll(POLLOUT)");
  const connected = socketConnected(client);
  if (connected !== 1) throw new Error(`not connected: ${JSON.stringify(lastError())}`);

  must(socketPoll(listener.fd, POLLIN, STALL_MS), "socketPoll(listener)");
  const peer = {} as Endpoint6;
  const server = must(socketAccept6(listener.fd, peer), "socketAccept6");
  const chunks: Uint8Array[] = [];
  const scratch = new Uint8Array(1 << 16);
  let eof = drain(server, chunks, scratch);
  const arrivedWithConnect = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);

  const deadline = Date.now() + STALL_MS;
  let sent = Math.max(returned, 0);
  let sentAfter = 0;
  let shut = false;
  while (!eof) {
    if (Date.now() > deadline) throw new Error(`exchange stalled: sent ${sent} of ${spec.payload.byteLength}`);
    if (sent < spec.payload.byteLength) {
      const n = socketSend(client, spec.payload.subarray(sent));
      if (n > 0) {
        sent += n;
        sentAfter += n;
      } else if (lastError()?.code !== "EAGAIN") {
        throw new Error(`socketSend failed: ${JSON.stringify(lastError())}`);
      }
    } else if (!shut) {
      must(socketShutdownWrite(client), "socketShutdownWrite");
      shut = true;
    }
    eof = drain(server, chunks, scratch);
    if (!eof) socketPoll(server, POLLIN, 20);
  }
  const received = concat(chunks);
  const report: Exchange = {
    length: spec.payload.byteLength,
    returned,
    lazyConnect,
    error,
    pollEvents,
    connected,
    arrivedWithConnect,
    sentAfter,
    client: socketFastopenStatus(client),
    server: socketFastopenStatus(server),
    delta: counterDelta(before, fastOpenCounters()),
    received: received.byteLength,
    sha256: sha256(received),
    peer: formatIp6(peer.ip, peer.scopeId),
    refused,
  };
  must(socketClose(client), "socketClose(client)");
  must(socketClose(server), "socketClose(server)");
  return report;
}

/** A payload given as some other view or a string, with the `len` to pass and the bytes that must arrive. */
export interface ViewVariant {
  name: string;
  buf: string | ArrayBufferView;
  len: number | undefined;
  expected: Uint8Array;
}

/** Buffers of every accepted shape, with offsets and `len`, and exactly the bytes each must put on the wire. */
export function viewVariants(): ViewVariant[] {
  const base = pattern(256, 5);
  const text = "h\u00e9llo w\u00f6rld \u2713";
  return [
    { name: "Uint8Array subarray, len shorter", buf: base.subarray(30), len: 50, expected: base.slice(30, 80) },
    {
      name: "DataView with offset",
      buf: new DataView(base.buffer, 10, 40),
      len: undefined,
      expected: base.slice(10, 50),
    },
    {
      name: "Uint16Array with offset",
      buf: new Uint16Array(base.buffer, 20, 30),
      len: undefined,
      expected: base.slice(20, 80),
    },
    {
      name: "Uint16Array, len in bytes",
      buf: new Uint16Array(base.buffer, 100, 30),
      len: 7,
      expected: base.slice(100, 107),
    },
    { name: "Buffer", buf: Buffer.from(base.buffer, 3, 9), len: undefined, expected: base.slice(3, 12) },
    { name: "string (UTF-8)", buf: text, len: undefined, expected: new TextEncoder().encode(text) },
  ];
}
