/**
 * One short exchange (connect, 64-byte request, 64-byte response, close)
 * per call, for each kind of client the benchmarks compare; shared by the
 * rate, memory and instruction-count programs so that they measure the same
 * thing. Every kind uses shared static handlers with the per-connection
 * state in `socket.data` (bench/lib/exchange.ts).
 */
import net from "node:net";
import type { Socket, SocketHandler } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { connectStart, START_SYN_DATA, type StartResult } from "../../src/connect/start.ts";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { lastError } from "../../src/lowlevel/errors.ts";
import { createConnection } from "../../src/node/create-connection.ts";
import { exchangeHandlers, REQUEST, type Waiter, waiter, writingHandlers } from "./exchange.ts";

/**
 * The event-loop client kinds: `connect()`; the bare path (`fo_connect_start`
 * with the request in the SYN, then `Bun.connect({ fd })` with plain
 * handlers: what adopting a native fd costs without `connect()`'s own work);
 * `Bun.connect` + write; `node:net`; and `createConnection` (node:net-style,
 * the request riding in the SYN); `alt` is `connect()` from another build
 * (FASTOPEN_BENCH_ALT=/path/to/src/connect/connect.ts), to compare two
 * versions side by side in one process.
 */
export const LOOP_KINDS = ["connect", "bare", "bun", "net", "createConnection", "alt"] as const;
/** See `LOOP_KINDS`. */
export type LoopKind = (typeof LOOP_KINDS)[number];

/** The bare path's state: the waiter, and the request's unsent rest (none once it rode in the SYN). */
interface BareData extends Waiter {
  rest: Uint8Array | null;
}

function writeRest(socket: Socket<BareData>): void {
  const rest = socket.data.rest;
  if (rest === null) return;
  const n = socket.write(rest);
  socket.data.rest = n >= rest.byteLength ? null : rest.subarray(Math.max(0, n));
}

/** The bare path's handlers: the exchange's, plus writing what the SYN did not carry. */
const bareHandlers: SocketHandler<BareData> = {
  ...(exchangeHandlers as unknown as SocketHandler<BareData>),
  open: writeRest,
  drain: writeRest,
};

const started: StartResult = { queued: 0, inProgress: false, refused: false };

function bareOnce(host: string, port: number): () => Promise<void> {
  const ip = parseIp6(host).ip;
  return async () => {
    const fd = connectStart(ip, port, 0, 6, START_SYN_DATA, REQUEST, started);
    if (fd < 0) throw new Error(`fo_connect_start: ${lastError()?.code}`);
    const { data, done } = waiter();
    const rest = started.queued >= REQUEST.byteLength ? null : REQUEST.subarray(started.queued);
    await Bun.connect<BareData>({ fd, socket: bareHandlers, data: { ...data, rest } });
    await done;
  };
}

function netOnce(host: string, port: number): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => socket.write(REQUEST));
      socket.once("data", () => {
        resolve();
        socket.end();
      });
      socket.once("error", reject);
    });
}

function createConnectionOnce(host: string, port: number): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      const socket = createConnection({ host, port });
      socket.write(REQUEST);
      socket.once("data", () => {
        resolve();
        socket.end();
      });
      socket.once("error", reject);
    });
}

type ConnectFn = typeof connect;
const altPath = process.env.FASTOPEN_BENCH_ALT ?? "";
/** `connect()` of FASTOPEN_BENCH_ALT when set. */
const altConnect: ConnectFn | null =
  altPath === "" ? null : ((await import(altPath)) as { connect: ConnectFn }).connect;

function connectOnce(fn: ConnectFn, host: string, port: number): () => Promise<void> {
  return async () => {
    const { data, done } = waiter();
    await fn<Waiter>({ hostname: host, port, payload: REQUEST, socket: exchangeHandlers, data });
    await done;
  };
}

/** A function making one exchange with `kind` against `host` (an IPv6 literal) `port`. */
export function exchangeOnce(kind: LoopKind, host: string, port: number): () => Promise<void> {
  switch (kind) {
    case "connect":
      return connectOnce(connect, host, port);
    case "alt":
      if (altConnect === null) throw new TypeError("the alt client needs FASTOPEN_BENCH_ALT (a connect.ts path)");
      return connectOnce(altConnect, host, port);
    case "bare":
      return bareOnce(host, port);
    case "bun":
      return async () => {
        const { data, done } = waiter();
        await Bun.connect<Waiter>({ hostname: host, port, socket: writingHandlers, data });
        await done;
      };
    case "net":
      return netOnce(host, port);
    case "createConnection":
      return createConnectionOnce(host, port);
  }
}

/** Runs `count` exchanges, `conc` at a time. */
export async function exchanges(once: () => Promise<void>, count: number, conc: number): Promise<void> {
  let left = count;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      await once();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(conc, count)) }, worker));
}
