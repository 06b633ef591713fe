/**
 * Per-listener TFO keys, in a private network namespace (run by
 * keys.test.ts): restarts with the same key and another, a rotation through
 * a backup key, a fleet of SO_REUSEPORT listeners on one port with keys
 * derived from one secret (the kernel's tcp_fastopen_backup_key.sh, in
 * Bun), and in-process rotation on a schedule. Each connection's outcome is
 * proven by both ends' TCP_INFO and the namespace's TcpExt counters.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import { fastOpenKeys } from "../../src/keys.ts";
import { type FastOpenListener, type ListenOptions, listen } from "../../src/listen.ts";
import type { FastOpenServerCounters } from "../../src/listen-keys.ts";
import { keyHex } from "../../src/lowlevel/key.ts";
import { counterDelta, type FastOpenCounters, fastOpenCounters, parseNetstat } from "../../src/lowlevel/netstat.ts";
import { socketFastopenKeyGet } from "../../src/lowlevel.ts";
import { assertPrivateNetns } from "../support/netns.ts";
import { runCase } from "../support/scenario-main.ts";

/** The address every listener and connection of the case uses: 127.0.0.1, or ::1 for `restart ::1`. */
let host = "127.0.0.1";
const K1 = "000102030405060708090a0b0c0d0e0f";
const K2 = "f0e0d0c0b0a090807060504030201000";
const K3 = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/** What one connection delivered and how, from both ends. */
export interface Exchange {
  /** The server received the request exactly once, byte for byte. */
  deliveredOnce: boolean;
  client: FastOpenStatus;
  server: FastOpenStatus | null;
  counters: FastOpenCounters;
  /** TcpExt TCPFastOpenPassiveAltKey delta: the SYN data was accepted with a cookie of the backup key. */
  altKey: number;
}

/** TcpExt TCPFastOpenPassiveAltKey now. */
function altKeyNow(): number {
  return parseNetstat(readFileSync("/proc/net/netstat", "utf8")).TcpExt?.TCPFastOpenPassiveAltKey ?? Number.NaN;
}

interface Conn {
  bytes: number[];
  status: FastOpenStatus | null;
}

/** Accepted connections in order, shared by every listener of a scenario (static handlers, state in socket.data). */
const accepted: Array<PromiseWithResolvers<Conn>> = [];
let taken = 0;

const handlers = {
  open(socket: Socket<Conn>) {
    socket.data = { bytes: [], status: null };
  },
  data(socket: Socket<Conn>, data: Buffer) {
    socket.data.status ??= fastOpenStatus(socket);
    socket.data.bytes.push(...data);
  },
  end(socket: Socket<Conn>) {
    socket.end();
    const done = Promise.withResolvers<Conn>();
    done.resolve(socket.data);
    accepted.push(done);
  },
};

function server(port: number, fastOpen: ListenOptions<Conn>["fastOpen"], reusePort = false): FastOpenListener<Conn> {
  return listen<Conn>({ hostname: host, port, fastOpen, socket: handlers, ...(reusePort ? { reusePort } : {}) });
}

/** One request with `payload` in the SYN where a cookie allows, then end; what both ends saw. */
async function exchange(port: number, text: string): Promise<Exchange> {
  const before = fastOpenCounters();
  const altBefore = altKeyNow();
  const payload = new TextEncoder().encode(text);
  const socket = await connect({ hostname: host, port, payload, socket: { data() {} } });
  socket.end();
  while (accepted.length <= taken) await Bun.sleep(1);
  const conn = await accepted[taken++]!.promise;
  const client = fastOpenStatus(socket);
  return {
    deliveredOnce: new TextDecoder().decode(new Uint8Array(conn.bytes)) === text,
    client,
    server: conn.status,
    counters: counterDelta(before, fastOpenCounters()),
    altKey: altKeyNow() - altBefore,
  };
}

/** The keys listener `l` uses, as hex (primary first). */
function keysOf(l: FastOpenListener<Conn>): string[] {
  const out = new Uint8Array(32);
  const n = socketFastopenKeyGet((l as unknown as { fd: number }).fd, out);
  return n <= 0 ? [] : [keyHex(out.subarray(0, 16)), ...(n === 32 ? [keyHex(out.subarray(16, 32))] : [])];
}

/** Server K1: cookie; restart with K1: rides; restart with K2: refused once, then rides again. */
async function restart(args: string[]): Promise<object> {
  host = args[0] ?? host;
  const first = server(0, { keys: [K1] });
  const port = first.port;
  const cookie = await exchange(port, "cookie request");
  const firstCounters = first.fastOpenCounters();
  first.stop(true);
  const same = server(port, { keys: [K1] });
  const sameKey = await exchange(port, "after a restart with the same key");
  const sameCounters = same.fastOpenCounters();
  same.stop(true);
  const other = server(port, { keys: [K2] });
  const otherKey = await exchange(port, "after a restart with another key");
  const again = await exchange(port, "the next one, with the new cookie");
  const otherCounters = other.fastOpenCounters();
  const keys = keysOf(other);
  other.stop(true);
  return { cookie, firstCounters, sameKey, sameCounters, otherKey, again, otherCounters, keys };
}

/** [K1] issues a cookie; [K2, K1] accepts it (backup) and issues a K2 cookie; [K2] alone accepts that; [K3] refuses. */
async function rotation(): Promise<object> {
  const l = server(0, { keys: [K1] });
  const steps: Record<string, Exchange | string[] | FastOpenServerCounters | null> = {};
  steps.cookie = await exchange(l.port, "cookie under K1");
  steps.k1 = await exchange(l.port, "rides under K1");
  l.setFastOpenKeys(K2, K1);
  steps.keysRotating = keysOf(l);
  steps.backup = await exchange(l.port, "K1 cookie, K2 primary");
  l.setFastOpenKeys(K2);
  steps.keysPromoted = keysOf(l);
  steps.k2 = await exchange(l.port, "the cookie the backup step issued, under K2");
  l.setFastOpenKeys(K3);
  steps.k3 = await exchange(l.port, "a K2 cookie at a K3 listener");
  steps.total = l.fastOpenCounters();
  l.stop(true);
  return steps;
}

/**
 * A fleet: `size` SO_REUSEPORT listeners on one port (interval 1 h),
 * listener i deriving its keys at `now + i * skew` from
 * `secrets[i % secrets.length]`; time moves by `step` ms per step for
 * `steps` steps, `perStep` requests each. A cookie is presented at most one
 * step after it was issued, so it rides when skew * (size - 1) + step is
 * under interval / 2.
 */
async function fleet(args: string[]): Promise<object> {
  const [size, steps, perStep, skew, step, ...secrets] = [
    Number(args[0]),
    Number(args[1]),
    Number(args[2]),
    Number(args[3]),
    Number(args[4]),
    ...args.slice(5),
  ];
  const interval = 3_600_000;
  const start = 1_700_000_000_000;
  const keysAt = (i: number, t: number) => fastOpenKeys(secrets[i % secrets.length]!, { interval, now: t + i * skew });
  const listeners: Array<FastOpenListener<Conn>> = [];
  for (let i = 0; i < size; i++) {
    const k = keysAt(i, start);
    listeners.push(server(listeners[0]?.port ?? 0, { keys: [k.primary, k.backup] }, true));
  }
  const port = listeners[0]!.port;
  const before = fastOpenCounters();
  await exchange(port, "cookie request");
  let delivered = 0;
  let rode = 0;
  let requests = 0;
  let altKey = 0;
  const epochs = new Set<number>();
  for (let n = 0; n < steps; n++) {
    const t = start + n * step;
    for (const [i, l] of listeners.entries()) {
      const k = keysAt(i, t);
      epochs.add(k.epoch);
      l.setFastOpenKeys(k.primary, k.backup);
    }
    for (let r = 0; r < perStep; r++) {
      const e = await exchange(port, `step ${n} request ${r}`);
      requests++;
      altKey += e.altKey;
      if (e.deliveredOnce) delivered++;
      if (e.client.acked && e.server?.acked === true) rode++;
    }
  }
  const counters = counterDelta(before, fastOpenCounters());
  for (const l of listeners) l.stop(true);
  return { requests, delivered, rode, altKey, counters, epochs: [...epochs] };
}

/**
 * listen() with { secret, interval }: keys equal fastOpenKeys() now and
 * after each change; once the period ends, the primary that issued a
 * client's cookie is the backup and still takes its SYN data.
 */
async function schedule(): Promise<object> {
  const secret = "a fleet secret of at least 16 bytes";
  const interval = 2000;
  const derived = (now: number) => {
    const k = fastOpenKeys(secret, { interval, now });
    return [keyHex(k.primary), keyHex(k.backup)];
  };
  // Start just after a period began, so that the cookie below is issued well before the primary changes.
  await Bun.sleep(interval - (Date.now() % interval) + 20);
  const t0 = Date.now();
  const l = server(0, { keys: { secret, interval } });
  const t1 = Date.now();
  const initial = keysOf(l);
  const initialMatches = [t0, t1].some((t) => derived(t).join() === initial.join());
  const cookie = await exchange(l.port, "cookie");
  // The primary in force before and after the exchange issued the cookie (a change in between: unknown).
  const issuedUnder = keysOf(l)[0] === initial[0] ? initial[0] : null;
  const deadline = Date.now() + 10_000;
  let changed = initial;
  while (changed.join() === initial.join() && Date.now() < deadline) {
    await Bun.sleep(20);
    changed = keysOf(l);
  }
  const t2 = Date.now();
  const changedMatches = [t2 - 20, t2].some((t) => derived(t).join() === changed.join());
  let promoted = changed;
  while (promoted[0] === issuedUnder && Date.now() < deadline) {
    await Bun.sleep(20);
    promoted = keysOf(l);
  }
  const afterPromotion = await exchange(l.port, "a cookie of the previous primary");
  l.stop(true);
  let stopped = "";
  try {
    l.setFastOpenKeys(K1);
  } catch (error) {
    stopped = `${(error as Error).name} ${(error as { code?: string }).code}`;
  }
  return {
    initialMatches,
    changed: changed.join() !== initial.join(),
    changedMatches,
    cookieKeyKnown: issuedUnder !== null,
    oldPrimaryIsBackup: issuedUnder !== null && promoted[0] !== issuedUnder && promoted[1] === issuedUnder,
    cookie,
    afterPromotion,
    stopped,
  };
}

/**
 * `fastopen key --secret-file --interval --sysctl` written to the namespace's
 * net.ipv4.tcp_fastopen_key: a listener without its own key issues a cookie
 * under it, and a listener with the same schedule in-process accepts it.
 */
async function sysctl(): Promise<object> {
  const secret = "a fleet secret of at least 16 bytes";
  const interval = 86_400_000;
  const file = join(mkdtempSync(join(tmpdir(), "fastopen-key-")), "secret");
  writeFileSync(file, `${secret}\n`);
  const cli = join(import.meta.dir, "../../src/cli/main.ts");
  const run = spawnSync(
    process.execPath,
    [cli, "key", "--secret-file", file, "--interval", String(interval), "--sysctl"],
    {
      encoding: "utf8",
    },
  );
  const printed = run.stdout.trim();
  writeFileSync("/proc/sys/net/ipv4/tcp_fastopen_key", printed);
  const namespaceKey = readFileSync("/proc/sys/net/ipv4/tcp_fastopen_key", "utf8").trim();
  const plain = server(0, 16);
  const port = plain.port;
  const plainKeys = keysOf(plain);
  const k = fastOpenKeys(secret, { interval });
  const cookie = await exchange(port, "cookie under the namespace key");
  plain.stop(true);
  const own = server(port, { keys: { secret, interval } });
  const ownKeys = keysOf(own);
  const accepted = await exchange(port, "accepted by the in-process schedule");
  own.stop(true);
  return {
    status: run.status,
    printed,
    namespaceKey,
    plainKeys,
    ownKeys,
    derived: [keyHex(k.primary), keyHex(k.backup)],
    cookie,
    accepted,
  };
}

await runCase({ restart, rotation, fleet, schedule, sysctl }, assertPrivateNetns);
