/**
 * Soak: many TFO connections through the async `connect()` against a local TFO
 * server (`listen()`, in a child process), each with a random payload of
 * 0..64 KiB (after a 4-byte length) and a per-connection checksum answered by
 * the server. Checks that no byte is lost, doubled or reordered, and that this
 * process's fd count and RSS come back to their baseline.
 *
 *   bun test/soak/soak.ts            200000 connections, concurrency 256
 *   bun test/soak/soak.ts --quick    3000 connections, concurrency 256
 *   bun test/soak/soak.ts --connections N --concurrency N   (SOAK_SEED=n for another payload sequence)
 *
 * Needs root on Linux: it re-runs itself in a private network namespace
 * (`unshare -n`) with net.ipv4.tcp_fastopen=3; the host is never touched.
 * Prints progress on stderr and one JSON report as the last stdout line; exits
 * 1 when any check fails.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { rerunInNamespace } from "../../src/cli/netns.ts";
import { connect } from "../../src/connect/connect.ts";
import { counterDelta, fastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { fdCountBackTo, settledFdCount } from "../support/netns.ts";
import { checksum, fdTable, Rng } from "../support/raw.ts";

const INSIDE = "FASTOPEN_SOAK_NETNS";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} needs a positive integer`);
  return value;
}

const quick = process.argv.includes("--quick");
const total = option("connections", quick ? 3000 : 200_000);
const concurrency = option("concurrency", 256);
const warmup = Math.min(500, Math.max(1, Math.floor(total / 10)));
const HANG_MS = 30_000;

// Re-run in a fresh network namespace with TFO on for client and server.
const rerun = rerunInNamespace(INSIDE, import.meta.path, process.argv.slice(2), {
  sysctl: { tcp_fastopen: "3", ip_local_port_range: "1024 65535" },
});
if (rerun !== null) process.exit(rerun);

interface Failure {
  index: number;
  size: number;
  what: string;
}

function log(text: string): void {
  process.stderr.write(`soak: ${text}\n`);
}

const rssMiB = (): number => Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10;

async function settle(baseline?: number): Promise<number> {
  Bun.gc(true);
  await Bun.sleep(300);
  // Closes still in flight land first: a settled count, or back to the baseline's.
  const fds = baseline === undefined ? await settledFdCount() : await fdCountBackTo(baseline);
  Bun.gc(true);
  return fds;
}

/** Starts the server child; resolves with its port and a function that collects its report. */
async function startServer(): Promise<{ port: number; report: () => Promise<Record<string, number>> }> {
  const child = spawn(process.execPath, [join(import.meta.dir, "soak-server.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = (JSON.parse(String(first.value)) as { port: number }).port;
  const report = async (): Promise<Record<string, number>> => {
    child.stdin!.write("report\n");
    const line = await lines.next();
    return JSON.parse(String(line.value)) as Record<string, number>;
  };
  return { port, report };
}

const seed = Number(process.env.SOAK_SEED ?? 1) >>> 0;
const rng = new Rng(seed);
const POOL = 1 << 20;
const pool = rng.bytes(POOL);
const decoder = new TextDecoder();
const failures: Failure[] = [];
let failureCount = 0;
let bytes = 0;

function fail(index: number, size: number, what: string): void {
  failureCount++;
  if (failures.length < 20) failures.push({ index, size, what });
}

/**
 * One connection: the message rides out through connect()'s payload (its head in the SYN), the server's checksum
 * comes back.
 */
async function one(index: number, port: number): Promise<void> {
  const size = rng.int(65537);
  const offset = rng.int(POOL - size + 1);
  const body = pool.subarray(offset, offset + size);
  const message = new Uint8Array(4 + size);
  new DataView(message.buffer).setUint32(0, size);
  message.set(body, 4);
  const expected = `${size} ${checksum(body)}`;
  const { promise, resolve } = Promise.withResolvers<string>();
  let reply = "";
  let socketError = "";
  try {
    await connect({
      hostname: "::1",
      port,
      payload: message,
      socket: {
        data(_socket, chunk) {
          reply += decoder.decode(chunk);
        },
        error(_socket, error) {
          socketError = (error as { code?: string }).code ?? String(error);
        },
        close() {
          resolve(reply);
        },
      },
    });
  } catch (error) {
    fail(index, size, `connect: ${String(error)}`);
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<null>((r) => (timer = setTimeout(() => r(null), HANG_MS)));
  const got = await Promise.race([promise, hang]);
  clearTimeout(timer);
  if (got === null) fail(index, size, `no close within ${HANG_MS} ms (reply so far ${JSON.stringify(reply)})`);
  else if (got !== expected)
    fail(
      index,
      size,
      `reply ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}${socketError && ` (${socketError})`}`,
    );
  else bytes += size;
}

async function runConnections(count: number, port: number, progress: boolean): Promise<void> {
  let next = 0;
  let finished = 0;
  const step = Math.max(1, Math.floor(count / 10));
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await one(index, port);
      finished++;
      if (progress && finished % step === 0)
        log(`${finished}/${count} connections, rss ${rssMiB()} MiB, fds ${fdTable().size}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const server = await startServer();
log(
  `server on [::1]:${server.port}; ${total} connections at concurrency ${concurrency}` +
    ` (warm-up ${warmup}), seed ${seed}`,
);
await runConnections(warmup, server.port, false);
const baselineCount = await settle();
const baseline = { fds: fdTable().size, rssMiB: rssMiB() };
const countersBefore = fastOpenCounters();
bytes = 0;
const start = performance.now();
await runConnections(total, server.port, true);
const elapsedMs = performance.now() - start;
const counters = counterDelta(countersBefore, fastOpenCounters());
await settle(baselineCount);
const end = { fds: fdTable().size, rssMiB: rssMiB() };
const serverReport = await server.report();
const report = {
  quick,
  seed,
  connections: total,
  concurrency,
  elapsedMs: Math.round(elapsedMs),
  connectionsPerSecond: Math.round((total / elapsedMs) * 1000),
  payloadMiB: Math.round((bytes / 2 ** 20) * 10) / 10,
  failureCount,
  failures,
  baseline,
  end,
  counters,
  server: serverReport,
};
console.log(JSON.stringify(report));
const ok =
  failureCount === 0 &&
  end.fds === baseline.fds &&
  serverReport.protocolErrors === 0 &&
  serverReport.served === total + warmup;
process.exit(ok ? 0 : 1);
