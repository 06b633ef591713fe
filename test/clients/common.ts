/**
 * The scenario side of the client tests: each client (ioredis, pg, undici,
 * ...) is described by a `ClientAdapter` (its server, how its documented
 * hook is given fastopen's socket, one real request, how it closes), and
 * `clientCases` runs the same checks for all of them in one private network
 * namespace: rounds of connect + request (the first fetches the TFO cookie,
 * later ones should carry the request in the SYN: TcpExt deltas, TCP_INFO of
 * every socket the hook made), a server restart, 50 connections and the fd
 * count, a refused port and a port whose SYNs are dropped.
 */
import { spawnSync } from "node:child_process";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { connectArguments } from "../../src/node/arguments.ts";
import { type CreateConnectionOptions, FastOpenSocket } from "../../src/node/socket.ts";
import { assertPrivateNetns, counters, delta, fdCountBackTo, settledFdCount } from "../connect/common.ts";
import { type ErrorFields, errorFields } from "../support/error-fields.ts";
import { runCase } from "../support/scenario-main.ts";
import type { TestServer } from "./servers.ts";

/** A port of 127.0.0.1 where nothing listens (the scenario's namespace is empty but for its servers). */
export const REFUSED_PORT = 7;

/** The client-side timeout (ms) the adapters give their client for the failure cases. */
export const CLIENT_TIMEOUT_MS = 1500;

/** The sockets fastopen made for a client's hook, in order (to read their TCP_INFO reports). */
export class SocketLog {
  readonly sockets: FastOpenSocket[] = [];
  /** Extra `connect()` options of every socket from now on (e.g. a `connectTimeout`). */
  extra: CreateConnectionOptions = {};
  /** The errors the client emitted (its `'error'` events), for the failure cases. */
  readonly clientErrors: unknown[] = [];
}

/** The log the `FastOpenSocket.connect` hook records into. */
let current: SocketLog | null = null;

/**
 * Records every `FastOpenSocket` that connects (whoever made it: the
 * recipes of test/clients/recipes, as docs/clients.md shows them, are used
 * unchanged) in the current log, with the log's extra options merged in.
 */
function hookConnect(): void {
  const connect = FastOpenSocket.prototype.connect as (...args: unknown[]) => FastOpenSocket;
  FastOpenSocket.prototype.connect = function (this: FastOpenSocket, ...args: unknown[]): FastOpenSocket {
    const log = current;
    if (log === null) return connect.apply(this, args);
    log.sockets.push(this);
    const { options, listener } = connectArguments(args[0], args[1], args[2]);
    return connect.call(this, { ...options, ...log.extra }, listener);
  } as typeof FastOpenSocket.prototype.connect;
}

/** How one client is driven by the scenarios. */
export interface ClientAdapter<Client> {
  /** The server this client talks to (its port is the one `open` gets). */
  server(): Promise<TestServer>;
  /** A client through its fastopen hook (a recipe) to 127.0.0.1:`port`; fails fast. */
  open(port: number, log: SocketLog): Client | Promise<Client>;
  /** One real request; resolves with the reply as text. */
  request(client: Client): Promise<string>;
  /** The reply `request` must give. */
  expected: string;
  /** Closes the client (and its connections). */
  close(client: Client): Promise<void>;
  /** After a server restart the same client can be used again (it reconnects). Default true. */
  reconnects?: boolean;
}

/** What one socket of a round reports. */
export interface SocketReport {
  status: FastOpenStatus | null;
  bytesWritten: number;
}

/** One round: a client opened, one request, the client closed. */
export interface Round {
  reply: string | null;
  error: ErrorFields | null;
  message: string | null;
  counters: FastOpenCounters;
  sockets: SocketReport[];
}

/** The report of the `all` case. */
export interface ClientReport {
  expected: string;
  rounds: Round[];
  restart: Restart;
  many: { count: number; ok: number; fdsBefore: number; fdsAfter: number; counters: FastOpenCounters };
  refused: Failure;
  dropped: Failure & { counters: FastOpenCounters };
}

/** A request before a server restart, and one after (retried while the client reconnects). */
export interface Restart {
  before: string | null;
  after: string | null;
  error: ErrorFields | null;
  counters: FastOpenCounters;
}

/** A request that should fail: the request's error, and the errors the client emitted meanwhile. */
export interface Failure {
  error: ErrorFields | null;
  message: string | null;
  /** `code message` of each error the client emitted (its `'error'` events). */
  emitted: string[];
  sockets: number;
}

function reportSockets(log: SocketLog, from: number): SocketReport[] {
  return log.sockets.slice(from).map((s) => ({ status: s.fastOpenStatus(), bytesWritten: s.bytesWritten }));
}

/** An error's fields, or a plain `{ message }` when the client rejected with something odd. */
function failure(error: unknown): { error: ErrorFields; message: string } {
  return { error: errorFields(error), message: error instanceof Error ? error.message : String(error) };
}

/** One round: open, request, close; with the counter deltas and the reports of the sockets made. */
async function round<C>(adapter: ClientAdapter<C>, port: number, log: SocketLog): Promise<Round> {
  const from = log.sockets.length;
  const before = counters();
  let reply: string | null = null;
  let error: ErrorFields | null = null;
  let message: string | null = null;
  try {
    const client = await adapter.open(port, log);
    try {
      reply = await adapter.request(client);
    } finally {
      await adapter.close(client);
    }
  } catch (e) {
    ({ error, message } = failure(e));
  }
  return { reply, error, message, counters: delta(before), sockets: reportSockets(log, from) };
}

/** The request's outcome, as a reply or an error. */
async function attempt<C>(adapter: ClientAdapter<C>, client: C): Promise<{ reply: string | null; error: unknown }> {
  try {
    return { reply: await adapter.request(client), error: null };
  } catch (error) {
    return { reply: null, error };
  }
}

/** A request that fails (nothing listens, or SYNs dropped): what the client reports, within its own timeout. */
async function failing<C>(adapter: ClientAdapter<C>, port: number, log: SocketLog): Promise<Failure> {
  const from = log.sockets.length;
  log.clientErrors.length = 0;
  let outcome: { reply: string | null; error: unknown };
  try {
    const client = await adapter.open(port, log);
    outcome = await attempt(adapter, client);
    await adapter.close(client);
  } catch (error) {
    outcome = { reply: null, error };
  }
  const { reply, error } = outcome;
  const sockets = log.sockets.length - from;
  const emitted = log.clientErrors.map((e) => `${(e as { code?: unknown }).code} ${(e as Error).message}`);
  if (reply !== null) return { error: null, message: `unexpected reply ${JSON.stringify(reply)}`, emitted, sockets };
  return { ...failure(error), emitted, sockets };
}

async function restartCase<C>(adapter: ClientAdapter<C>, server: TestServer, log: SocketLog): Promise<Restart> {
  let client: C;
  try {
    client = await adapter.open(server.port, log);
  } catch (error) {
    await server.restart();
    return { before: null, after: null, error: failure(error).error, counters: delta(counters()) };
  }
  const before = (await attempt(adapter, client)).reply;
  await server.restart();
  const countersBefore = counters();
  if (adapter.reconnects === false) {
    await adapter.close(client);
    client = await adapter.open(server.port, log);
  }
  // The first request after a restart may fail on the broken connection; the client then reconnects.
  let last = await attempt(adapter, client);
  for (let i = 0; i < 5 && last.reply === null; i++) {
    await Bun.sleep(100);
    last = await attempt(adapter, client);
  }
  await adapter.close(client);
  const error = last.error === null ? null : failure(last.error).error;
  return { before, after: last.reply, error, counters: delta(countersBefore) };
}

async function manyCase<C>(adapter: ClientAdapter<C>, port: number, log: SocketLog, count: number) {
  const fdsBefore = await settledFdCount();
  const before = counters();
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const r = await round(adapter, port, log);
    if (r.reply === adapter.expected) ok++;
  }
  log.sockets.length = 0; // Let the closed sockets go.
  return { count, ok, fdsBefore, fdsAfter: await fdCountBackTo(fdsBefore), counters: delta(before) };
}

function iptables(action: "-A" | "-D", port: number): void {
  const run = spawnSync("iptables", [action, "INPUT", "-p", "tcp", "--dport", String(port), "--syn", "-j", "DROP"]);
  if (run.status !== 0) throw new Error(`iptables ${action} failed: ${run.stderr}`);
}

/**
 * The scenario's one case, `all`: three rounds (cookie, then SYN data),
 * a restart, 50 rounds with the fd count, a refused port, then the
 * server's port with its SYNs dropped (after the cookie was fetched).
 */
export function clientCases<C>(adapter: ClientAdapter<C>): Record<string, () => Promise<object>> {
  return {
    async all(): Promise<ClientReport> {
      spawnSync("iptables", ["-L", "-n"]); // Bun opens its child-process fds at the first spawn: before any count.
      const server = await adapter.server();
      const log = new SocketLog();
      current = log;
      try {
        const step = (name: string): void => console.error(`client scenario: ${name}`);
        step("rounds");
        const rounds: Round[] = [];
        for (let i = 0; i < 3; i++) rounds.push(await round(adapter, server.port, log));
        step("restart");
        const restart = await restartCase(adapter, server, log).catch(
          (error: unknown): Restart => ({
            before: null,
            after: null,
            error: failure(error).error,
            counters: delta(counters()),
          }),
        );
        step("many");
        const many = await manyCase(adapter, server.port, log, 50);
        log.extra = { connectTimeout: CLIENT_TIMEOUT_MS };
        step("refused");
        const refused = await failing(adapter, REFUSED_PORT, log);
        const before = counters();
        step("dropped");
        iptables("-A", server.port);
        const dropped = { ...(await failing(adapter, server.port, log)), counters: delta(before) };
        iptables("-D", server.port);
        return { expected: adapter.expected, rounds, restart, many, refused, dropped };
      } finally {
        await server.dispose();
      }
    },
  };
}

/** Runs the client scenario named on the command line (`all`) in the private namespace. */
export function runClientScenario<C>(adapter: ClientAdapter<C>): Promise<void> {
  hookConnect();
  return runCase(clientCases(adapter), assertPrivateNetns);
}
