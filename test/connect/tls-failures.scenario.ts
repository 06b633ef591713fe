/**
 * TLS failures and Happy Eyeballs with TLS, in a private network namespace,
 * against `listen()` servers with a certificate the test made (paths in
 * argv): `bun tls-failures.scenario.ts <case> <cert> <key>`.
 */
import { readFileSync } from "node:fs";
import type { Socket, TLSOptions } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { EYEBALLS_PORT } from "../support/run.ts";
import { runCase } from "../support/scenario-main.ts";
import {
  assertPrivateNetns,
  counters,
  delta,
  dropIpv6Syns,
  dualStackLookup,
  fdCountBackTo,
  recordingServer,
  settledFdCount,
} from "./common.ts";

/** What a connect did: resolved (with its TLS state) or rejected (with the error's code and message). */
export interface TlsResult {
  resolved: boolean;
  code: string | null;
  message: string | null;
  authorized: boolean | null;
  authorizationError: string | null;
}

/** The handshake failure Bun.connect reports for the same options (its `handshake` handler), or null on success. */
export interface BunReference {
  success: boolean;
  code: string | null;
  message: string | null;
}

function errorFields(error: unknown): { code: string | null; message: string | null } {
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === "string" ? code : null, message: error instanceof Error ? error.message : null };
}

async function withFastopen(port: number, tls: TLSOptions): Promise<TlsResult> {
  try {
    const socket = await connect({ hostname: "127.0.0.1", port, tls, socket: { data() {} } });
    const result = {
      resolved: true,
      code: null,
      message: null,
      authorized: socket.authorized,
      authorizationError: errorFields(socket.getAuthorizationError()).code,
    };
    socket.terminate();
    return result;
  } catch (error) {
    return { resolved: false, ...errorFields(error), authorized: null, authorizationError: null };
  }
}

async function withBun(port: number, tls: TLSOptions): Promise<BunReference> {
  const done = Promise.withResolvers<BunReference>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    tls,
    socket: {
      data() {},
      handshake: (_s, success, error) => done.resolve({ success, ...errorFields(error) }),
      close: () => done.resolve({ success: false, code: "closed", message: null }),
    },
  });
  const reference = await done.promise;
  socket.terminate();
  return reference;
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /**
   * Self-signed without `ca`, a wrong serverName, a plain-text server (also
   * with rejectUnauthorized: false), and rejectUnauthorized: false to the
   * self-signed server; each twice (the second ClientHello rides in the SYN).
   */
  async failures([certPath = "", keyPath = ""]) {
    const cert = readFileSync(certPath, "utf8");
    const key = readFileSync(keyPath, "utf8");
    const tlsServer = recordingServer({ hostname: "127.0.0.1", tls: { cert, key } });
    const plain = recordingServer({ hostname: "127.0.0.1", reply: "HTTP/1.1 400 Bad Request\r\n\r\n" });
    const table: Array<[string, number, TLSOptions]> = [
      ["self-signed, no ca", tlsServer.port, { serverName: "localhost" }],
      ["wrong serverName", tlsServer.port, { ca: cert, serverName: "example.com" }],
      ["plain-text server", plain.port, { ca: cert, serverName: "localhost" }],
      ["plain-text server, rejectUnauthorized false", plain.port, { rejectUnauthorized: false }],
      ["self-signed, rejectUnauthorized false", tlsServer.port, { rejectUnauthorized: false }],
    ];
    const before = await settledFdCount();
    const results: Record<string, { fastopen: TlsResult[]; bun: BunReference }> = {};
    for (const [name, port, tls] of table) {
      const fastopen = [await withFastopen(port, tls), await withFastopen(port, tls)];
      results[name] = { fastopen, bun: await withBun(port, tls) };
    }
    const after = await fdCountBackTo(before);
    tlsServer.stop();
    plain.stop();
    return { results, fdsBefore: before, fdsAfter: after };
  },

  /**
   * Happy Eyeballs with TLS (issue 11.1): cookies for ::1 and 127.0.0.1
   * first, then ::1 drops SYNs (ip6tables) and a lookup gives [::1,
   * 127.0.0.1]: the race reaches 127.0.0.1 with the ClientHello in its SYN,
   * the handshake completes, one `open`, no fd left.
   */
  async eyeballs([certPath = "", keyPath = ""]) {
    const cert = readFileSync(certPath, "utf8");
    const key = readFileSync(keyPath, "utf8");
    const port = EYEBALLS_PORT;
    const tls = { ca: cert, serverName: "localhost" };
    const six = recordingServer({ hostname: "::1", port, tls: { cert, key } });
    await once("::1", port, tls, six);
    six.stop();
    const server = recordingServer({ hostname: "127.0.0.1", port, tls: { cert, key } });
    await once("127.0.0.1", port, tls, server);
    dropIpv6Syns(port);
    const lookup = dualStackLookup;
    const before = await settledFdCount();
    const counted = counters();
    let opens = 0;
    const socket = await connect({
      hostname: "dual.test",
      port,
      lookup,
      tls,
      connectTimeout: 20_000,
      socket: { open: () => void opens++, data() {} },
    });
    const remoteAddress = socket.remoteAddress;
    const authorized = socket.authorized;
    const client = fastOpenStatus(socket);
    const pending = server.next();
    socket.write("ping");
    socket.end();
    const received = new TextDecoder().decode((await pending).bytes);
    const after = await fdCountBackTo(before);
    server.stop();
    return {
      opens,
      remoteAddress,
      authorized,
      received,
      client,
      counters: delta(counted),
      fdsBefore: before,
      fdsAfter: after,
    };
  },
};

/** One verified TLS connect to `hostname` with a write, for the cookie. */
async function once(
  hostname: string,
  port: number,
  tls: TLSOptions,
  server: ReturnType<typeof recordingServer>,
): Promise<void> {
  const socket: Socket<undefined> = await connect({ hostname, port, tls, socket: { data() {} } });
  const pending = server.next();
  socket.write("warm");
  socket.end();
  await pending;
}

export type EyeballsReport = {
  opens: number;
  remoteAddress: string;
  authorized: boolean;
  received: string;
  client: FastOpenStatus;
  counters: FastOpenCounters;
  fdsBefore: number;
  fdsAfter: number;
};

await runCase(cases, assertPrivateNetns);
