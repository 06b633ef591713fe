/**
 * Helpers of the async API scenarios: a `listen()` server that records what
 * each connection delivered, deterministic payloads, digests, counters, and
 * the guard that keeps these scenarios inside a private network namespace.
 */
import type { Socket } from "bun";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import { type FastOpenListener, listen } from "../../src/listen.ts";
import { counterDelta, type FastOpenCounters, fastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { xorshiftBytes } from "../support/bytes.ts";

export { sha256 } from "../support/bytes.ts";
export { assertPrivateNetns, fdCountBackTo, openFdCount as fdCount, settledFdCount } from "../support/netns.ts";
export { report } from "../support/scenario-main.ts";

/** The port of 127.0.0.1 whose SYNs the failure tests' iptables rule drops. */
export const DROP_PORT = 9;

/** `len` deterministic bytes from `seed` (xorshift32): a lost, doubled or swapped chunk changes the digest. */
export function pattern(len: number, seed: number): Uint8Array {
  return xorshiftBytes(len, seed * 2654435761);
}

/** What the server saw on one accepted connection. */
export interface Received {
  bytes: Uint8Array;
  /** The accepted socket's TFO report, read when its first data arrived (or at end). */
  status: FastOpenStatus | null;
}

/** A `listen()` server that hands out each connection's full input once the client ends. */
export interface RecordingServer {
  listener: FastOpenListener<ServerState>;
  port: number;
  /** Resolves with the next connection's input, in accept order. */
  next(): Promise<Received>;
  stop(): void;
}

/** Per-connection state of the recording server. */
export interface ServerState {
  chunks: Uint8Array[];
  status: FastOpenStatus | null;
  done: PromiseWithResolvers<Received>;
}

/** Options of `recordingServer`. */
export interface ServerOptions {
  hostname?: string;
  /** Default 0: any free port. */
  port?: number;
  fastOpen?: number;
  tls?: { cert: string; key: string };
  /** Bytes the server writes as soon as a connection opens (server speaks first). */
  greeting?: string;
  /** Bytes the server writes back after each data chunk. */
  reply?: string;
}

/** Starts a recording `listen()` server on loopback. */
export function recordingServer(options: ServerOptions = {}): RecordingServer {
  const queue: Array<Promise<Received>> = [];
  const listener = listen<ServerState>({
    hostname: options.hostname ?? "::1",
    port: options.port ?? 0,
    fastOpen: options.fastOpen ?? 256,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    socket: {
      open(socket: Socket<ServerState>) {
        const done = Promise.withResolvers<Received>();
        socket.data = { chunks: [], status: null, done };
        queue.push(done.promise);
        if (options.greeting !== undefined) socket.write(options.greeting);
      },
      data(socket: Socket<ServerState>, data: Buffer) {
        socket.data.status ??= fastOpenStatus(socket);
        socket.data.chunks.push(new Uint8Array(data));
        if (options.reply !== undefined) socket.write(options.reply);
      },
      end(socket: Socket<ServerState>) {
        socket.data.status ??= fastOpenStatus(socket);
        socket.data.done.resolve({ bytes: Buffer.concat(socket.data.chunks), status: socket.data.status });
        socket.end();
      },
      close(socket: Socket<ServerState>) {
        socket.data?.done.resolve({ bytes: Buffer.concat(socket.data.chunks), status: socket.data.status });
      },
    },
  });
  let taken = 0;
  return {
    listener,
    port: listener.port,
    async next() {
      while (queue.length <= taken) await Bun.sleep(1);
      return queue[taken++]!;
    },
    stop: () => listener.stop(true),
  };
}

/** What one "ping" exchange saw: the reply, the client's TFO report, and the server's record of the connection. */
export interface PingOutcome {
  reply: string;
  client: FastOpenStatus;
  serverReceived: string;
  server: FastOpenStatus | null;
}

/**
 * Writes "ping" on a connected `socket`, waits for the `reply` its data
 * handler resolves, reads its TFO report, ends it and waits for `server`'s
 * record of the connection.
 */
export async function pingThenEnd<Data>(
  socket: Socket<Data>,
  reply: Promise<string>,
  server: RecordingServer,
): Promise<PingOutcome> {
  socket.write("ping");
  const answer = await reply;
  const client = fastOpenStatus(socket);
  const pending = server.next();
  socket.end();
  const received = await pending;
  return { reply: answer, client, serverReceived: new TextDecoder().decode(received.bytes), server: received.status };
}

/** TcpExt counters now. */
export function counters(): FastOpenCounters {
  return fastOpenCounters();
}

/** `after - before`. */
export function delta(before: FastOpenCounters): FastOpenCounters {
  return counterDelta(before, fastOpenCounters());
}

/** Answers ::1 first, then 127.0.0.1, as a dual-stack name does: the Happy Eyeballs cases' lookup. */
export async function dualStackLookup(): Promise<Array<{ address: string; family: number }>> {
  return [
    { address: "::1", family: 6 },
    { address: "127.0.0.1", family: 4 },
  ];
}

/** Drops every SYN to `port` over IPv6 (ip6tables): the broken IPv6 path that Happy Eyeballs must race past. */
export function dropIpv6Syns(port: number): void {
  const rule = ["ip6tables", "-A", "INPUT", "-p", "tcp", "--dport", String(port), "--syn", "-j", "DROP"];
  const drop = Bun.spawnSync(rule);
  if (drop.exitCode !== 0) throw new Error(`ip6tables: ${drop.stderr.toString()}`);
}
