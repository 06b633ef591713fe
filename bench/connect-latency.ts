/**
 * `connect()` against `Bun.connect` + write on loopback, side by side in one
 * run, inside a private network namespace with TFO on (the host's sysctls
 * are never touched):
 * - latency: time from the connect call to the first response byte (64 B
 *   request, 64 B response, a new connection each time), median and p99,
 *   the clients taking turns;
 * - rate: short connections (connect, request, response, close) per second
 *   at concurrency 1 and 64.
 * The TFO cookie is warm; the namespace's TcpExt counters prove how many of
 * `connect()`'s requests rode in the SYN.
 *
 *   bun bench/connect-latency.ts [--samples 2000] [--seconds 6] [--rounds 3] [--warm 3] [--json]
 *
 * `CONNECT_BASELINE=/path/to/src/connect/connect.ts` adds a second `connect()` (for
 * example an older checkout) as one more client in the same run.
 */
import type { Socket, SocketHandler } from "bun";
import { rerunInNamespace } from "../src/cli/netns.ts";
import { connect } from "../src/connect/connect.ts";
import { listen } from "../src/listen.ts";
import { counterDelta, fastOpenCounters } from "../src/lowlevel/netstat.ts";
import { flag } from "./lib/args.ts";

const MESSAGE_BYTES = 64;
const REQUEST = new Uint8Array(MESSAGE_BYTES).fill(0x71);
const RESPONSE = new Uint8Array(MESSAGE_BYTES).fill(0x72);
const HOST = "::1";
const INSIDE = "--inside-namespace";

type ConnectFn = typeof connect;

interface Client {
  name: string;
  /** Opens a connection, sends the request; resolves at the first response byte (ms since the call). */
  once(port: number): Promise<number>;
  /** Proves TFO from the counters (connect() clients). */
  tfo: boolean;
}

/** Re-runs this script in a fresh network namespace with TFO (client and server) on. */
function outer(): void {
  const sysctl = { tcp_fastopen: "3", tcp_tw_reuse: "1", ip_local_port_range: "1024 65535" };
  const args = [INSIDE, ...process.argv.slice(2)];
  process.exit(rerunInNamespace("FASTOPEN_BENCH_NETNS", import.meta.path, args, { sysctl }) ?? 1);
}

/** The 64 B echo server, in its own process (the second core): replies once 64 B arrived, then ends. */
function server(): void {
  const listener = listen<{ got: number }>({
    hostname: HOST,
    port: 0,
    fastOpen: 4096,
    socket: {
      open(socket) {
        socket.data = { got: 0 };
      },
      data(socket, data) {
        const before = socket.data.got;
        socket.data.got += data.byteLength;
        if (before < MESSAGE_BYTES && socket.data.got >= MESSAGE_BYTES) {
          socket.write(RESPONSE);
          socket.end();
        }
      },
    },
  });
  console.log(JSON.stringify({ port: listener.port }));
  // Ends with its parent (stdin closes).
  void (async () => {
    for await (const _ of Bun.stdin.stream()) {
      // Nothing is sent on stdin.
    }
    process.exit(0);
  })();
}

/** Handlers resolving at the first response byte; rejecting on error or an early close. */
function probe(): { handlers: SocketHandler<undefined>; first: Promise<number> } {
  const done = Promise.withResolvers<number>();
  const handlers: SocketHandler<undefined> = {
    data(socket: Socket<undefined>) {
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
  return { handlers, first: done.promise };
}

function fastOpenClient(name: string, fn: ConnectFn): Client {
  return {
    name,
    tfo: true,
    async once(port) {
      const { handlers, first } = probe();
      const t0 = performance.now();
      await fn({ hostname: HOST, port, payload: REQUEST, socket: handlers });
      return (await first) - t0;
    },
  };
}

const bunClient: Client = {
  name: "Bun.connect + write",
  tfo: false,
  async once(port) {
    const { handlers, first } = probe();
    const t0 = performance.now();
    await Bun.connect({ hostname: HOST, port, socket: { ...handlers, open: (socket) => void socket.write(REQUEST) } });
    return (await first) - t0;
  },
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

interface LatencyRow {
  median: number;
  p99: number;
  tfoShare: number | null;
}

/** `samples` connections per client, the clients taking turns (order rotating). */
async function latency(clients: Client[], port: number, samples: number): Promise<LatencyRow[]> {
  const times = clients.map(() => [] as number[]);
  const active = clients.map(() => 0);
  for (let i = 0; i < samples; i++) {
    for (let k = 0; k < clients.length; k++) {
      const c = (i + k) % clients.length;
      const before = fastOpenCounters();
      times[c]!.push(await clients[c]!.once(port));
      active[c]! += counterDelta(before, fastOpenCounters()).TCPFastOpenActive;
    }
  }
  return times.map((t, c) => {
    const sorted = t.sort((a, b) => a - b);
    return {
      median: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      tfoShare: clients[c]!.tfo ? active[c]! / samples : null,
    };
  });
}

interface RateRow {
  perSecond: number;
  errors: number;
  tfoShare: number | null;
}

/** Completed connections, errors and SYN-data connects of `concurrency` loops running for `seconds`. */
async function burst(
  client: Client,
  port: number,
  concurrency: number,
  seconds: number,
): Promise<{ done: number; errors: number; active: number; elapsed: number }> {
  const before = fastOpenCounters();
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      try {
        await client.once(port);
        done++;
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  return { done, errors, active: counterDelta(before, fastOpenCounters()).TCPFastOpenActive, elapsed };
}

/**
 * Connections per second of each client with `concurrency` loops: `rounds`
 * bursts of `seconds / rounds` each, the clients taking turns (order
 * rotating), so that noise from the machine falls on all of them alike.
 */
async function rates(
  clients: Client[],
  port: number,
  concurrency: number,
  seconds: number,
  rounds: number,
): Promise<RateRow[]> {
  const totals = clients.map(() => ({ done: 0, errors: 0, active: 0, elapsed: 0 }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < clients.length; k++) {
      const c = (r + k) % clients.length;
      const b = await burst(clients[c]!, port, concurrency, seconds / rounds);
      const t = totals[c]!;
      t.done += b.done;
      t.errors += b.errors;
      t.active += b.active;
      t.elapsed += b.elapsed;
    }
  }
  return totals.map((t, c) => ({
    perSecond: t.done / t.elapsed,
    errors: t.errors,
    tfoShare: clients[c]!.tfo ? t.active / Math.max(1, t.done) : null,
  }));
}

async function inside(): Promise<void> {
  const samples = flag("--samples", 2000);
  const seconds = flag("--seconds", 6);
  const rounds = flag("--rounds", 3);
  const warm = flag("--warm", 3);
  const child = Bun.spawn([process.execPath, import.meta.path, INSIDE, "--server"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  const line = new TextDecoder().decode((await reader.read()).value);
  const { port } = JSON.parse(line) as { port: number };
  const clients: Client[] = [fastOpenClient("connect()", connect), bunClient];
  const baseline = process.env.CONNECT_BASELINE;
  if (baseline !== undefined && baseline !== "") {
    const module = (await import(baseline)) as { connect: ConnectFn };
    clients.splice(1, 0, fastOpenClient("connect() baseline", module.connect));
  }
  // Warm-up: the TFO cookie, then the JIT (it keeps compiling for some 20k connections; steady state is measured).
  for (const c of clients) await c.once(port);
  for (const c of clients) await burst(c, port, 64, warm);
  const lat = await latency(clients, port, samples);
  const rateRows: Record<string, RateRow[]> = {};
  for (const concurrency of [1, 64]) rateRows[concurrency] = await rates(clients, port, concurrency, seconds, rounds);
  child.stdin.end();
  await child.exited;

  const bun = clients.length - 1;
  const pct = (x: number | null): string => (x === null ? "-" : `${Math.round(x * 100)}%`);
  const rows = clients.map((c, i) => ({
    client: c.name,
    "median ms": lat[i]!.median.toFixed(3),
    "p99 ms": lat[i]!.p99.toFixed(3),
    "median / Bun": (lat[i]!.median / lat[bun]!.median).toFixed(2),
    "conn/s c=1": Math.round(rateRows[1]![i]!.perSecond),
    "c=1 / Bun": (rateRows[1]![i]!.perSecond / rateRows[1]![bun]!.perSecond).toFixed(2),
    "conn/s c=64": Math.round(rateRows[64]![i]!.perSecond),
    "c=64 / Bun": (rateRows[64]![i]!.perSecond / rateRows[64]![bun]!.perSecond).toFixed(2),
    "in SYN (lat/c1/c64)": c.tfo
      ? `${pct(lat[i]!.tfoShare)}/${pct(rateRows[1]![i]!.tfoShare)}/${pct(rateRows[64]![i]!.tfoShare)}`
      : "-",
    errors: rateRows[1]![i]!.errors + rateRows[64]![i]!.errors,
  }));
  console.log(
    `loopback ::1, ${warm} s warm-up, ${samples} latency samples and ${seconds} s of rate runs ` +
      `(${rounds} rounds) per client, Bun ${Bun.version}`,
  );
  console.table(rows);
  if (process.argv.includes("--json"))
    console.log(JSON.stringify({ date: new Date().toISOString(), warm, samples, seconds, rounds, rows }));
}

if (!process.argv.includes(INSIDE)) outer();
else if (process.argv.includes("--server")) server();
else await inside();
