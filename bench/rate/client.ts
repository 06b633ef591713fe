/**
 * Connection-rate client: one kind of client per process, driven over stdin
 * so that several short runs can be interleaved with the other kinds without
 * paying the start-up again. Each line `{"conc":64,"ms":5000,"warmMs":500}`
 * runs `conc` loops of (connect, 64-byte request, 64-byte response, close)
 * and answers `{"connections":..,"seconds":..,"rate":..,"made":..}`: the
 * connections completed inside the measured window, and all made (warm-up
 * included, for the TFO counters).
 *
 *   bun bench/rate/client.ts <connect|lowlevel|bun|net> <ip6> <port>
 */
import net from "node:net";
import { connect } from "../../src/connect/connect.ts";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { lastError } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { exchangeHandlers, REQUEST, type Waiter, waiter, writingHandlers } from "../lib/exchange.ts";
import { eachStdinLine, reply } from "../lib/proc.ts";

/** The client kinds this program can be. */
export const RATE_KINDS = ["connect", "lowlevel", "bun", "net"] as const;
type Kind = (typeof RATE_KINDS)[number];

function makeOnce(kind: Exclude<Kind, "lowlevel">, host: string, port: number): () => Promise<void> {
  if (kind === "connect") {
    return async () => {
      const { data, done } = waiter();
      await connect<Waiter>({ hostname: host, port, payload: REQUEST, socket: exchangeHandlers, data });
      await done;
    };
  }
  if (kind === "bun") {
    return async () => {
      const { data, done } = waiter();
      await Bun.connect<Waiter>({ hostname: host, port, socket: writingHandlers, data });
      await done;
    };
  }
  return () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => socket.write(REQUEST));
      socket.once("data", () => {
        resolve();
        socket.end();
      });
      socket.once("error", reject);
    });
}

interface Window {
  t0: number;
  end: number;
  counted: number;
  made: number;
}

function window(warmMs: number, ms: number): Window {
  const t0 = performance.now() + warmMs;
  return { t0, end: t0 + ms, counted: 0, made: 0 };
}

function done(w: Window): void {
  w.made++;
  const now = performance.now();
  if (now >= w.t0 && now <= w.end) w.counted++;
}

/** The libowfat-style layer, one blocking connection at a time (as the C client's loop). */
function lowLevelLoop(ip: Uint8Array, port: number, w: Window): void {
  const buffer = new Uint8Array(64);
  while (performance.now() < w.end) {
    const fd = fo.socketTcp6b();
    if (fd < 0) throw new Error(`socketTcp6b: ${lastError()?.code}`);
    const sent = fo.socketFastopenConnect6(fd, ip, port, 0, REQUEST);
    if (sent !== 64) throw new Error(`socketFastopenConnect6 gave ${sent}: ${lastError()?.code}`);
    let got = 0;
    while (got < 64) {
      const n = fo.socketRecv(fd, buffer);
      if (n <= 0) throw new Error(`socketRecv gave ${n}: ${lastError()?.code}`);
      got += n;
    }
    fo.socketClose(fd);
    done(w);
  }
}

async function run(kind: Kind, host: string, port: number, conc: number, warmMs: number, ms: number): Promise<object> {
  const w = window(warmMs, ms);
  if (kind === "lowlevel") {
    if (conc !== 1) throw new RangeError("the lowlevel client is a blocking loop: concurrency 1 only");
    lowLevelLoop(parseIp6(host).ip, port, w);
  } else {
    const once = makeOnce(kind, host, port);
    const worker = async (): Promise<void> => {
      while (performance.now() < w.end) {
        await once();
        done(w);
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
  }
  const seconds = ms / 1000;
  return { connections: w.counted, seconds, rate: w.counted / seconds, made: w.made };
}

const [kind, host, portText] = process.argv.slice(2);
if (!RATE_KINDS.includes(kind as Kind) || host === undefined) {
  throw new TypeError(`usage: client.ts <${RATE_KINDS.join("|")}> <ip6> <port>`);
}
const port = Number(portText);
// One connection first: fetches the TFO cookie and loads everything.
await run(kind as Kind, host, port, 1, 0, 1);
reply({ ready: true });
await eachStdinLine(async (line) => {
  const { conc, ms, warmMs } = JSON.parse(line) as { conc: number; ms: number; warmMs: number };
  reply(await run(kind as Kind, host, port, conc, warmMs, ms));
});
