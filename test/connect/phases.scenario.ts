/**
 * Timeout and abort in the phases after the SYN-ACK, for
 * `connect()` and `createConnection()`: during the TLS handshake (a peer that
 * reads the ClientHello and never answers), during the payload's remainder
 * write (a peer that accepts and never reads an 8 MiB payload), and, with
 * lazy TFO and a cookie, before the first write (the SYN never leaves).
 * Each case reports the rejection's fields, the handler calls around it, the
 * peer's view, TcpExt/Tcp counter deltas, unhandled rejections and the fd
 * count. `bun async-phases.ts <case>` prints `{ case, ... }`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Socket, SocketHandler } from "bun";
import { type ConnectOptions, connect } from "../../src/connect/connect.ts";
import { parseNetstat } from "../../src/lowlevel/netstat.ts";
import { createConnection } from "../../src/node/create-connection.ts";
import type { FastOpenSocket } from "../../src/node/socket.ts";
import { type ErrorFields, errorFields } from "../support/error-fields.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, counters, delta, fdCountBackTo, pattern, settledFdCount, sha256 } from "./common.ts";
import { type PeerConnection, PhasePeer } from "./phase-peer.ts";

/** The payload of the remainder-write cases: more than the namespace's socket buffers hold. */
const BIG = 8 << 20;
const TIMEOUT_MS = 300;

const HANDLERS = ["open", "close", "error", "data", "drain", "end", "timeout", "handshake", "connectError"] as const;

const unhandled: string[] = [];
process.on("unhandledRejection", (reason) => unhandled.push(String(reason)));
process.on("uncaughtException", (error) => unhandled.push(String(error)));

/** Handlers that record each call by name into `calls`. */
function recorder(calls: string[]): SocketHandler<undefined> {
  const handlers: Record<string, unknown> = {};
  for (const name of HANDLERS) handlers[name] = () => calls.push(name);
  return handlers as SocketHandler<undefined>;
}

/** The namespace's Tcp ActiveOpens: SYNs this namespace's clients sent (the kernel counts one per tcp_connect). */
function activeOpens(): number {
  return parseNetstat(readFileSync("/proc/net/snmp", "utf8")).Tcp?.ActiveOpens ?? 0;
}

function sh(command: string): void {
  const result = spawnSync("sh", ["-c", command], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
}

/** The TFO path a stopped `connect()` was set up for. */
export type ConnectMode = "noCookie" | "cookie" | "noTfo";

/** What one `connect()` that must fail after the SYN-ACK saw. */
export interface ConnectOutcome {
  mode: ConnectMode;
  how: "timeout" | "abort";
  /** The rejection, or null when the promise resolved. */
  error: ErrorFields | null;
  /** Handler calls, with "rejected" where the promise settled; the test requires nothing after it. */
  calls: string[];
  /** The peer had accepted the connection and had data from it while the promise was still pending. */
  pendingWithData: boolean;
  /** The first bytes the peer received. */
  head: number[];
  received: number;
  /** What the peer received is a prefix of what was sent (remainder cases). */
  prefixOk: boolean | null;
  /** The peer saw the client's side end after the rejection (the fd was closed). */
  peerSawEnd: boolean;
  peerEnd: string | null;
  counters: ReturnType<typeof delta>;
  fdsBefore: number;
  fdsAfter: number;
}

/**
 * One `connect()` to `peer` that is stopped by `how` once the peer has
 * accepted it and received data (abort: the signal fires then; timeout: its
 * timer fires on its own, and the peer's data must have come first).
 */
async function stoppedConnect(
  peer: PhasePeer,
  mode: ConnectMode,
  how: "timeout" | "abort",
  extra: Partial<ConnectOptions>,
  sent: Uint8Array | null,
): Promise<ConnectOutcome> {
  const fdsBefore = await settledFdCount();
  const before = counters();
  const calls: string[] = [];
  const controller = new AbortController();
  const index = peer.connections.length;
  let settled = false;
  let error: ErrorFields | null = null;
  const stop = how === "timeout" ? { connectTimeout: TIMEOUT_MS } : { signal: controller.signal };
  const promise = connect({ hostname: "::1", port: peer.port, socket: recorder(calls), ...stop, ...extra }).then(
    (socket) => {
      settled = true;
      calls.push("resolved");
      socket.terminate();
    },
    (e: unknown) => {
      settled = true;
      calls.push("rejected");
      error = errorFields(e);
    },
  );
  const hasData = (): boolean => {
    const c = peer.connections[index];
    return c !== undefined && (c.received > 0 || peer.readable(c));
  };
  await peer.until(() => settled || hasData());
  const pendingWithData = !settled && hasData();
  if (how === "abort") controller.abort();
  await promise;
  const c: PeerConnection | undefined = peer.connections[index];
  const peerSawEnd = c === undefined ? false : await peer.drainToEnd(c);
  let prefixOk: boolean | null = null;
  if (sent !== null && c !== undefined)
    prefixOk =
      c.received > 0 &&
      c.received < sent.byteLength &&
      c.hash.copy().digest("hex") === sha256(sent.subarray(0, c.received));
  const fdsAfter = await fdCountBackTo(fdsBefore);
  return {
    mode,
    how,
    error,
    calls,
    pendingWithData,
    head: c?.head ?? [],
    received: c?.received ?? 0,
    prefixOk,
    peerSawEnd,
    peerEnd: c?.end ?? null,
    counters: delta(before),
    fdsBefore,
    fdsAfter,
  };
}

/** Two connects with a payload to `peer` (which reads): the TFO cookie for ::1 is then cached. */
async function fetchCookie(peer: PhasePeer): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const socket = await connect({ hostname: "::1", port: peer.port, payload: "cookie", socket: { data() {} } });
    socket.terminate();
  }
  for (const c of peer.connections) await peer.drainToEnd(c);
}

/** What one `createConnection()` stopped by `how` saw. */
export interface SocketOutcome {
  how: "timeout" | "abort";
  error: ErrorFields | null;
  /** Events in order: connect, error, close(hadError), write-callback(code). */
  events: string[];
  pendingWithData: boolean;
  received: number;
  prefixOk: boolean;
  peerSawEnd: boolean;
  fdsBefore: number;
  fdsAfter: number;
}

/** Records a FastOpenSocket's events; resolves once it closed and a moment passed (nothing may follow `close`). */
function watchSocket(
  socket: FastOpenSocket,
  events: string[],
): { closed: Promise<void>; error: () => ErrorFields | null } {
  let error: ErrorFields | null = null;
  const closed = Promise.withResolvers<void>();
  for (const name of ["connect", "ready", "data", "end", "drain", "finish", "timeout"])
    socket.on(name, () => events.push(name));
  socket.on("error", (e: unknown) => {
    events.push("error");
    error = errorFields(e);
  });
  socket.on("close", (hadError: boolean) => {
    events.push(`close(${hadError})`);
    setTimeout(() => closed.resolve(), 50);
  });
  return { closed: closed.promise, error: () => error };
}

const cases: Record<string, () => Promise<object>> = {
  /**
   * TLS to a peer that reads the ClientHello and never answers: `timeout`
   * and `signal` stop the handshake. Without a cookie (the ClientHello after
   * the handshake), with one (the ClientHello in the SYN, lazy), and with
   * fastOpen off.
   */
  async tls() {
    const peer = new PhasePeer(true);
    sh("ip tcp_metrics flush all"); // Bun opens its child-process fds at the first spawn: before any count.
    const tls = { tls: { rejectUnauthorized: false } };
    const outcomes: ConnectOutcome[] = [];
    for (const how of ["timeout", "abort"] as const) {
      sh("ip tcp_metrics flush all");
      outcomes.push(await stoppedConnect(peer, "noCookie", how, tls, null));
    }
    // The no-cookie connects fetched the cookie: these put the ClientHello in the SYN.
    for (const how of ["timeout", "abort"] as const)
      outcomes.push(await stoppedConnect(peer, "cookie", how, tls, null));
    for (const how of ["timeout", "abort"] as const)
      outcomes.push(await stoppedConnect(peer, "noTfo", how, { ...tls, fastOpen: false }, null));
    peer.stop();
    return { port: peer.port, outcomes, unhandled };
  },

  /**
   * An 8 MiB payload to a peer that accepts and never reads: the socket
   * buffers fill, `timeout` and `signal` stop the remainder write. With a
   * cookie (the first bytes in the SYN), without, and with fastOpen off.
   */
  async remainder() {
    const reader = new PhasePeer(true);
    const peer = new PhasePeer(false);
    const payload = pattern(BIG, 5);
    sh("ip tcp_metrics flush all"); // Bun opens its child-process fds at the first spawn: before any count.
    const outcomes: ConnectOutcome[] = [];
    for (const how of ["timeout", "abort"] as const) {
      sh("ip tcp_metrics flush all");
      outcomes.push(await stoppedConnect(peer, "noCookie", how, { payload }, payload));
    }
    await fetchCookie(reader);
    for (const how of ["timeout", "abort"] as const)
      outcomes.push(await stoppedConnect(peer, "cookie", how, { payload }, payload));
    for (const how of ["timeout", "abort"] as const)
      outcomes.push(await stoppedConnect(peer, "noTfo", how, { payload, fastOpen: false }, payload));
    reader.stop();
    peer.stop();
    return { port: peer.port, outcomes, unhandled };
  },

  /**
   * Lazy TFO with a cookie (the SYN waits for the first write): the signal
   * aborted in `open`, before any write, and then a write after the abort.
   * The control writes without aborting. Tcp ActiveOpens counts the SYNs.
   */
  async lazyAbort() {
    const peer = new PhasePeer(true);
    await fetchCookie(peer);
    const fdsBefore = await settledFdCount();
    const results: Record<string, object> = {};
    for (const variant of ["abort", "abortThenWrite", "control"]) {
      const accepted = peer.connections.length;
      const synsBefore = activeOpens();
      const before = counters();
      const calls: string[] = [];
      const controller = new AbortController();
      const handlers = recorder(calls);
      handlers.open = (socket: Socket<undefined>) => {
        calls.push("open");
        if (variant !== "control") controller.abort();
        if (variant !== "abort") calls.push(`write:${socket.write("lazy first write")}`);
      };
      let error: ErrorFields | null = null;
      try {
        const socket = await connect({
          hostname: "::1",
          port: peer.port,
          lazy: true,
          signal: controller.signal,
          socket: handlers,
        });
        calls.push("resolved");
        socket.end();
      } catch (e) {
        calls.push("rejected");
        error = errorFields(e);
      }
      if (variant === "control") await peer.until(() => peer.connections[accepted]?.ended === true);
      await Bun.sleep(50);
      results[variant] = {
        error,
        calls,
        syns: activeOpens() - synsBefore,
        accepted: peer.connections.length - accepted,
        counters: delta(before),
      };
    }
    const fdsAfter = await fdCountBackTo(fdsBefore);
    peer.stop();
    return { port: peer.port, results, fdsBefore, fdsAfter, unhandled };
  },

  /**
   * createConnection: an 8 MiB write to a peer that never reads, in a
   * namespace whose socket buffers cannot hold the first 64 KiB (the part
   * that goes through connect()): `connectTimeout` and `signal` stop the
   * remainder write. Then, with a cookie, a signal aborted before the first
   * write: no SYN leaves.
   */
  async socketPhases() {
    const peer = new PhasePeer(false);
    const payload = pattern(BIG, 9);
    const outcomes: SocketOutcome[] = [];
    for (const how of ["timeout", "abort"] as const) {
      const fdsBefore = await settledFdCount();
      const index = peer.connections.length;
      const controller = new AbortController();
      const events: string[] = [];
      const socket = createConnection(
        how === "timeout"
          ? { host: "::1", port: peer.port, connectTimeout: TIMEOUT_MS }
          : { host: "::1", port: peer.port, signal: controller.signal },
      );
      const watched = watchSocket(socket, events);
      socket.write(payload, (e) =>
        events.push(`write-callback(${(e as { code?: string } | null | undefined)?.code ?? "ok"})`),
      );
      const hasData = (): boolean => {
        const c = peer.connections[index];
        return c !== undefined && peer.readable(c);
      };
      await peer.until(() => socket.destroyed || hasData());
      const pendingWithData = !socket.destroyed && socket.connecting && hasData();
      if (how === "abort") controller.abort();
      await watched.closed;
      const c = peer.connections[index];
      const peerSawEnd = c === undefined ? false : await peer.drainToEnd(c);
      const received = c?.received ?? 0;
      const prefixOk =
        c !== undefined &&
        received > 0 &&
        received < BIG &&
        c.hash.copy().digest("hex") === sha256(payload.subarray(0, received));
      outcomes.push({
        how,
        error: watched.error(),
        events,
        pendingWithData,
        received,
        prefixOk,
        peerSawEnd,
        fdsBefore,
        fdsAfter: await fdCountBackTo(fdsBefore),
      });
    }
    peer.stop();

    const reader = new PhasePeer(true);
    await fetchCookie(reader);
    const fdsBefore = await settledFdCount();
    const synsBefore = activeOpens();
    const controller = new AbortController();
    const events: string[] = [];
    const socket = createConnection({ host: "::1", port: reader.port, signal: controller.signal });
    const watched = watchSocket(socket, events);
    controller.abort();
    await watched.closed;
    await Bun.sleep(50);
    const beforeWrite = {
      error: watched.error(),
      events,
      syns: activeOpens() - synsBefore,
      accepted: reader.connections.length - 2,
      fdsBefore,
      fdsAfter: await fdCountBackTo(fdsBefore),
    };
    reader.stop();
    return { port: peer.port, outcomes, beforeWrite, unhandled };
  },
};

await runCase(cases, assertPrivateNetns);
