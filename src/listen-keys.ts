/**
 * The key parts of `listen()`: the `fastOpen` option's object form, a
 * listener's own TFO cookie keys (set once, or kept rotated on a schedule
 * derived from a fleet's shared secret), `setFastOpenKeys`, and the
 * server-side TcpExt counters since the listener started.
 */
import { readFileSync } from "node:fs";
import { deriveKeys, type FastOpenKey, parseInterval, parseSecret } from "./keys.ts";
import { errnoName, errnoNumber, systemError } from "./lowlevel/errors.ts";
import { describe, joinKeys, parseKey, parseKeyList } from "./lowlevel/key.ts";
import { parseNetstat } from "./lowlevel/netstat.ts";
import { DEFAULT_FASTOPEN_QUEUE } from "./lowlevel/socket.ts";
import * as check from "./lowlevel/validate.ts";
import { native } from "./native/library.ts";

/** Keys rotated in-process: every server with the same `secret` and `interval` uses the same keys (`fastOpenKeys`). */
export interface FastOpenKeySchedule {
  /** The fleet's shared secret (at least 16 bytes; a string counts as UTF-8). */
  secret: string | Uint8Array;
  /** Milliseconds between key changes (1000 .. 2^40): hours or days in production. */
  interval: number;
}

/** The object form of `listen()`'s `fastOpen` option. */
export interface FastOpenListenOptions {
  /** TFO queue length (pending SYN-data requests); 0 disables TFO. Default 256. */
  queue?: number;
  /** The listener's own cookie keys: `[primary, backup?]`, or a schedule that rotates them. */
  keys?: readonly FastOpenKey[] | FastOpenKeySchedule;
}

/** The namespace's server-side TFO counters (TcpExt) since a listener started. */
export interface FastOpenServerCounters {
  /** Connections whose SYN data was accepted (a valid cookie). */
  TCPFastOpenPassive: number;
  /** SYNs whose data was refused (a cookie from another key, ...): the data came again after the handshake. */
  TCPFastOpenPassiveFail: number;
  /** SYN data accepted with a cookie of the backup key (the reply carried a cookie of the primary). */
  TCPFastOpenPassiveAltKey: number;
  /** SYN data refused because the TFO queue was full. */
  TCPFastOpenListenOverflow: number;
  /** SYNs that asked for a cookie. */
  TCPFastOpenCookieReqd: number;
}

const SERVER_COUNTERS = [
  "TCPFastOpenPassive",
  "TCPFastOpenPassiveFail",
  "TCPFastOpenPassiveAltKey",
  "TCPFastOpenListenOverflow",
  "TCPFastOpenCookieReqd",
] as const;

/** What `listen()` does with its `fastOpen` option. */
export interface FastOpenPlan {
  queue: number;
  /** Fixed keys (16 or 32 bytes), a schedule, or null: the namespace's key. */
  keys: Uint8Array | { secret: Uint8Array; interval: number } | null;
}

/** Checks `fastOpen` (a queue length or `{ queue, keys }`) before anything is opened. */
export function fastOpenPlan(value: unknown): FastOpenPlan {
  if (value === undefined) return { queue: DEFAULT_FASTOPEN_QUEUE, keys: null };
  if (typeof value === "number") return { queue: check.integer("fastOpen", value, 0, 0x7fffffff), keys: null };
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TypeError(`fastOpen must be a queue length or { queue, keys }, got ${describe(value)}`);
  const { queue, keys } = value as FastOpenListenOptions;
  return {
    queue: queue === undefined ? DEFAULT_FASTOPEN_QUEUE : check.integer("fastOpen.queue", queue, 0, 0x7fffffff),
    keys: keys === undefined ? null : planKeys(keys),
  };
}

function planKeys(keys: unknown): FastOpenPlan["keys"] {
  if (Array.isArray(keys)) return parseKeyList("fastOpen.keys", keys);
  if (typeof keys !== "object" || keys === null)
    throw new TypeError(`fastOpen.keys must be [primary, backup?] or { secret, interval }, got ${describe(keys)}`);
  const { secret, interval } = keys as FastOpenKeySchedule;
  return {
    secret: parseSecret(secret, "fastOpen.keys.secret"),
    interval: parseInterval(interval, "fastOpen.keys.interval"),
  };
}

/** The listener a key belongs to, for errors. */
interface Where {
  /** The listener's fd now (-1 once it stopped: a stopped listener's number may belong to another socket). */
  fd(): number;
  hostname: string;
  port: number;
}

/** Sets `key` (16 or 32 bytes) on the listener; a SystemError (`syscall: "socket_fastopen_key"`) when refused. */
function applyKey(where: Where, key: Uint8Array): void {
  const fd = where.fd();
  const result = fd < 0 ? -errnoNumber("EBADF") : native().fo_socket_fastopen_key(fd, key, key.byteLength);
  if (result >= 0) return;
  const code = errnoName(-result);
  const platformLacksKeys = code === "EOPNOTSUPP" && process.platform !== "linux";
  const why = platformLacksKeys ? `${process.platform} has no per-listener TFO key (see support().keys)` : code;
  throw systemError(code, "socket_fastopen_key", {
    address: where.hostname,
    port: where.port,
    message: `listen: setting the TFO key of ${where.hostname}:${where.port} failed: ${why}`,
  });
}

/** The server counters now, or null where the platform has none (no /proc/net/netstat). */
function serverCountersNow(): FastOpenServerCounters | null {
  let tcpExt: Record<string, number> | undefined;
  try {
    tcpExt = parseNetstat(readFileSync("/proc/net/netstat", "utf8")).TcpExt;
  } catch {
    return null;
  }
  if (tcpExt === undefined) return null;
  const counters = {} as FastOpenServerCounters;
  for (const name of SERVER_COUNTERS) counters[name] = tcpExt[name] ?? 0;
  return counters;
}

/**
 * The longest wait between two looks at the clock: the timer is monotonic,
 * the schedule is wall-clock time, so a clock step (NTP, a resumed VM) is
 * caught within a minute.
 */
const MAX_WAIT_MS = 60_000;

/**
 * A listener's TFO keys: the fixed pair or the schedule it was started
 * with, `set` (setFastOpenKeys), the rotation timer, and the counters'
 * baseline. One per listener.
 */
export class ListenerKeys {
  readonly #where: Where;
  readonly #baseline: FastOpenServerCounters | null = serverCountersNow();
  #schedule: { secret: Uint8Array; interval: number } | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The schedule's last pair (hex), set or refused, so that a look at the clock without a change does nothing. */
  #last = "";

  constructor(where: Where, keys: FastOpenPlan["keys"]) {
    this.#where = where;
    if (keys instanceof Uint8Array) applyKey(where, keys);
    else if (keys !== null) {
      this.#schedule = keys;
      this.#rotate(true);
    }
  }

  /** Replaces the keys (and ends a schedule's rotation): `primary` issues cookies, `backup` is still accepted. */
  set(primary: unknown, backup?: unknown): void {
    const key = joinKeys(parseKey("primary", primary), backup === undefined ? undefined : parseKey("backup", backup));
    this.stop();
    applyKey(this.#where, key);
  }

  /** Ends the rotation (the listener stops). */
  stop(): void {
    this.#schedule = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Server counters since the listener started, or null without counters. */
  counters(): FastOpenServerCounters | null {
    const now = serverCountersNow();
    if (now === null || this.#baseline === null) return null;
    const delta = {} as FastOpenServerCounters;
    for (const name of SERVER_COUNTERS) delta[name] = now[name] - this.#baseline[name];
    return delta;
  }

  /** Sets the schedule's keys for now (when they changed) and arms the timer for the next change. */
  #rotate(first: boolean): void {
    const schedule = this.#schedule;
    if (schedule === null) return;
    const now = Date.now();
    const keys = deriveKeys(schedule.secret, schedule.interval, now);
    const pair = joinKeys(keys.primary, keys.backup);
    const hex = Buffer.from(pair).toString("hex");
    if (hex !== this.#last) {
      this.#last = hex;
      try {
        applyKey(this.#where, pair);
      } catch (error) {
        // First call: listen() reports it. Later (the timer): one warning, the old keys stay until the next change.
        if (first) throw error;
        process.emitWarning(error as Error);
      }
    }
    // A millisecond past the change, so that the next derivation lands in the new half period.
    const wait = Math.min(keys.changesAt - now + 1, MAX_WAIT_MS);
    this.#timer = setTimeout(() => this.#rotate(false), wait);
    this.#timer.unref();
  }
}
