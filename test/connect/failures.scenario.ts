/**
 * connect() failure paths in a private network namespace: refusal, a peer
 * that drops SYNs (the test adds an iptables DROP rule for `DROP_PORT`),
 * abort, and fd accounting over many connections. Prints `{ case, ... }`.
 */
import { type ConnectOptions, connect } from "../../src/connect/connect.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, DROP_PORT, fdCountBackTo, recordingServer, settledFdCount } from "./common.ts";

/** The fields of a rejection that the tests check. */
export interface Rejection {
  name: string;
  code: string;
  errno: number;
  syscall: string;
  address: string | null;
  port: number | null;
  isError: boolean;
  ms: number;
}

async function rejection(options: ConnectOptions): Promise<Rejection | { resolved: true }> {
  const t0 = performance.now();
  try {
    const socket = await connect(options);
    socket.terminate();
    return { resolved: true };
  } catch (error) {
    const e = error as Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number };
    return {
      name: e.name,
      code: e.code ?? "",
      errno: e.errno ?? 0,
      syscall: e.syscall ?? "",
      address: e.address ?? null,
      port: e.port ?? null,
      isError: e instanceof Error,
      ms: performance.now() - t0,
    };
  }
}

/** A port on `::1` with nothing listening. */
async function closedPort(): Promise<number> {
  const server = recordingServer();
  const port = server.port;
  server.stop();
  await Bun.sleep(10);
  return port;
}

const handlers = { data() {} };

/**
 * Two connects to a server on 127.0.0.1: a TFO cookie for that address, so lazy and TLS connects to it defer their
 * SYN.
 */
async function cookieFor127(): Promise<void> {
  const server = recordingServer({ hostname: "127.0.0.1" });
  for (let i = 0; i < 2; i++) {
    const socket = await connect({ hostname: "127.0.0.1", port: server.port, payload: "x", socket: handlers });
    const pending = server.next();
    socket.end();
    await pending;
  }
  server.stop();
}

const modes: Record<string, Partial<ConnectOptions>> = {
  plain: {},
  payload: { payload: "hello" },
  lazy: { lazy: true },
  tls: { tls: { rejectUnauthorized: false } },
  noTfo: { fastOpen: false, payload: "hello" },
};

const cases: Record<string, () => Promise<object>> = {
  /** ECONNREFUSED in every mode, twice (the second time a cookie may be cached for ::1), fds unchanged. */
  async refused() {
    // A cookie for ::1, so that lazy and TLS connects take the deferred path the second time.
    const server = recordingServer();
    const warm = await connect({ hostname: "::1", port: server.port, payload: "x", socket: handlers });
    warm.end();
    await server.next();
    const warm2 = await connect({ hostname: "::1", port: server.port, payload: "x", socket: handlers });
    warm2.end();
    await server.next();
    server.stop();
    const port = await closedPort();
    const before = await settledFdCount();
    const results: Record<string, unknown> = {};
    for (const [mode, extra] of Object.entries(modes)) {
      results[mode] = [];
      for (let i = 0; i < 3; i++)
        (results[mode] as unknown[]).push(await rejection({ hostname: "::1", port, socket: handlers, ...extra }));
    }
    return { port, results, fdsBefore: before, fdsAfter: await fdCountBackTo(before) };
  },

  /** A peer that drops SYNs: `timeout` rejects with ETIMEDOUT in each mode, fds unchanged. */
  async timeout() {
    await cookieFor127();
    const before = await settledFdCount();
    const results: Record<string, unknown> = {};
    for (const [mode, extra] of Object.entries(modes)) {
      results[mode] = await rejection({
        hostname: "127.0.0.1",
        port: DROP_PORT,
        connectTimeout: 150,
        socket: handlers,
        ...extra,
      });
    }
    return { results, fdsBefore: before, fdsAfter: await fdCountBackTo(before) };
  },

  /** A peer that drops SYNs: aborting the signal rejects with ABORT_ERR; a signal aborted up front too. */
  async abort() {
    await cookieFor127();
    const before = await settledFdCount();
    const results: Record<string, unknown> = {};
    for (const [mode, extra] of Object.entries(modes)) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      results[mode] = await rejection({
        hostname: "127.0.0.1",
        port: DROP_PORT,
        signal: controller.signal,
        socket: handlers,
        ...extra,
      });
    }
    results.preAborted = await rejection({
      hostname: "127.0.0.1",
      port: DROP_PORT,
      signal: AbortSignal.abort(),
      socket: handlers,
    });
    return { results, fdsBefore: before, fdsAfter: await fdCountBackTo(before) };
  },

  /** 1000 sequential connections with a payload: every one delivered, fd count unchanged. */
  async manyConnections() {
    const server = recordingServer();
    const payload = "GET /many HTTP/1.1\r\n\r\n";
    const once = async (): Promise<boolean> => {
      const socket = await connect({ hostname: "::1", port: server.port, payload, socket: handlers });
      const pending = server.next();
      socket.end();
      return new TextDecoder().decode((await pending).bytes) === payload;
    };
    await once();
    const before = await settledFdCount();
    let delivered = 0;
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) if (await once()) delivered++;
    const ms = performance.now() - t0;
    const after = await fdCountBackTo(before);
    server.stop();
    return { delivered, fdsBefore: before, fdsAfter: after, msPerConnection: ms / 1000 };
  },
};

await runCase(cases, assertPrivateNetns);
