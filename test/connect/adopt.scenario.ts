/**
 * connect() completing a connection from Bun's events (the fd is adopted by
 * Bun while still connecting): a handshake delayed by dropped SYNs, a
 * refused connect, data that arrives while the payload is still being
 * written, and a timeout or abort while writing. Each case prints
 * `{ case, ... }`; run in a private network namespace by the test.
 */

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import type { Socket, SocketHandler } from "bun";
import { type ConnectOptions, connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { parseNetstat } from "../../src/lowlevel/netstat.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { runCase } from "../support/scenario-main.ts";
import {
  assertPrivateNetns,
  fdCountBackTo,
  pattern,
  type RecordingServer,
  recordingServer,
  settledFdCount,
  sha256,
} from "./common.ts";

const HANDLERS = ["open", "close", "error", "data", "drain", "end", "timeout", "handshake", "connectError"] as const;

/** Handlers that record every call (by name) into `calls`, and collect received bytes. */
function recorder(calls: string[], received: Uint8Array[] = []): SocketHandler<undefined> {
  const handlers: Record<string, unknown> = {};
  for (const name of HANDLERS) {
    handlers[name] = (_socket: Socket<undefined>, arg: unknown) => {
      calls.push(name);
      if (name === "data") received.push(new Uint8Array(arg as Uint8Array));
    };
  }
  return handlers as SocketHandler<undefined>;
}

/** The namespace's TcpExt counter `name`. */
function tcpExt(name: string): number {
  return parseNetstat(readFileSync("/proc/net/netstat", "utf8")).TcpExt?.[name] ?? 0;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
}

/** What one connection of the delayed-handshake case saw. */
export interface DelayedOutcome {
  name: string;
  size: number;
  delivered: boolean;
  /** Handler calls, with "resolved" where the promise resolved. */
  calls: string[];
  /** The kernel said the handshake was done when `open` ran. */
  openAfterHandshake: boolean | null;
  client: FastOpenStatus;
}

/** Connects with `extra`, records the calls, writes `openWrite` in `open`, and checks what `server` received. */
async function delayedOne(
  name: string,
  server: RecordingServer,
  hostname: string,
  extra: Partial<ConnectOptions>,
  openWrite?: Uint8Array,
): Promise<DelayedOutcome> {
  const calls: string[] = [];
  const handlers = recorder(calls);
  let openAfterHandshake: boolean | null = null;
  handlers.open = (socket) => {
    calls.push("open");
    openAfterHandshake = fastOpenStatus(socket).kernel?.established ?? null;
    if (openWrite !== undefined) socket.write(openWrite);
  };
  const socket = await connect({ hostname, port: server.port, socket: handlers, ...extra });
  calls.push("resolved");
  const pending = server.next();
  socket.end();
  const received = await pending;
  const sent = openWrite ?? (extra.payload as Uint8Array);
  return {
    name,
    size: sent.byteLength,
    delivered: sha256(received.bytes) === sha256(sent),
    calls,
    openAfterHandshake,
    client: fastOpenStatus(socket),
  };
}

const cases: Record<string, () => Promise<object>> = {
  /**
   * Every SYN to loopback is dropped for 300 ms, so each connect's handshake
   * completes only on a SYN retransmission, long after Bun adopted the fd:
   * plain, payload with and without a cookie, fastOpen off, lazy.
   */
  async delayed() {
    const servers = Array.from({ length: 4 }, () => recordingServer());
    const noCookie = recordingServer({ hostname: "127.0.0.1" });
    // A cookie for ::1 (the first connect fetches it, the second uses it).
    for (let i = 0; i < 2; i++) {
      // Wait for the close too: the warm-up fds must be gone before the count below.
      const closed = Promise.withResolvers<void>();
      const socket = await connect({
        hostname: "::1",
        port: servers[0]!.port,
        payload: "warm",
        socket: { data() {}, close: () => closed.resolve() },
      });
      const pending = servers[0]!.next();
      socket.end();
      await pending;
      await closed.promise;
    }
    run("iptables", ["-L", "-n"]); // Bun opens its child-process fds at the first spawn: not in the count below.
    // The servers close their side of the warm-up connections a moment after
    // the client: count once the table has stopped moving.
    const before = await settledFdCount();
    const retransBefore = tcpExt("TCPSynRetrans");
    run("ip6tables", ["-A", "INPUT", "-p", "tcp", "--syn", "-j", "DROP"]);
    run("iptables", ["-A", "INPUT", "-p", "tcp", "--syn", "-j", "DROP"]);
    setTimeout(() => {
      run("ip6tables", ["-D", "INPUT", "-p", "tcp", "--syn", "-j", "DROP"]);
      run("iptables", ["-D", "INPUT", "-p", "tcp", "--syn", "-j", "DROP"]);
    }, 300);
    const big = (seed: number): Uint8Array => pattern(64 * 1024, seed);
    const outcomes = await Promise.all([
      delayedOne("plain", servers[0]!, "::1", {}, new TextEncoder().encode("written in open")),
      delayedOne("payloadCookie", servers[1]!, "::1", { payload: big(1) }),
      delayedOne("payloadNoCookie", noCookie, "127.0.0.1", { payload: big(2) }),
      delayedOne("noTfo", servers[2]!, "::1", { payload: big(3), fastOpen: false }),
      delayedOne("lazy", servers[3]!, "::1", { lazy: true }, new TextEncoder().encode("lazy first write")),
    ]);
    const synRetransmits = tcpExt("TCPSynRetrans") - retransBefore;
    // The servers' side of each connection closes a moment after the client's.
    const after = await fdCountBackTo(before);
    for (const server of [...servers, noCookie]) server.stop();
    return { outcomes, synRetransmits, fdsBefore: before, fdsAfter: after };
  },

  /** A refused connect in each mode: which of the user's handlers ran. */
  async refused() {
    const server = recordingServer();
    for (let i = 0; i < 2; i++) {
      const socket = await connect({ hostname: "::1", port: server.port, payload: "warm", socket: { data() {} } });
      const pending = server.next();
      socket.end();
      await pending;
    }
    const port = server.port;
    server.stop();
    // The server's side of the warm-ups and its listener close a moment later.
    const before = await settledFdCount();
    const modes: Record<string, Partial<ConnectOptions>> = {
      plain: {},
      payload: { payload: "hello" },
      noTfo: { payload: "hello", fastOpen: false },
      tls: { tls: { rejectUnauthorized: false } },
      lazy: { lazy: true },
    };
    const results: Record<string, { calls: string[]; code: string }> = {};
    for (const [mode, extra] of Object.entries(modes)) {
      const calls: string[] = [];
      let code = "resolved";
      try {
        const socket = await connect({ hostname: "::1", port, socket: recorder(calls), ...extra });
        socket.terminate();
      } catch (error) {
        code = (error as { code?: string }).code ?? "?";
      }
      results[mode] = { calls, code };
    }
    return { results, fdsBefore: before, fdsAfter: await fdCountBackTo(before) };
  },

  /**
   * The server greets at once but reads only after 300 ms, so the greeting
   * arrives while a 16 MiB payload is still being written: it must reach
   * the user after `open`, once, and the payload in full. Also a plain
   * connect to the greeting server, without payload.
   */
  async heldData() {
    const greeting = "220 ready\r\n";
    const received: Buffer[][] = [];
    const done: Array<PromiseWithResolvers<Buffer>> = [];
    const server = net.createServer((socket) => {
      const chunks: Buffer[] = [];
      const finished = Promise.withResolvers<Buffer>();
      received.push(chunks);
      done.push(finished);
      socket.pause();
      socket.write(greeting);
      setTimeout(() => {
        socket.on("data", (chunk: Buffer) => chunks.push(chunk));
        socket.resume();
      }, 300);
      socket.on("end", () => {
        finished.resolve(Buffer.concat(chunks));
        socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "::1", () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    const results: Array<{ calls: string[]; greeting: string; delivered: boolean }> = [];
    for (const payload of [pattern(16 << 20, 7), undefined]) {
      const calls: string[] = [];
      const chunks: Uint8Array[] = [];
      const socket = await connect({
        hostname: "::1",
        port,
        socket: recorder(calls, chunks),
        ...(payload === undefined ? {} : { payload }),
      });
      calls.push("resolved");
      for (let i = 0; i < 400 && !calls.includes("data"); i++) await Bun.sleep(5);
      socket.end();
      const got = await done[results.length]!.promise;
      results.push({
        calls: calls.filter((c) => c !== "drain"),
        greeting: Buffer.concat(chunks).toString(),
        delivered: sha256(got) === sha256(payload ?? new Uint8Array(0)),
      });
    }
    server.close();
    return { results };
  },

  /**
   * A server that never reads (a listener never accepting): the payload cannot all be written; timeout and abort stop
   * the connect.
   */
  async neverRead() {
    const listener = fo.socketTcp6();
    if (fo.socketBind6(listener, parseIp6("::1").ip, 0) < 0 || fo.socketListen(listener, 8) < 0)
      throw new Error("listener failed");
    const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
    fo.socketLocal6(listener, local);
    const port = local.port;
    const before = await settledFdCount();
    const results: Record<string, { calls: string[]; code: string; syscall: string; address: string; port: number }> =
      {};
    for (const how of ["timeout", "abort"]) {
      const calls: string[] = [];
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 200);
      const extra: Partial<ConnectOptions> =
        how === "timeout" ? { connectTimeout: 200 } : { signal: controller.signal };
      try {
        const socket = await connect({
          hostname: "::1",
          port,
          payload: new Uint8Array(64 << 20),
          socket: recorder(calls),
          ...extra,
        });
        socket.terminate();
        results[how] = { calls, code: "resolved", syscall: "", address: "", port: 0 };
      } catch (error) {
        const e = error as { code: string; syscall: string; address: string; port: number };
        results[how] = { calls, code: e.code, syscall: e.syscall, address: e.address, port: e.port };
      }
      clearTimeout(timer);
    }
    const after = await fdCountBackTo(before);
    fo.socketClose(listener);
    return { port, results, fdsBefore: before, fdsAfter: after };
  },
};

await runCase(cases, assertPrivateNetns);
