/**
 * One client/server exchange over the low-level layer, both ends driven in
 * this thread by non-blocking polling: the client connects with its payload
 * in the SYN (`socketFastopenConnect6`), sends the rest, half-closes and reads
 * the reply; the server behaves as told (echoes a checksum, resets, closes,
 * half-closes). Everything it opens it closes, whatever happens.
 */

import { must } from "../../src/lowlevel/errors.ts";
import { counterDelta, type FastOpenCounters, fastOpenCounters } from "../../src/lowlevel/netstat.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import type { KernelFastOpenStatus } from "../../src/lowlevel/status.ts";
import { checksum, lastCode, pollMany, setLingerZero } from "../support/raw.ts";

/** How the server treats an accepted connection. */
export type ServerBehaviour =
  /** Read to end of stream, reply `"<length> <checksum>"`, close. */
  | "echo-sum"
  /** SO_LINGER 0 and close at once: a RST right after the SYN-data. */
  | "reset"
  /** close at once (a RST when the SYN data is still unread, else a FIN). */
  | "close"
  /** shutdown(SHUT_WR) at once, then read to end of stream and close. */
  | "half-close";

/** What one exchange saw on both ends. */
export interface Exchange {
  /** Bytes `socketFastopenConnect6` took with the SYN (0 when it said EINPROGRESS). */
  inSyn: number;
  /** lastError code of the connect call when it returned -1, else "". */
  connectCode: string;
  /** The first error the client saw after the connect call ("" when none). */
  clientError: string;
  /** Where the client saw it. */
  clientErrorAt: string;
  /** The client read end of stream (a clean 0). */
  clientEof: boolean;
  /** The text the client read back. */
  reply: string;
  /** Bytes the client managed to hand to the kernel. */
  clientSent: number;
  /** Bytes the server read, and their checksum. */
  serverLength: number;
  serverChecksum: string;
  /** The error the server saw reading ("" when none). */
  serverError: string;
  /** The payload's own length and checksum. */
  length: number;
  checksum: string;
  /** socketFastopenStatus of the client once the exchange ended, and of the accepted socket. */
  clientStatus: KernelFastOpenStatus | null;
  serverStatus: KernelFastOpenStatus | null;
  /** TcpExt TFO counters during the exchange. */
  counters: FastOpenCounters;
  elapsedMs: number;
  /** The exchange ran into its deadline (a hang). */
  timedOut: boolean;
}

/** Options of one exchange. */
export interface ExchangeOptions {
  ip: Uint8Array;
  port: number;
  listener: number;
  payload: Uint8Array;
  behaviour: ServerBehaviour;
  deadlineMs: number;
  /** Called on every turn of the polling loop (to change the network mid-exchange). */
  onTick?: () => void;
}

interface Side {
  fd: number;
  done: boolean;
}

/** Runs one exchange; never throws for network errors (they are reported), never leaves an fd open. */
export function exchange(options: ExchangeOptions): Exchange {
  const { payload } = options;
  const start = performance.now();
  const before = fastOpenCounters();
  const result: Exchange = {
    inSyn: 0,
    connectCode: "",
    clientError: "",
    clientErrorAt: "",
    clientEof: false,
    reply: "",
    clientSent: 0,
    serverLength: 0,
    serverChecksum: "",
    serverError: "",
    length: payload.byteLength,
    checksum: checksum(payload),
    clientStatus: null,
    serverStatus: null,
    counters: before,
    elapsedMs: 0,
    timedOut: false,
  };
  const client: Side = { fd: must(fo.socketTcp6(), "socket_tcp6"), done: false };
  const server: Side = { fd: -1, done: false };
  const received: Uint8Array[] = [];
  const replyChunks: Uint8Array[] = [];
  let phase: "connecting" | "sending" | "reading" = "connecting";
  let serverReadDone = false;
  const clientFail = (at: string): void => {
    result.clientError = lastCode();
    result.clientErrorAt = at;
    client.done = true;
  };
  try {
    const n = fo.socketFastopenConnect6(client.fd, options.ip, options.port, 0, payload);
    if (n >= 0) {
      result.inSyn = n;
      result.clientSent = n;
    } else {
      result.connectCode = lastCode();
      if (result.connectCode !== "EINPROGRESS") clientFail("connect");
    }
    const scratch = new Uint8Array(65536);
    while (!(client.done && server.done)) {
      if (performance.now() - start > options.deadlineMs) {
        result.timedOut = true;
        break;
      }
      options.onTick?.();
      const fds = [options.listener, client.done ? -1 : client.fd, server.fd < 0 || server.done ? -1 : server.fd];
      const clientEvents = phase === "reading" ? fo.POLLIN : fo.POLLOUT;
      const serverEvents = serverReadDone ? fo.POLLOUT : fo.POLLIN;
      const revents = pollMany(fds, [server.fd < 0 ? fo.POLLIN : 0, clientEvents, serverEvents], 50);
      if (server.fd < 0 && revents[0]! !== 0) {
        const accepted = fo.socketAccept6(options.listener);
        if (accepted >= 0) {
          server.fd = accepted;
          result.serverStatus = fo.socketFastopenStatus(accepted);
          serverReadDone = startServer(server, options.behaviour);
        }
      }
      if (!client.done && revents[1]! !== 0) {
        if (phase === "connecting") {
          if (fo.socketConnected(client.fd) === 1) phase = "sending";
          else if (lastCode() !== "EINPROGRESS") clientFail("connected");
        }
        if (phase === "sending") {
          while (result.clientSent < payload.byteLength) {
            const sent = fo.socketSend(client.fd, payload.subarray(result.clientSent));
            if (sent < 0) break;
            result.clientSent += sent;
          }
          if (result.clientSent === payload.byteLength) {
            if (fo.socketShutdownWrite(client.fd) < 0) clientFail("shutdown");
            else phase = "reading";
          } else if (lastCode() !== "EAGAIN") {
            clientFail("send");
          }
        } else if (phase === "reading") {
          const got = fo.socketRecv(client.fd, scratch);
          if (got > 0) replyChunks.push(scratch.slice(0, got));
          else if (got === 0) {
            result.clientEof = true;
            client.done = true;
          } else if (lastCode() !== "EAGAIN") clientFail("recv");
        }
      }
      if (server.fd >= 0 && !server.done && revents[2]! !== 0) {
        if (!serverReadDone) {
          const got = fo.socketRecv(server.fd, scratch);
          if (got > 0) received.push(scratch.slice(0, got));
          else if (got === 0) serverReadDone = true;
          else if (lastCode() !== "EAGAIN") {
            result.serverError = lastCode();
            serverReadDone = true;
          }
          if (serverReadDone) finishServer(server, options.behaviour, received);
        }
      }
    }
  } finally {
    result.clientStatus = fo.socketFastopenStatus(client.fd);
    fo.socketClose(client.fd);
    if (server.fd >= 0 && !server.done) fo.socketClose(server.fd);
  }
  const all = Buffer.concat(received);
  result.serverLength = all.byteLength;
  result.serverChecksum = checksum(all);
  result.reply = Buffer.concat(replyChunks).toString("utf8");
  result.counters = counterDelta(before, fastOpenCounters());
  result.elapsedMs = Math.round(performance.now() - start);
  return result;
}

/** Applies the behaviour that acts at accept time; true when the server will not read. */
function startServer(server: Side, behaviour: ServerBehaviour): boolean {
  if (behaviour === "reset") setLingerZero(server.fd);
  if (behaviour === "reset" || behaviour === "close") {
    fo.socketClose(server.fd);
    server.done = true;
    return true;
  }
  if (behaviour === "half-close") must(fo.socketShutdownWrite(server.fd), "shutdown");
  return false;
}

/** End of the client's stream: reply and close. */
function finishServer(server: Side, behaviour: ServerBehaviour, received: Uint8Array[]): void {
  if (behaviour === "echo-sum") {
    const all = Buffer.concat(received);
    const reply = new TextEncoder().encode(`${all.byteLength} ${checksum(all)}`);
    fo.socketSend(server.fd, reply);
  }
  fo.socketClose(server.fd);
  server.done = true;
}
