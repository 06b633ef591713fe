/**
 * Optimistic connect of the node:net layer (`createConnection`), one case
 * per private network namespace: `bun optimistic.scenario.ts <case>` prints
 * `{ case, ... }`. Each case first fetches the TFO cookie of 127.0.0.1 with a
 * warm-up connection (the cookie is per destination address, so it also
 * serves a closed port or a SYN-dropping one there).
 */
import { spawnSync } from "node:child_process";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { createConnection } from "../../src/node/create-connection.ts";
import type { CreateConnectionOptions, FastOpenSocket } from "../../src/node/socket.ts";
import {
  assertPrivateNetns,
  counters,
  delta,
  fdCountBackTo,
  pattern,
  recordingServer,
  settledFdCount,
} from "../connect/common.ts";
import { type ErrorFields, errorFields } from "../support/error-fields.ts";
import { runCase } from "../support/scenario-main.ts";

/** A closed port of 127.0.0.1 (nothing listens in the namespace). */
const CLOSED_PORT = 7;
/** The request each client writes on `'connect'`. */
const REQUEST = pattern(300, 5);

/** What a socket looked like when it emitted `'connect'`, and how its connection went. */
export interface Observed {
  /** `socket.connecting` inside the `'connect'` listener. */
  connecting: boolean | null;
  /** The TFO report inside the `'connect'` listener (kernel state, `reason: "pending"` while the SYN waits). */
  atConnect: FastOpenStatus | null;
  /** The events in order: connect, ready, data, error CODE, close hadError. */
  events: string[];
  error: ErrorFields | null;
  /** The TFO report once closed. */
  final: FastOpenStatus | null;
  bytesWritten: number;
  /** ms from `createConnection` to `'error'` (null without one). */
  errorAfterMs: number | null;
  counters: FastOpenCounters;
}

/** Connects, writes `REQUEST` on `'connect'` (or `write` when given), ends after the reply; resolves on `'close'`. */
function observe(options: CreateConnectionOptions, write?: (socket: FastOpenSocket) => void): Promise<Observed> {
  const before = counters();
  const started = performance.now();
  const socket = createConnection({ host: "127.0.0.1", ...options });
  const seen: Observed = {
    connecting: null,
    atConnect: null,
    events: [],
    error: null,
    final: null,
    bytesWritten: 0,
    errorAfterMs: null,
    counters: before,
  };
  socket.on("connect", () => {
    seen.events.push("connect");
    seen.connecting = socket.connecting;
    seen.atConnect = socket.fastOpenStatus();
    if (write === undefined) socket.write(REQUEST);
  });
  socket.on("ready", () => seen.events.push("ready"));
  socket.on("data", () => {
    seen.events.push("data");
    socket.end();
  });
  socket.on("error", (error) => {
    seen.events.push(`error ${(error as { code?: string }).code}`);
    seen.error = errorFields(error);
    seen.errorAfterMs = performance.now() - started;
  });
  write?.(socket);
  return new Promise((resolve) =>
    socket.once("close", (hadError: boolean) => {
      seen.events.push(`close ${hadError}`);
      seen.final = socket.fastOpenStatus();
      seen.bytesWritten = socket.bytesWritten;
      seen.counters = delta(before);
      resolve(seen);
    }),
  );
}

/** A TFO server on 127.0.0.1 answering "ok", and the cookie of 127.0.0.1 fetched. */
async function warmServer() {
  const server = recordingServer({ hostname: "127.0.0.1", reply: "ok" });
  const warm = await observe({ port: server.port });
  await server.next();
  return { server, warm };
}

function dropSyns(action: "-A" | "-D", port: number): void {
  const run = spawnSync("iptables", [action, "INPUT", "-p", "tcp", "--dport", String(port), "--syn", "-j", "DROP"]);
  if (run.status !== 0) throw new Error(`iptables ${action}: ${run.stderr}`);
}

/** A child process (optimistic-child.ts) and whether it ended on its own within `ms`. */
async function child(args: string[], ms: number): Promise<{ exited: boolean; code: number | null; output: string }> {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/optimistic-child.ts`, ...args], { stdout: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
  const code = await proc.exited;
  clearTimeout(timer);
  const output = (await new Response(proc.stdout).text()).trim();
  return { exited: proc.signalCode === null, code, output };
}

await runCase(
  {
    /** The first connection (no cookie) is not optimistic; the next is, and its request rides in the SYN. */
    async cookie() {
      const { server, warm } = await warmServer();
      const optimistic = await observe({ port: server.port });
      const received = await server.next();
      const plain = await observe({ port: server.port, optimistic: false });
      await server.next();
      server.stop();
      return { warm, optimistic, received: Buffer.from(received.bytes).equals(REQUEST), plain };
    },

    /**
     * `end(data)` in the optimistic 'connect' listener, 300 B (all in the SYN: the FIN waits for the handshake),
     * 100 kB (one MSS in the SYN, the rest after the handshake, then the FIN) and nothing (`end()` sends the SYN
     * empty, then the FIN): the server reads every byte once, and an end.
     */
    async ending() {
      const { server } = await warmServer();
      const results = [];
      for (const body of [REQUEST, pattern(100_000, 9), new Uint8Array(0)]) {
        const socket = createConnection({ host: "127.0.0.1", port: server.port });
        let atConnect: FastOpenStatus | null = null;
        socket.on("connect", () => {
          atConnect = socket.fastOpenStatus();
          socket.end(body);
        });
        socket.resume();
        const closed = new Promise<boolean>((resolve) => socket.once("close", resolve));
        const received = await server.next();
        const hadError = await closed;
        const delivered = Buffer.from(received.bytes).equals(body);
        const final = socket.fastOpenStatus();
        results.push({ atConnect, final, delivered, length: received.bytes.byteLength, hadError });
      }
      server.stop();
      return { small: results[0], large: results[1], empty: results[2] };
    },

    /** A closed port after an optimistic 'connect': ECONNREFUSED, then 'close'; without optimism no 'connect'. */
    async refused() {
      const { server } = await warmServer();
      const fdsBefore = await settledFdCount();
      const optimistic = await observe({ port: CLOSED_PORT });
      const plain = await observe({ port: CLOSED_PORT, optimistic: false });
      server.stop();
      return { optimistic, plain, fdsBefore, fdsAfter: await fdCountBackTo(fdsBefore) };
    },

    /** SYNs dropped after an optimistic 'connect': ETIMEDOUT after connectTimeout, or HANDSHAKE_TIMEOUT_MS. */
    async dropped() {
      const { server } = await warmServer();
      dropSyns("-A", server.port);
      const fdsBefore = await settledFdCount();
      const [timeout, handshake] = await Promise.all([
        observe({ port: server.port, connectTimeout: 500 }),
        observe({ port: server.port }),
      ]);
      dropSyns("-D", server.port);
      server.stop();
      return { timeout, handshake, fdsBefore, fdsAfter: await fdCountBackTo(fdsBefore) };
    },

    /** A child whose optimistic socket is unref()'d (after 'connect', or before) ends while the SYNs are dropped. */
    async unref() {
      const { server } = await warmServer();
      dropSyns("-A", server.port);
      const port = String(server.port);
      const after = await child(["after", port], 5000);
      const before = await child(["before", port], 5000);
      const timeout = await child(["timeout", port], 5000);
      const ref = await child(["ref", port], 1500);
      dropSyns("-D", server.port);
      server.stop();
      return { after, before, timeout, ref };
    },

    /** A host with two addresses gets no optimism (Happy Eyeballs); with one address it does. */
    async addresses() {
      const server = recordingServer({ hostname: "0.0.0.0", reply: "ok" });
      for (const host of ["127.0.0.1", "127.0.0.2"]) {
        await observe({ host, port: server.port });
        await server.next();
      }
      const both = [
        { address: "127.0.0.1", family: 4 },
        { address: "127.0.0.2", family: 4 },
      ];
      const two = await observe({
        host: "db.test",
        port: server.port,
        lookup: (_name, _options, callback) => (callback as (e: null, a: typeof both) => void)(null, both),
      });
      await server.next();
      const one = await observe({
        host: "db.test",
        port: server.port,
        lookup: (_name, _options, callback) =>
          (callback as (e: null, a: string, f: number) => void)(null, "127.0.0.1", 4),
      });
      await server.next();
      server.stop();
      return { two, one };
    },

    /** A write one `setImmediate` after the optimistic `'connect'` (within `SYN_WAIT_TURNS`) rides in the SYN. */
    async lateWrite() {
      const { server } = await warmServer();
      const late = (socket: FastOpenSocket): void => {
        socket.once("connect", () => setImmediate(() => socket.write(REQUEST)));
      };
      const observed = await observe({ port: server.port }, late);
      const received = (await server.next()).bytes.byteLength;
      server.stop();
      return { observed, received };
    },

    /**
     * A write while the host name's lookup is still going (the connect started, nothing written in the gathering
     * turns): once the lookup ends the SYN is deferred, and the queued write rides in it.
     */
    async lookupWrite() {
      const { server } = await warmServer();
      const lookup: CreateConnectionOptions["lookup"] = (_name, _options, callback) =>
        void setTimeout(() => (callback as (e: null, a: string, f: number) => void)(null, "127.0.0.1", 4), 50);
      const during = (socket: FastOpenSocket): void => {
        setTimeout(() => socket.write(REQUEST), 10);
        // A request that never leaves would leave the socket waiting for the reply: a bounded wait, then an error.
        const stalled = Object.assign(new Error("no reply in 3 s"), { code: "STALLED" });
        const guard = setTimeout(() => socket.destroy(stalled), 3000);
        socket.once("close", () => clearTimeout(guard));
      };
      const observed = await observe({ host: "db.test", port: server.port, lookup }, during);
      const received = observed.error === null ? (await server.next()).bytes.byteLength : 0;
      server.stop();
      return { observed, received };
    },

    /** A client that writes one `setImmediate` after createConnection (Postgres.js) still gets its data in the SYN. */
    async turn() {
      const { server } = await warmServer();
      const later = (socket: FastOpenSocket): void => {
        setImmediate(() => socket.write(REQUEST));
      };
      const optimistic = await observe({ port: server.port }, later);
      await server.next();
      const plain = await observe({ port: server.port, optimistic: false }, later);
      await server.next();
      const atOnce = await observe({ port: server.port, optimistic: false }, (socket) => socket.write(REQUEST));
      await server.next();
      server.stop();
      return { optimistic, plain, atOnce };
    },
  },
  assertPrivateNetns,
);
