/**
 * Connection-rate client: one kind of client per process, driven over stdin
 * so that several short runs can be interleaved with the other kinds without
 * paying the start-up again. Each line `{"conc":64,"ms":5000,"warmMs":500}`
 * runs `conc` loops of (connect, 64-byte request, 64-byte response, close)
 * and answers `{"connections":..,"seconds":..,"rate":..,"made":..,"cpuUs":..}`:
 * the connections completed inside the measured window, all made (warm-up
 * included, for the TFO counters), and the process's CPU time (user and
 * system, all threads, getrusage) per connection made in the run.
 *
 *   bun bench/rate/client.ts <connect|bare|lowlevel|bun|net|createConnection> <ip6> <port>
 */
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { lastError } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { exchangeOnce, LOOP_KINDS } from "../lib/clients.ts";
import { REQUEST } from "../lib/exchange.ts";
import { eachStdinLine, reply } from "../lib/proc.ts";

/** The client kinds this program can be. */
export const RATE_KINDS = [...LOOP_KINDS, "lowlevel"] as const;
type Kind = (typeof RATE_KINDS)[number];

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
  const cpu0 = process.cpuUsage();
  if (kind === "lowlevel") {
    if (conc !== 1) throw new RangeError("the lowlevel client is a blocking loop: concurrency 1 only");
    lowLevelLoop(parseIp6(host).ip, port, w);
  } else {
    const once = exchangeOnce(kind, host, port);
    const worker = async (): Promise<void> => {
      while (performance.now() < w.end) {
        await once();
        done(w);
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = ms / 1000;
  const cpuUs = (cpu.user + cpu.system) / Math.max(1, w.made);
  return { connections: w.counted, seconds, rate: w.counted / seconds, made: w.made, cpuUs };
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
