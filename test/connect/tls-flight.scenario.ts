/**
 * The ClientHello and the SYN, at loopback MTU 1500 (a SYN holds what it
 * would on Ethernet), over IPv6 or IPv4: for each TLS setting of the docs
 * (Bun's default, X25519 only, post-quantum only with TLS 1.3 as minimum),
 * the ClientHello's size as a plain server reads it, then connections to a
 * TFO `listen()` server with a cookie known: the client's report (its
 * `bytesInSyn`/`bytesAfterHandshake` split, read from TCP_INFO), the
 * server's report and the namespace's counters. Also the SYN's room (a
 * payload larger than any SYN, its `bytesInSyn`) and a post-quantum-only
 * client against a server without that group.
 * `bun tls-flight.scenario.ts flight <cert> <key> <4|6>`.
 */
import { readFileSync } from "node:fs";
import type { TLSOptions } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import { listen } from "../../src/listen.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, counters, delta, fdCount, fdCountBackTo, pingThenEnd, recordingServer } from "./common.ts";

/** The TLS settings of the docs' choice, as given to `connect({ tls })` (TLS1_3_VERSION is 0x0304). */
export const SETTINGS: Record<string, TLSOptions> = {
  default: {},
  x25519: { ecdhCurve: "X25519" } as TLSOptions,
  "pq-tls13": { ecdhCurve: "X25519MLKEM768", minVersion: 0x0304 } as unknown as TLSOptions,
};

/** One connection with a cookie known. */
export interface FlightConnection {
  reply: string;
  serverReceived: string;
  client: FastOpenStatus;
  server: FastOpenStatus | null;
  counters: FastOpenCounters;
}

/** One setting's outcome. */
export interface FlightSetting {
  setting: string;
  /** The ClientHello's size, as a plain TCP server read it (the TLS record: 5 B header and its length). */
  helloBytes: number;
  connections: FlightConnection[];
}

/** The scenario's report. */
export interface FlightReport {
  family: 4 | 6;
  /** `bytesInSyn` of a 4000 B payload with a cookie known: what one SYN carries here. */
  synRoom: number;
  settings: FlightSetting[];
  /** The post-quantum-only client against a server offering X25519 only. */
  mismatch: { resolved: boolean; code: string | null; message: string | null; fdsBefore: number; fdsAfter: number };
}

/** The ClientHello's size for `tls`: a plain server reads the first TLS record, then closes. */
async function helloSize(host: string, tls: TLSOptions): Promise<number> {
  const size = Promise.withResolvers<number>();
  let buffered = new Uint8Array(0);
  const server = Bun.listen({
    hostname: host,
    port: 0,
    socket: {
      data(socket, chunk) {
        buffered = new Uint8Array([...buffered, ...chunk]);
        if (buffered.byteLength < 5) return;
        const total = 5 + ((buffered[3]! << 8) | buffered[4]!);
        if (buffered.byteLength < total) return;
        size.resolve(total);
        socket.terminate();
      },
    },
  });
  const closed = Promise.withResolvers<void>();
  await Bun.connect({
    hostname: host,
    port: server.port,
    tls,
    socket: { data() {}, close: () => closed.resolve(), error() {}, handshake() {} },
  });
  const bytes = await size.promise;
  await closed.promise;
  server.stop(true);
  return bytes;
}

async function once(host: string, port: number, tls: TLSOptions, server: ReturnType<typeof recordingServer>) {
  const before = counters();
  const reply = Promise.withResolvers<string>();
  const socket = await connect({ hostname: host, port, tls, socket: { data: (_s, d) => reply.resolve(String(d)) } });
  const ping = await pingThenEnd(socket, reply.promise, server);
  return { ...ping, counters: delta(before) };
}

/** `bytesInSyn` of a payload larger than any SYN, to a plain TFO server (the cookie is per address). */
async function synRoom(host: string): Promise<number> {
  const plain = recordingServer({ hostname: host });
  const payload = new Uint8Array(4000).fill(0x61);
  let room = 0;
  for (let i = 0; i < 2; i++) {
    const socket = await connect({ hostname: host, port: plain.port, payload, socket: { data() {} } });
    room = fastOpenStatus(socket).bytesInSyn;
    const pending = plain.next();
    socket.end();
    await pending;
  }
  plain.stop();
  return room;
}

/** A post-quantum-only client against a TLS server whose only group is X25519. */
async function mismatch(host: string, cert: string, key: string): Promise<FlightReport["mismatch"]> {
  const server = listen({
    hostname: host,
    port: 0,
    tls: { cert, key, ecdhCurve: "X25519" } as TLSOptions,
    socket: { data() {} },
  });
  const fdsBefore = fdCount();
  let result: { resolved: boolean; code: string | null; message: string | null };
  try {
    const socket = await connect({
      hostname: host,
      port: server.port,
      tls: { ca: cert, serverName: "localhost", ...SETTINGS["pq-tls13"] },
      socket: { data() {} },
    });
    socket.terminate();
    result = { resolved: true, code: null, message: null };
  } catch (error) {
    const e = error as Error & { code?: string };
    result = { resolved: false, code: e.code ?? null, message: e.message };
  }
  const fdsAfter = await fdCountBackTo(fdsBefore);
  server.stop(true);
  return { ...result, fdsBefore, fdsAfter };
}

async function flight([certPath = "", keyPath = "", family = "6"]: string[]): Promise<FlightReport> {
  const cert = readFileSync(certPath, "utf8");
  const key = readFileSync(keyPath, "utf8");
  const host = family === "4" ? "127.0.0.1" : "::1";
  const server = recordingServer({ hostname: host, tls: { cert, key }, reply: "pong" });
  const base = { ca: cert, serverName: "localhost" };
  // The first connection to this address fetches the cookie; every later one has it.
  await once(host, server.port, base, server);
  const settings: FlightSetting[] = [];
  for (const [setting, options] of Object.entries(SETTINGS)) {
    const tls = { ...base, ...options };
    const helloBytes = await helloSize(host, tls);
    const connections = [await once(host, server.port, tls, server), await once(host, server.port, tls, server)];
    settings.push({ setting, helloBytes, connections });
  }
  server.stop();
  return {
    family: family === "4" ? 4 : 6,
    synRoom: await synRoom(host),
    settings,
    mismatch: await mismatch(host, cert, key),
  };
}

await runCase({ flight }, assertPrivateNetns);
