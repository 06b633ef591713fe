/**
 * node:net interop scenarios (`createConnection`, `FastOpenAgent`) against a
 * real `node:http` server and `listen()` servers, one case per private
 * network namespace: `bun net-http.ts <case> [args...]` prints `{ case, ... }`.
 *
 * The node:http server cannot be given TCP_FASTOPEN by hand: the tests set
 * bit 0x400 of `net.ipv4.tcp_fastopen` in the namespace (TFO on every
 * listener) when the server must take SYN data.
 */
import { spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { FastOpenAgent } from "../../src/node/agent.ts";
import { createConnection } from "../../src/node/create-connection.ts";
import { type CreateConnectionOptions, FastOpenSocket } from "../../src/node/socket.ts";
import {
  assertPrivateNetns,
  counters,
  delta,
  fdCountBackTo,
  pattern,
  recordingServer,
  settledFdCount,
  sha256,
} from "../connect/common.ts";
import { type ErrorFields, errorFields } from "../support/error-fields.ts";
import { BODY_SIZES, NET_DROP_PORT } from "../support/ports.ts";
import { runCase } from "../support/scenario-main.ts";

/** One HTTP exchange's outcome. */
export interface Exchange {
  method: string;
  size: number;
  httpStatus: number;
  /** The response body (an echo of the request body) equals what was sent. */
  echoed: boolean;
  /** The server's SHA-256 of the body it received equals the body's. */
  serverDigestOk: boolean;
  bytesWritten: number;
  client: FastOpenStatus | null;
  counters: FastOpenCounters;
  localPort: number | null;
}

/** A node:http server that echoes each request body, with its SHA-256 in `x-sha256`. */
async function echoServer(host: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.setHeader("x-sha256", sha256(body));
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** One request through `agent` (or `createConnection`); the body is sent with `end()`. */
async function exchange(options: http.RequestOptions, body: Uint8Array | null): Promise<Exchange> {
  const before = counters();
  const seen: { socket: unknown; localPort: number | null } = { socket: null, localPort: null };
  const response = await new Promise<{ status: number; bytes: Buffer; digest: string }>((resolve, reject) => {
    const req = http.request({ ...options, method: body === null ? "GET" : "POST" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks), digest: String(res.headers["x-sha256"]) }),
      );
      res.on("error", reject);
    });
    req.on("socket", (s) => {
      seen.socket = s;
      s.once("connect", () => (seen.localPort = s instanceof FastOpenSocket ? (s.localPort ?? null) : null));
    });
    req.on("error", reject);
    req.end(body ?? undefined);
  });
  const sent = body ?? new Uint8Array(0);
  const used = seen.socket instanceof FastOpenSocket ? seen.socket : null;
  return {
    method: body === null ? "GET" : "POST",
    size: sent.byteLength,
    httpStatus: response.status,
    echoed: Buffer.from(sent).equals(response.bytes),
    serverDigestOk: response.digest === sha256(sent),
    bytesWritten: used?.bytesWritten ?? -1,
    client: used?.fastOpenStatus() ?? null,
    counters: delta(before),
    localPort: seen.localPort,
  };
}

/** The error a request ends with (or `{ resolved: true }` when it got a response). */
function requestFailure(options: http.RequestOptions): Promise<ErrorFields | { resolved: true }> {
  return new Promise((resolve) => {
    const req = http.request(options, (res) => {
      res.resume();
      resolve({ resolved: true });
    });
    req.on("error", (error) => resolve(errorFields(error)));
    req.end();
  });
}

/** The `'error'` a bare `createConnection` socket emits, and whether `'close'` followed with `hadError`. */
function socketFailure(
  options: CreateConnectionOptions,
  act?: (socket: FastOpenSocket) => void,
): Promise<{ error: ErrorFields | null; closed: boolean; hadError: boolean | null; connected: boolean }> {
  return new Promise((resolve) => {
    const socket = createConnection(options);
    let error: ErrorFields | null = null;
    let connected = false;
    socket.on("connect", () => (connected = true));
    socket.on("error", (e) => (error = errorFields(e)));
    socket.on("close", (hadError: boolean) => resolve({ error, closed: true, hadError, connected }));
    socket.write("hello");
    act?.(socket);
  });
}

/** What a child process (`child-client.ts`) printed, and whether it ended on its own. */
interface ChildOutcome {
  status: number | null;
  hung: boolean;
  stdout: string;
}

/** Runs `child-client.ts` with `args` while this process keeps serving; kills it after 8 s (a hang). */
async function child(args: string[]): Promise<ChildOutcome> {
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/child-client.ts`, ...args], {
    stdout: "pipe",
    stderr: "inherit",
  });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    proc.kill();
  }, 8_000);
  const status = await proc.exited;
  clearTimeout(timer);
  return { status: hung ? null : status, hung, stdout: (await new Response(proc.stdout).text()).trim() };
}

/** A PostgreSQL server that knows the start-up only: AuthenticationOk and ReadyForQuery, then closes on Terminate. */
function fakePostgres(): { port: number; stop: () => void } {
  const ready = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]);
  const server = Bun.listen<undefined>({
    hostname: "::1",
    port: 0,
    socket: {
      data(socket, data) {
        // The start-up message has no type byte: length, then protocol 3.0 (0x00030000).
        if (data.byteLength >= 8 && data.readUInt32BE(4) === 0x30000) socket.write(ready);
        else if (data[0] === 0x58) socket.end();
      },
    },
  });
  return { port: server.port, stop: () => server.stop(true) };
}

/** A port on `::1` with nothing listening. */
async function closedPort(): Promise<number> {
  const { server, port } = await echoServer("::1");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /**
   * Through `FastOpenAgent` (no keep-alive: one connection per request) to a
   * node:http echo server: two GETs (cookie, then the request in the SYN),
   * then POSTs of every body size.
   */
  async http([host = "::1"]) {
    const { server, port } = await echoServer(host);
    const agent = new FastOpenAgent();
    const options = { host, port, path: "/echo", agent };
    const gets = [await exchange(options, null), await exchange(options, null)];
    const posts: Exchange[] = [];
    for (const [i, size] of BODY_SIZES.entries()) posts.push(await exchange(options, pattern(size, i + 1)));
    agent.destroy();
    server.close();
    return { gets, posts };
  },

  /**
   * `http.request({ createConnection })`: two GETs. (Bun 1.4.5's node:http
   * ignores `createConnection` when `agent: false`, so no `agent` here.)
   */
  async requestOption() {
    const { server, port } = await echoServer("::1");
    const options = { host: "::1", port, path: "/", createConnection };
    const gets = [await exchange(options, null), await exchange(options, null)];
    server.close();
    return { gets };
  },

  /**
   * A keep-alive `FastOpenAgent`: one cookie-fetching connection, then three
   * requests on one connection whose first rode in the SYN.
   */
  async keepAlive() {
    const { server, port } = await echoServer("::1");
    const warm = await exchange({ host: "::1", port, path: "/", agent: new FastOpenAgent() }, null);
    const agent = new FastOpenAgent({ keepAlive: true });
    const before = counters();
    const requests: Exchange[] = [];
    for (let i = 0; i < 3; i++) requests.push(await exchange({ host: "::1", port, path: "/", agent }, pattern(100, i)));
    const total = delta(before);
    agent.destroy();
    server.close();
    return { warm, requests, total };
  },

  /**
   * Bare `createConnection` to a `listen()` server (TFO on its fd): a
   * payload written in the same turn rides in the SYN (the accepted socket's
   * TCP_INFO says so), later writes follow in order.
   */
  async bare() {
    const server = recordingServer();
    const outcomes = [];
    for (let i = 0; i < 2; i++) {
      const before = counters();
      const first = pattern(300, 10 + i);
      const second = pattern(5000, 20 + i);
      const socket = createConnection({ host: "::1", port: server.port });
      socket.resume();
      socket.write(first);
      const connected = new Promise<void>((resolve) => socket.once("connect", resolve));
      await connected;
      socket.write(second);
      socket.end();
      const received = await server.next();
      await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
      outcomes.push({
        delivered: sha256(received.bytes) === sha256(Buffer.concat([first, second])),
        receivedBytes: received.bytes.byteLength,
        client: socket.fastOpenStatus(),
        server: received.status,
        counters: delta(before),
        bytesWritten: socket.bytesWritten,
      });
    }
    server.stop();
    return { outcomes };
  },

  /** A server that speaks first: nothing is written, the socket still connects and reads the greeting (no hang). */
  async serverFirst() {
    const server = recordingServer({ greeting: "220 hello\r\n" });
    const greet = async (optimistic: boolean) => {
      const socket = createConnection({ host: "::1", port: server.port, optimistic });
      let connected = false;
      socket.on("connect", () => (connected = true));
      const greeting = await new Promise<string>((resolve) =>
        socket.once("data", (chunk: Buffer) => resolve(chunk.toString())),
      );
      socket.end();
      await server.next();
      return { connected, greeting, status: socket.fastOpenStatus() };
    };
    // The first asks for the cookie (lazy: nothing written), the second's SYN waits for a write, then leaves empty.
    const results = [await greet(true), await greet(true), await greet(false)];
    server.stop();
    return { results };
  },

  /** An idle socket emits 'timeout' (and stays open); net.Socket-like properties once connected. */
  async socketApi() {
    const server = recordingServer({ reply: "ok" });
    const socket = createConnection({ host: "::1", port: server.port, noDelay: true, keepAlive: true });
    const pendingBefore = socket.pending;
    const readyStateBefore = socket.readyState;
    const events: string[] = [];
    socket.on("connect", () => events.push("connect"));
    socket.on("ready", () => events.push("ready"));
    await new Promise<void>((resolve) => socket.once("ready", resolve));
    const properties = {
      remoteAddress: socket.remoteAddress ?? null,
      remotePort: socket.remotePort ?? null,
      remoteFamily: socket.remoteFamily ?? null,
      localAddress: socket.localAddress ?? null,
      localPortOk: typeof socket.localPort === "number" && socket.localPort > 0,
      address: socket.address(),
      pending: socket.pending,
      connecting: socket.connecting,
      readyState: socket.readyState,
    };
    const timedOut = await new Promise<boolean>((resolve) => socket.setTimeout(30, () => resolve(true)));
    const stillOpen = !socket.destroyed && socket.readyState === "open";
    socket.setTimeout(0);
    socket.write("ping");
    const reply = await new Promise<string>((resolve) =>
      socket.once("data", (chunk: Buffer) => resolve(chunk.toString())),
    );
    socket.end();
    await server.next();
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    server.stop();
    return {
      port: server.port,
      pendingBefore,
      readyStateBefore,
      events,
      properties,
      timedOut,
      stillOpen,
      reply,
      bytesRead: socket.bytesRead,
      readyStateAfter: socket.readyState,
    };
  },

  /** ECONNREFUSED through http and through a bare socket; bad options throw synchronously; fds unchanged. */
  async refused() {
    const port = await closedPort();
    const before = await settledFdCount();
    const viaAgent = await requestFailure({ host: "::1", port, path: "/", agent: new FastOpenAgent() });
    const viaOption = await requestFailure({ host: "::1", port, path: "/", createConnection });
    const bare = await socketFailure({ host: "::1", port });
    const v4 = await socketFailure({ host: "127.0.0.1", port });
    return { port, viaAgent, viaOption, bare, v4, fdsBefore: before, fdsAfter: await fdCountBackTo(before) };
  },

  /** A peer that drops SYNs: `connectTimeout` (agent, bare), `signal`, `destroy()` while connecting; fds unchanged. */
  async dropped() {
    const before = await settledFdCount();
    const timeoutAgent = new FastOpenAgent({ fastOpen: { connectTimeout: 150 } });
    const viaAgent = await requestFailure({ host: "127.0.0.1", port: NET_DROP_PORT, path: "/", agent: timeoutAgent });
    const timeout = await socketFailure({ host: "127.0.0.1", port: NET_DROP_PORT, connectTimeout: 150 });
    const controller = new AbortController();
    const abort = await socketFailure({ host: "127.0.0.1", port: NET_DROP_PORT, signal: controller.signal }, () =>
      setTimeout(() => controller.abort(), 100),
    );
    const destroyed = await socketFailure({ host: "127.0.0.1", port: NET_DROP_PORT }, (socket) =>
      setTimeout(() => socket.destroy(), 100),
    );
    return { viaAgent, timeout, abort, destroyed, fdsBefore: before, fdsAfter: await fdCountBackTo(before) };
  },

  /**
   * `new FastOpenSocket(options)`, `setNoDelay` and `cork` before
   * `connect(port, host)`, two writes, `uncork`: the second connection's SYN
   * carries both writes.
   */
  async constructThenConnect() {
    const server = recordingServer();
    const outcomes = [];
    for (let i = 0; i < 2; i++) {
      const socket = new FastOpenSocket({ connectTimeout: 5000, allowHalfOpen: true });
      socket.resume();
      const idle = { connecting: socket.connecting, pending: socket.pending };
      socket.setNoDelay(true).setKeepAlive(true, 1000);
      socket.cork();
      socket.connect(server.port, "::1");
      const opening = { connecting: socket.connecting, readyState: socket.readyState };
      socket.write(pattern(100, 30 + i));
      socket.write(pattern(200, 40 + i));
      socket.uncork();
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      socket.end();
      const received = await server.next();
      await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
      const sent = Buffer.concat([pattern(100, 30 + i), pattern(200, 40 + i)]);
      outcomes.push({
        idle,
        opening,
        delivered: Buffer.from(received.bytes).equals(sent),
        client: socket.fastOpenStatus(),
      });
    }
    server.stop();
    return { outcomes };
  },

  /** `'lookup'` for a host name (as node:net: error, address, family, host), none for an IP literal. */
  async lookup() {
    const server = recordingServer({ hostname: "127.0.0.1" });
    const seen: unknown[][] = [];
    const named = createConnection({ host: "localhost", port: server.port, family: 4 });
    named.on("lookup", (...args: unknown[]) => seen.push(args));
    await new Promise<void>((resolve) => named.once("connect", resolve));
    named.end();
    await server.next();
    const literal = createConnection({ host: "127.0.0.1", port: server.port });
    let literalLookups = 0;
    literal.on("lookup", () => literalLookups++);
    await new Promise<void>((resolve) => literal.once("connect", resolve));
    literal.end();
    await server.next();
    // node:net's `lookup` option: every address (`all: true`), or one address and its family.
    const custom: unknown[][] = [];
    const asked: unknown[] = [];
    const lookups: NonNullable<CreateConnectionOptions["lookup"]>[] = [
      (hostname, options, callback) => {
        asked.push({ hostname, ...options });
        (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
          { address: "127.0.0.1", family: 4 },
        ]);
      },
      (_hostname, _options, callback) => (callback as (e: null, a: string, f: number) => void)(null, "127.0.0.1", 4),
    ];
    for (const lookup of lookups) {
      const socket = createConnection({ host: "db.test", port: server.port, lookup });
      socket.on("lookup", (...args: unknown[]) => custom.push(args));
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      socket.end();
      await server.next();
    }
    // A failing lookup: 'lookup' with its error, then 'error' ENOTFOUND, as node:net.
    const failing = createConnection({
      host: "db.test",
      port: server.port,
      lookup: (_hostname, _options, callback) => callback(Object.assign(new Error("no"), { code: "ENOTFOUND" }), ""),
    });
    const failed: string[] = [];
    failing.on("lookup", (error: Error | null) => failed.push(`lookup ${error?.message ?? null}`));
    const error = await new Promise<ErrorFields>((resolve) => failing.once("error", (e) => resolve(errorFields(e))));
    server.stop();
    return { seen, literalLookups, remote: named.remoteAddress ?? null, custom, asked, failed, error };
  },

  /** `destroySoon()` after a write: everything delivered, then the socket closes without error. */
  async destroySoon() {
    const server = recordingServer();
    const socket = createConnection({ host: "::1", port: server.port });
    const closed = new Promise<boolean>((resolve) => socket.once("close", resolve));
    socket.write(pattern(5000, 7));
    socket.destroySoon();
    const received = await server.next();
    const hadError = await closed;
    server.stop();
    return { delivered: Buffer.from(received.bytes).equals(pattern(5000, 7)), hadError, destroyed: socket.destroyed };
  },

  /** Child processes whose connect never completes (SYNs dropped): `ref()`/`unref()` before and after `connect()`. */
  async connectingChildren() {
    const port = String(NET_DROP_PORT);
    const cases = ["connecting-ref", "connecting-unref", "connecting-unref-ref", "connecting-started-unref"];
    const outcomes: Record<string, ChildOutcome> = {};
    for (const where of cases) outcomes[where] = await child([where, port]);
    return outcomes;
  },

  /** Child processes: pg's `stream` option both ways, and `unref()` before the connection exists. */
  async children() {
    const postgres = fakePostgres();
    const pgFactory = await child(["pg-factory", String(postgres.port)]);
    const pgConnecting = await child(["pg-connecting", String(postgres.port)]);
    postgres.stop();
    const server = recordingServer();
    const ref = await child(["ref", String(server.port)]);
    const unref = await child(["unref", String(server.port)]);
    server.stop();
    return { pgFactory, pgConnecting, ref, unref };
  },

  /**
   * A listener that throws (the http response callback, 'connect', 'data',
   * 'end'), each in a child process: its exit status, whether it printed the
   * error, and whether it had to be killed (a hang).
   */
  async uncaught() {
    const outcomes: Record<string, { status: number | null; printed: boolean; hung: boolean; stdout: string }> = {};
    for (const where of ["response-plain-agent", "response", "connect", "data", "end", "handled"]) {
      const run = spawnSync(process.execPath, [`${import.meta.dir}/throwing-client.ts`, where], {
        encoding: "utf8",
        timeout: 8_000,
      });
      outcomes[where] = {
        status: run.status,
        printed: (run.stderr ?? "").includes(`error: thrown in ${where}`),
        hung: run.signal !== null,
        stdout: (run.stdout ?? "").trim(),
      };
    }
    return { outcomes };
  },

  /** 1000 sequential requests through `FastOpenAgent`: fds unchanged, every response right. */
  async many([countText = "1000"]) {
    const { server, port } = await echoServer("::1");
    const agent = new FastOpenAgent();
    await exchange({ host: "::1", port, path: "/", agent }, null);
    const before = await settledFdCount();
    const countersBefore = counters();
    const count = Number(countText);
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const e = await exchange({ host: "::1", port, path: "/", agent }, pattern(16, i));
      if (e.echoed && e.serverDigestOk && e.client?.acked === true) ok++;
    }
    const after = await fdCountBackTo(before);
    agent.destroy();
    server.close();
    return { count, ok, fdsBefore: before, fdsAfter: after, counters: delta(countersBefore) };
  },
};

await runCase(cases, assertPrivateNetns);
