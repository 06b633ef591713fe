/**
 * TLS over TFO in a private network namespace: a local TLS 1.3 `listen()`
 * server with a certificate made by the test (paths in argv), and
 * `connect({ tls })` clients whose ClientHello rides in the SYN once a
 * cookie is known. Prints `{ case: "tls", connections: [...] }`.
 */
import { readFileSync } from "node:fs";
import type { Socket, SocketHandler } from "bun";
import { connect } from "../../src/connect/connect.ts";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { assertPrivateNetns, counters, delta, pingThenEnd, recordingServer, report } from "./common.ts";

/** One TLS connection's outcome. */
export interface TlsOutcome {
  withHandshakeHandler: boolean;
  reply: string;
  tlsVersion: string;
  authorized: boolean;
  serverReceived: string;
  client: FastOpenStatus;
  server: FastOpenStatus | null;
  counters: FastOpenCounters;
  ms: number;
}

assertPrivateNetns();
const [certPath = "", keyPath = ""] = process.argv.slice(2);
const cert = readFileSync(certPath, "utf8");
const key = readFileSync(keyPath, "utf8");
const server = recordingServer({ tls: { cert, key }, reply: "pong" });

async function once(withHandshakeHandler: boolean): Promise<TlsOutcome> {
  const before = counters();
  const reply = Promise.withResolvers<string>();
  const handshakes: boolean[] = [];
  const handlers: SocketHandler<undefined> = { data: (_s, d) => reply.resolve(String(d)) };
  if (withHandshakeHandler)
    handlers.handshake = (_s: Socket<undefined>, success: boolean) => void handshakes.push(success);
  const t0 = performance.now();
  const socket = await connect({
    hostname: "::1",
    port: server.port,
    tls: { ca: cert, serverName: "localhost" },
    socket: handlers,
  });
  const ms = performance.now() - t0;
  const tlsVersion = socket.getTLSVersion();
  const ping = await pingThenEnd(socket, reply.promise, server);
  return {
    withHandshakeHandler,
    ...ping,
    tlsVersion,
    authorized: socket.authorized && (!withHandshakeHandler || handshakes[0] === true),
    counters: delta(before),
    ms,
  };
}

/**
 * The certificate's identity is checked against `hostname` when no
 * serverName is given (as Bun.connect does): a mismatch rejects the connect
 * with the TLS error.
 */
async function identity(
  hostname: string,
): Promise<{ hostname: string; authorized: boolean; error: string | null; code: string | null }> {
  const any4 = recordingServer({ hostname: "0.0.0.0", tls: { cert, key } });
  try {
    const socket = await connect({ hostname, port: any4.port, tls: { ca: cert }, socket: { data() {} } });
    const result = {
      hostname,
      authorized: socket.authorized,
      error: socket.getAuthorizationError()?.message ?? null,
      code: null,
    };
    socket.terminate();
    return result;
  } catch (error) {
    const e = error as Error & { code?: string };
    return { hostname, authorized: false, error: e.message, code: e.code ?? null };
  } finally {
    any4.stop();
  }
}

const connections = [await once(false), await once(false), await once(true)];
server.stop();
const identities = [await identity("localhost"), await identity("127.0.0.1"), await identity("127.0.0.2")];
report({ case: "tls", connections, identities });
process.exit(0);
