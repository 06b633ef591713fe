/**
 * The client side of the latency benchmark, run in the client namespace:
 * each client makes a new connection, sends 64 bytes and waits for the
 * 64-byte answer; the time from the connect call to the first response byte
 * is one sample. Clients take turns (one connection at a time, the order
 * rotating every round) so that noise falls on all of them alike. The first
 * `warm` rounds are not recorded: they fetch the TFO cookie and warm the JIT.
 *
 *   bun bench/latency/client.ts '{"host":"fd00::2","ports":{...},"samples":50,"warm":3}'
 *
 * Prints one JSON `LatencyReport` line.
 */
import http from "node:http";
import net from "node:net";
import type { SocketHandler } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { fastOpenStatus } from "../../src/connect/status.ts";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { lastError } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { reply } from "../lib/proc.ts";
import { type ClientSamples, type LatencyReport, MESSAGE_BYTES, type ServerPorts } from "./protocol.ts";

interface Config {
  host: string;
  ports: ServerPorts;
  samples: number;
  warm: number;
}

/** One measured connection: ms to the first response byte, and whether TFO was proven on it. */
interface Sample {
  ms: number;
  tfo: boolean | null;
}

interface Client {
  name: string;
  limitRtts: number;
  baseline: string;
  once(): Promise<Sample>;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const REQUEST = new Uint8Array(MESSAGE_BYTES).fill(0x71);
const TLS = { rejectUnauthorized: false };
const PLAIN = "Bun.connect";
const SECURE = "Bun.connect TLS";
const SECURE_X25519 = "Bun.connect TLS x25519";

/** Resolves with the first-byte time; rejects on error or a close before any byte. */
function firstByte(watched: boolean): {
  handlers: SocketHandler<undefined>;
  at: Promise<number>;
  tfo: () => boolean | null;
} {
  const done = Promise.withResolvers<number>();
  let proven: boolean | null = null;
  const handlers: SocketHandler<undefined> = {
    data(socket) {
      if (watched) {
        const status = fastOpenStatus(socket);
        proven = status.sent && status.acked;
      }
      done.resolve(performance.now());
      socket.end();
    },
    error(_socket, error) {
      done.reject(error);
    },
    close() {
      done.reject(new Error("closed before the response"));
    },
  };
  return { handlers, at: done.promise, tfo: () => proven };
}

/** `connect()` with the request as payload: in the SYN once the cookie is known. */
async function connectTfo(): Promise<Sample> {
  const probe = firstByte(true);
  const t0 = performance.now();
  await connect({ hostname: config.host, port: config.ports.plain, payload: REQUEST, socket: probe.handlers });
  const t1 = await probe.at;
  return { ms: t1 - t0, tfo: probe.tfo() };
}

/** `connect()` with TLS: lazy TFO, the ClientHello rides in the SYN; the request is written in `open`. */
async function connectTls(tls: object): Promise<Sample> {
  const probe = firstByte(true);
  const handlers: SocketHandler<undefined> = { ...probe.handlers, open: (socket) => void socket.write(REQUEST) };
  const t0 = performance.now();
  await connect({ hostname: config.host, port: config.ports.tls, tls, socket: handlers });
  const t1 = await probe.at;
  return { ms: t1 - t0, tfo: probe.tfo() };
}

async function bunConnect(tls: object | null): Promise<Sample> {
  const probe = firstByte(false);
  const handlers: SocketHandler<undefined> = { ...probe.handlers, open: (socket) => void socket.write(REQUEST) };
  const t0 = performance.now();
  const port = tls !== null ? config.ports.tls : config.ports.plain;
  await Bun.connect(
    tls !== null
      ? { hostname: config.host, port, tls, socket: handlers }
      : { hostname: config.host, port, socket: handlers },
  );
  const t1 = await probe.at;
  return { ms: t1 - t0, tfo: null };
}

const serverIp = parseIp6(config.host).ip;
const buffer = new Uint8Array(MESSAGE_BYTES);

/** The libowfat-style layer on a blocking socket: socket, sendto(MSG_FASTOPEN), recv. */
function lowLevel(): Promise<Sample> {
  const t0 = performance.now();
  const fd = fo.socketTcp6b();
  if (fd < 0) throw new Error(`socketTcp6b failed: ${lastError()?.code}`);
  try {
    const sent = fo.socketFastopenConnect6(fd, serverIp, config.ports.plain, 0, REQUEST);
    if (sent !== MESSAGE_BYTES) throw new Error(`socketFastopenConnect6 gave ${sent}: ${lastError()?.code}`);
    if (fo.socketRecv(fd, buffer) <= 0) throw new Error(`socketRecv failed: ${lastError()?.code}`);
    const t1 = performance.now();
    const status = fo.socketFastopenStatus(fd);
    return Promise.resolve({ ms: t1 - t0, tfo: status?.sent === true && status.acked });
  } finally {
    fo.socketClose(fd);
  }
}

function nodeNet(): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ host: config.host, port: config.ports.plain });
    socket.once("connect", () => socket.write(REQUEST));
    socket.once("data", () => {
      resolve({ ms: performance.now() - t0, tfo: null });
      socket.end();
    });
    socket.once("error", reject);
  });
}

/** What a FastOpenSocket (src/node/socket.ts) reports about its connection. */
type StatusSource = { fastOpenStatus?: () => { sent: boolean; acked: boolean } | null };

function httpGet(agent: http.Agent, watched: boolean): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const request = http.get(
      { host: config.host, port: config.ports.http, path: "/", agent, headers: { connection: "close" } },
      (response) => {
        const ms = performance.now() - t0;
        const status = watched
          ? ((request.socket ?? response.socket) as unknown as StatusSource | null)?.fastOpenStatus?.()
          : undefined;
        const tfo = status === undefined ? null : status?.sent === true && status.acked;
        response.resume();
        response.once("end", () => resolve({ ms, tfo }));
        response.once("error", reject);
      },
    );
    request.once("error", reject);
  });
}

/** `createConnection` from the package's node:net layer. */
async function netModule(): Promise<{ createConnection: (...args: unknown[]) => net.Socket } | string> {
  const loaded = (await import("../../src/index.ts")) as Record<string, unknown>;
  if (typeof loaded.createConnection !== "function") return "fastopen has no createConnection";
  return loaded as { createConnection: (...args: unknown[]) => net.Socket };
}

/**
 * TLS limited to X25519: a ClientHello of ~240 bytes that fits in the SYN (Bun's default, with X25519MLKEM768, is
 * ~1470).
 */
const TLS_X25519 = { ...TLS, ecdhCurve: "X25519" };

async function clients(skipped: LatencyReport["skipped"]): Promise<Client[]> {
  const list: Client[] = [
    { name: "lowlevel TFO", limitRtts: 1, baseline: PLAIN, once: lowLevel },
    { name: "connect TFO", limitRtts: 1, baseline: PLAIN, once: connectTfo },
    { name: PLAIN, limitRtts: 2, baseline: PLAIN, once: () => bunConnect(null) },
    { name: "node:net", limitRtts: 2, baseline: PLAIN, once: nodeNet },
    {
      name: "http.Agent",
      limitRtts: 2,
      baseline: PLAIN,
      once: () => httpGet(new http.Agent({ keepAlive: false }), false),
    },
    { name: "connect lazy TLS", limitRtts: 2, baseline: SECURE, once: () => connectTls(TLS) },
    { name: SECURE, limitRtts: 3, baseline: SECURE, once: () => bunConnect(TLS) },
    { name: "connect lazy TLS x25519", limitRtts: 2, baseline: SECURE_X25519, once: () => connectTls(TLS_X25519) },
    { name: SECURE_X25519, limitRtts: 3, baseline: SECURE_X25519, once: () => bunConnect(TLS_X25519) },
  ];
  const module = await netModule();
  if (typeof module === "string") {
    skipped.push({ name: "http.Agent createConnection", why: module });
  } else {
    const agent = new http.Agent({ keepAlive: false });
    (agent as unknown as { createConnection: unknown }).createConnection = module.createConnection;
    list.push({ name: "http.Agent createConnection", limitRtts: 1, baseline: PLAIN, once: () => httpGet(agent, true) });
  }
  return list;
}

/** FASTOPEN_BENCH_CLIENTS="a,b": only these clients (for a closer look at one). */
function selected(list: Client[]): Client[] {
  const only = process.env.FASTOPEN_BENCH_CLIENTS;
  if (only === undefined || only === "") return list;
  const names = new Set(only.split(",").map((name) => name.trim()));
  return list.filter((client) => names.has(client.name));
}

async function main(): Promise<void> {
  const skipped: LatencyReport["skipped"] = [];
  const list = selected(await clients(skipped));
  const results: ClientSamples[] = list.map((c) => ({
    name: c.name,
    limitRtts: c.limitRtts,
    baseline: c.baseline,
    samples: [],
    tfoProven: null,
  }));
  for (let round = 0; round < config.warm + config.samples; round++) {
    for (let k = 0; k < list.length; k++) {
      const index = (k + round) % list.length;
      const sample = await list[index]!.once();
      if (round < config.warm) continue;
      const result = results[index]!;
      result.samples.push(sample.ms);
      if (sample.tfo !== null) result.tfoProven = (result.tfoProven ?? 0) + (sample.tfo ? 1 : 0);
      await Bun.sleep(1);
    }
  }
  reply({ clients: results, skipped } satisfies LatencyReport);
}

await main();
