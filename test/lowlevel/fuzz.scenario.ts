/**
 * The FFI-boundary fuzzer, run in a private network namespace (only its
 * loopback exists, so every address is either local or unreachable at once).
 *
 * Seeded and reproducible: `FUZZ_SEED` (default 1) fixes every argument drawn;
 * `FUZZ_CASES` (default 120000) synchronous calls over every export of
 * src/lowlevel.ts and src/address.ts, then `FUZZ_ASYNC_CASES` (default 1500)
 * calls of the async `connect()`/`listen()`. Each call must return a
 * documented result (a number >= -1, with a fresh `lastError()` when -1;
 * a status or null) or throw a TypeError/RangeError (async: reject with one,
 * or with a SystemError carrying a `code`). Receive buffers carry guard bytes
 * on both sides, checked after every call. The fds the library did not create
 * (a pipe, a file, UDP and Unix sockets) must stay open with the same target;
 * the fd table must come back to its baseline; TFO must never be turned off
 * (`fastopenRefused()`), as TFO is on in this namespace.
 * Prints one JSON report.
 */
import { closeSync, openSync } from "node:fs";
import { connect } from "../../src/connect/connect.ts";
import { listen } from "../../src/listen.ts";
import * as addr from "../../src/lowlevel/address.ts";
import { type ErrnoInfo, lastError, must } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import {
  fdDiff,
  fdTable,
  makePipe,
  Rng,
  rawClose,
  rawRead,
  rawSocket,
  rawWrite,
  settledFdTable,
  tfoListener,
} from "../support/raw.ts";
import * as gen from "./fuzz-values.ts";

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

const seed = envInt("FUZZ_SEED", 1) >>> 0;
const cases = envInt("FUZZ_CASES", 120_000);
const asyncCases = envInt("FUZZ_ASYNC_CASES", 1500);
const rng = new Rng(seed);

/** A short, safe description of any value (never calls user code). */
function show(value: unknown): string {
  if (value === null || value === undefined || typeof value === "boolean" || typeof value === "number")
    return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string")
    return JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}...(${value.length})` : value);
  if (typeof value === "symbol") return "Symbol";
  if (typeof value === "function") return "function";
  if (ArrayBuffer.isView(value)) {
    const name = Object.prototype.toString.call(value).slice(8, -1);
    return `${name}(len ${gen.realLength(value)})`;
  }
  return Object.prototype.toString.call(value);
}

// ---- fixtures -------------------------------------------------------------
const LOOPBACK6 = addr.parseIp6("::1").ip;
const listener6 = tfoListener(LOOPBACK6);
const listener4 = (() => {
  const fd = must(fo.socketTcp4(), "socket_tcp4");
  must(fo.socketBind4(fd, addr.parseIp4("127.0.0.1"), 0), "socket_bind4");
  must(fo.socketListen(fd, 511), "socket_listen");
  must(fo.socketFastopen(fd), "socket_fastopen");
  const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
  must(fo.socketLocal6(fd, local), "socket_local6");
  return { fd, port: local.port };
})();
const listeners = [listener6.fd, listener4.fd];
const ports = [listener6.port, listener4.port];
const [pipeRead, pipeWrite] = makePipe();
const file = openSync(import.meta.path, "r");
const foreign = [pipeRead, pipeWrite, file, rawSocket(10, 2), rawSocket(2, 2), rawSocket(1, 1)];
const baseline = settledFdTable();
const foreignTargets = foreign.map((fd) => baseline.get(fd));
const closedFd = Math.max(...baseline.keys()) + 5000;
const owned: number[] = [];

function adopt(fd: number): void {
  owned.push(fd);
  if (owned.length > 48) fo.socketClose(owned.shift()!);
}

/** An fd argument: mostly ours (made by the library), some foreign, closed or hostile. Never stdio. */
function fdArg(forClose = false): unknown {
  const roll = rng.int(20);
  if (roll < 8 || (forClose && roll < 14)) {
    if (owned.length === 0) adopt(must(fo.socketTcp6(), "socket_tcp6"));
    const index = rng.int(owned.length);
    const fd = owned[index]!;
    if (forClose) owned.splice(index, 1);
    return fd;
  }
  if (roll < 10) return forClose ? closedFd : rng.pick(listeners);
  if (roll < 13) return forClose ? 0x7fff_fff0 : rng.pick(foreign);
  if (roll < 15) return rng.pick([closedFd, 0x7fff_fff0]);
  return gen.hostileScalar(rng);
}

// ---- the calls --------------------------------------------------------------
type Call = () => unknown;
interface Case {
  name: string;
  args: unknown[];
  call: Call;
  guard?: gen.Guarded | null;
}

function lowLevelCase(): Case {
  const pickFd = (): unknown => fdArg();
  const name = rng.pick(LOW_LEVEL);
  const args: unknown[] = [];
  const a = (value: unknown): unknown => {
    args.push(value);
    return value;
  };
  switch (name) {
    case "socketTcp6":
    case "socketTcp6b":
    case "socketTcp4":
    case "socketTcp4b":
      return { name, args, call: () => (fo as unknown as Record<string, () => number>)[name]!() };
    case "socketBind6":
      return {
        name,
        args,
        call: () =>
          fo.socketBind6(
            a(pickFd()) as number,
            a(gen.ip6Arg(rng)) as Uint8Array,
            a(gen.portArg(rng, [0])) as number,
            a(gen.scopeArg(rng)) as number,
          ),
      };
    case "socketBind4":
      return {
        name,
        args,
        call: () =>
          fo.socketBind4(a(pickFd()) as number, a(gen.ip4Arg(rng)) as Uint8Array, a(gen.portArg(rng, [0])) as number),
      };
    case "socketConnect6":
      return {
        name,
        args,
        call: () =>
          fo.socketConnect6(
            a(pickFd()) as number,
            a(gen.ip6Arg(rng)) as Uint8Array,
            a(gen.portArg(rng, ports)) as number,
            a(gen.scopeArg(rng)) as number,
          ),
      };
    case "socketConnect4":
      return {
        name,
        args,
        call: () =>
          fo.socketConnect4(
            a(pickFd()) as number,
            a(gen.ip4Arg(rng)) as Uint8Array,
            a(gen.portArg(rng, ports)) as number,
          ),
      };
    case "socketFastopenConnect6": {
      const buf = gen.bufferArg(rng);
      return {
        name,
        args,
        call: () =>
          fo.socketFastopenConnect6(
            a(pickFd()) as number,
            a(gen.ip6Arg(rng)) as Uint8Array,
            a(gen.portArg(rng, ports)) as number,
            a(gen.scopeArg(rng)) as number,
            a(buf) as Uint8Array,
            a(gen.lengthArg(rng, gen.realLength(buf))) as number,
          ),
      };
    }
    case "socketFastopenConnect4": {
      const buf = gen.bufferArg(rng);
      return {
        name,
        args,
        call: () =>
          fo.socketFastopenConnect4(
            a(pickFd()) as number,
            a(gen.ip4Arg(rng)) as Uint8Array,
            a(gen.portArg(rng, ports)) as number,
            a(buf) as Uint8Array,
            a(gen.lengthArg(rng, gen.realLength(buf))) as number,
          ),
      };
    }
    case "socketFastopenLazy6":
      return {
        name,
        args,
        call: () =>
          fo.socketFastopenLazy6(
            a(pickFd()) as number,
            a(gen.ip6Arg(rng)) as Uint8Array,
            a(gen.portArg(rng, ports)) as number,
            a(gen.scopeArg(rng)) as number,
          ),
      };
    case "socketConnected":
      return { name, args, call: () => fo.socketConnected(a(pickFd()) as number) };
    case "socketFastopen":
      return { name, args, call: () => fo.socketFastopen(a(pickFd()) as number, a(gen.countArg(rng)) as number) };
    case "socketFastopenNoCookie":
      return { name, args, call: () => fo.socketFastopenNoCookie(a(pickFd()) as number) };
    case "socketListen":
      return { name, args, call: () => fo.socketListen(a(pickFd()) as number, a(gen.countArg(rng)) as number) };
    case "socketAccept6":
      return {
        name,
        args,
        call: () =>
          fo.socketAccept6(
            a(rng.chance(0.5) ? rng.pick(listeners) : pickFd()) as number,
            a(gen.outArg(rng)) as fo.Endpoint6,
          ),
      };
    case "socketLocal6":
      return { name, args, call: () => fo.socketLocal6(a(pickFd()) as number, a(gen.outArg(rng)) as fo.Endpoint6) };
    case "socketRemote6":
      return { name, args, call: () => fo.socketRemote6(a(pickFd()) as number, a(gen.outArg(rng)) as fo.Endpoint6) };
    case "socketSend": {
      const buf = gen.bufferArg(rng);
      return {
        name,
        args,
        call: () =>
          fo.socketSend(
            a(pickFd()) as number,
            a(buf) as Uint8Array,
            a(gen.lengthArg(rng, gen.realLength(buf))) as number,
          ),
      };
    }
    case "socketRecv": {
      const { value, guarded } = gen.receiveArg(rng);
      return {
        name,
        args,
        guard: guarded,
        call: () =>
          fo.socketRecv(
            a(pickFd()) as number,
            a(value) as Uint8Array,
            a(gen.lengthArg(rng, gen.realLength(value))) as number,
          ),
      };
    }
    case "socketPoll":
      return {
        name,
        args,
        call: () =>
          fo.socketPoll(a(pickFd()) as number, a(gen.eventsArg(rng)) as number, a(gen.timeoutArg(rng)) as number),
      };
    case "socketShutdownWrite":
      return { name, args, call: () => fo.socketShutdownWrite(a(pickFd()) as number) };
    case "socketClose":
      return { name, args, call: () => fo.socketClose(a(fdArg(true)) as number) };
    case "socketFastopenStatus":
      return { name, args, call: () => fo.socketFastopenStatus(a(pickFd()) as number) };
    case "fastopenRefused":
      return { name, args, call: () => fo.fastopenRefused() };
    case "fastopenRefusedFor":
      return { name, args, call: () => fo.fastopenRefusedFor() };
    default:
      return { name, args, call: () => fo.fastopenReset() };
  }
}

const LOW_LEVEL = [
  "socketTcp6",
  "socketTcp6b",
  "socketTcp4",
  "socketTcp4b",
  "socketBind6",
  "socketBind4",
  "socketConnect6",
  "socketConnect4",
  "socketFastopenConnect6",
  "socketFastopenConnect6",
  "socketFastopenConnect4",
  "socketFastopenLazy6",
  "socketConnected",
  "socketFastopen",
  "socketFastopenNoCookie",
  "socketListen",
  "socketAccept6",
  "socketAccept6",
  "socketLocal6",
  "socketRemote6",
  "socketSend",
  "socketSend",
  "socketRecv",
  "socketRecv",
  "socketPoll",
  "socketShutdownWrite",
  "socketClose",
  "socketFastopenStatus",
  "fastopenRefused",
  "fastopenRefusedFor",
  "fastopenReset",
] as const;

const ADDRESS_ALPHABET = [
  "0",
  "1",
  "9",
  "25",
  "255",
  "256",
  "ff",
  "FFFF",
  "ffff",
  "abcd",
  "g",
  ":",
  ":",
  "::",
  ".",
  ".",
  "%",
  "lo",
  "eth0",
  "[",
  "]",
  " ",
  "١",
  "0x1",
  "-",
  "12345",
];

function addressText(): string {
  if (rng.chance(0.2))
    return rng.pick([
      "::1",
      "127.0.0.1",
      "::ffff:1.2.3.4",
      "fe80::1%lo",
      "fe80::1%1",
      "1::",
      "::",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:9",
      "01.2.3.4",
      "[::1]",
      "fe80::1%",
      "::1%99999999999",
    ]);
  let text = "";
  const parts = rng.int(12);
  for (let i = 0; i < parts; i++) text += rng.pick(ADDRESS_ALPHABET);
  return text;
}

function addressCase(): Case {
  const input = rng.chance(0.85) ? addressText() : gen.hostileScalar(rng);
  const name = rng.pick([
    "parseIp4",
    "isIp4",
    "isIp6",
    "parseIp6",
    "parseIp6",
    "formatIp6",
    "v4Mapped",
    "isV4Mapped",
    "v4Unmapped",
    "formatIp4",
    "interfaceIndex",
  ] as const);
  const args = [input];
  const call = (): unknown => {
    switch (name) {
      case "parseIp4":
        return checkParse4(input);
      case "isIp4": {
        const result = addr.isIp4(input as string);
        if (result !== succeeds(() => addr.parseIp4(input as string))) throw new Error("isIp4 disagrees with parseIp4");
        return result;
      }
      case "isIp6": {
        const result = addr.isIp6(input as string);
        if (result !== succeeds(() => addr.parseIp6(input as string, { resolveScope: false })))
          throw new Error("isIp6 disagrees with parseIp6");
        return result;
      }
      case "parseIp6":
        return checkParse6(input);
      case "formatIp6": {
        const ip = gen.ip6Arg(rng);
        const scope = gen.scopeArg(rng);
        args.splice(0, 1, ip, scope);
        return addr.formatIp6(ip as Uint8Array, scope as number);
      }
      case "v4Mapped":
        return addr.v4Mapped(gen.ip4Arg(rng) as Uint8Array);
      case "isV4Mapped":
        return addr.isV4Mapped(gen.ip6Arg(rng) as Uint8Array);
      case "v4Unmapped":
        return addr.v4Unmapped(gen.ip6Arg(rng) as Uint8Array);
      case "formatIp4":
        return addr.formatIp4(gen.ip4Arg(rng) as Uint8Array);
      default:
        return addr.interfaceIndex(input as string);
    }
  };
  return { name, args, call };
}

function succeeds(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

/** parseIp4 round-trips through formatIp4 when it succeeds. */
function checkParse4(input: unknown): Uint8Array {
  const ip = addr.parseIp4(input as string);
  if (!(ip instanceof Uint8Array) || ip.byteLength !== 4) throw new Error("parseIp4 returned no 4 bytes");
  if (addr.formatIp4(ip) !== input) throw new Error(`parseIp4/formatIp4 round trip changed ${show(input)}`);
  return ip;
}

/** parseIp6 gives 16 bytes and a u32 scope, and its canonical text parses back to the same bytes. */
function checkParse6(input: unknown): addr.Ip6Address {
  const parsed = addr.parseIp6(input as string);
  if (!(parsed.ip instanceof Uint8Array) || parsed.ip.byteLength !== 16)
    throw new Error("parseIp6 returned no 16 bytes");
  if (!Number.isInteger(parsed.scopeId) || parsed.scopeId < 0 || parsed.scopeId > 0xffffffff)
    throw new Error("parseIp6 scope out of range");
  const again = addr.parseIp6(addr.formatIp6(parsed.ip));
  if (!Buffer.from(again.ip).equals(Buffer.from(parsed.ip)))
    throw new Error(`parseIp6/formatIp6 round trip changed ${show(input)}`);
  return parsed;
}

// ---- checking outcomes --------------------------------------------------------
const outcomes: Record<string, Record<string, number>> = {};
const violations: string[] = [];
let violationCount = 0;
const asyncViolations: string[] = [];
let asyncViolationCount = 0;
let refusedAt = -1;

function count(name: string, outcome: string): void {
  const table = (outcomes[name] ??= {});
  table[outcome] = (table[outcome] ?? 0) + 1;
}

function violation(index: number, c: Case, what: string): void {
  violationCount++;
  if (violations.length < 20) violations.push(`case ${index} ${c.name}(${c.args.map(show).join(", ")}): ${what}`);
}

function isStatus(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    ["known", "sent", "acked", "established"].every((k) => typeof s[k] === "boolean") &&
    typeof s.reason === "string" &&
    Number.isInteger(s.state)
  );
}

/** Checks one low-level result against the contract; returns the outcome label. */
function judgeLowLevel(c: Case, result: unknown, before: ErrnoInfo | null): string | null {
  const fresh =
    lastError() !== before && lastError() !== null && /^E[A-Z0-9]+$/.test(lastError()!.code) && lastError()!.errno > 0;
  switch (c.name) {
    case "fastopenRefused":
      return typeof result === "boolean" ? "ok" : null;
    case "fastopenRefusedFor":
      return Number.isInteger(result) && (result as number) >= 0 && (result as number) <= fo.FASTOPEN_REFUSAL_MS
        ? "ok"
        : null;
    case "fastopenReset":
      return result === undefined ? "ok" : null;
    case "socketFastopenStatus":
      if (result === null) return fresh ? lastError()!.code : null;
      return isStatus(result) ? "ok" : null;
    case "socketConnected":
      if (result === 1) return "ok";
      return result === 0 && fresh ? lastError()!.code : null;
    default:
      if (typeof result !== "number" || !Number.isInteger(result) || result < -1) return null;
      if (result === -1) return fresh ? lastError()!.code : null;
      return "ok";
  }
}

function runSync(): void {
  for (let i = 0; i < cases; i++) {
    const lowLevel = rng.chance(0.85);
    const c = lowLevel ? lowLevelCase() : addressCase();
    const before = lastError();
    let result: unknown;
    let outcome: string | null;
    try {
      result = c.call();
      outcome = lowLevel ? judgeLowLevel(c, result, before) : "ok";
      if (outcome === null)
        violation(i, c, `undocumented result ${show(result)} (lastError ${JSON.stringify(lastError())})`);
    } catch (error) {
      outcome = error instanceof TypeError ? "TypeError" : error instanceof RangeError ? "RangeError" : null;
      if (outcome === null) violation(i, c, `threw ${String(error)}`);
    }
    if (outcome !== null) count(c.name, outcome);
    if (c.guard != null && !c.guard.check()) violation(i, c, "wrote outside the receive view (guard bytes changed)");
    if (lowLevel && typeof result === "number" && result >= 0) {
      if (c.name === "socketTcp6b" || c.name === "socketTcp4b") fo.socketClose(result);
      else if (c.name.startsWith("socketTcp") || c.name === "socketAccept6") adopt(result);
    }
    if (refusedAt < 0 && fo.fastopenRefused()) {
      refusedAt = i;
      violation(i, c, "TFO is now refused for the whole process");
    }
    if (i % 1000 === 999) drainListeners();
    if (i % 20000 === 19999) checkForeign(i);
  }
}

/** Accepts and closes whatever waits on the fixture listeners. */
function drainListeners(): void {
  for (const fd of listeners) {
    for (;;) {
      const client = fo.socketAccept6(fd);
      if (client < 0) break;
      fo.socketClose(client);
    }
  }
}

let foreignIntact = true;
function checkForeign(index: number): void {
  const table = fdTable();
  foreign.forEach((fd, i) => {
    if (table.get(fd) !== foreignTargets[i]) {
      foreignIntact = false;
      violations.push(
        `after case ${index}: foreign fd ${fd} (${foreignTargets[i]}) is now ${table.get(fd) ?? "closed"}`,
      );
    }
  });
}

// ---- async layer ---------------------------------------------------------------
const asyncOutcomes: Record<string, Record<string, number>> = {};
function countAsync(name: string, outcome: string): void {
  const table = (asyncOutcomes[name] ??= {});
  table[outcome] = (table[outcome] ?? 0) + 1;
}

function errorOutcome(error: unknown): string | null {
  if (error instanceof TypeError) return "TypeError";
  if (error instanceof RangeError) return "RangeError";
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" ? code : null;
}

const LOOKUPS = [
  async () => [{ address: "::1", family: 6 }],
  async () => [
    { address: "127.0.0.1", family: 4 },
    { address: "::1", family: 6 },
  ],
  async () => [],
  async () => {
    throw new Error("dns down");
  },
  async () => [{ address: "not-an-ip", family: 4 }],
  async () => [
    { address: "2001:db8::1", family: 6 },
    { address: "::1", family: 6 },
  ],
];

function connectOptions(port: number): unknown {
  if (rng.chance(0.04)) return gen.hostileScalar(rng);
  const o: Record<string, unknown> = {
    hostname: rng.chance(0.85)
      ? rng.pick([
          "::1",
          "::1",
          "127.0.0.1",
          "::ffff:127.0.0.1",
          "2001:db8::1",
          "192.0.2.1",
          "fe80::1%lo",
          "fe80::1%nope",
          "name.invalid",
          "[::1]",
          "",
        ])
      : gen.hostileScalar(rng),
    port: rng.chance(0.8) ? rng.pick([port, port, port, 1, 65535]) : gen.hostileScalar(rng),
    socket: rng.chance(0.9)
      ? { data() {}, open() {}, close() {}, error() {} }
      : rng.pick([null, {}, { open() {} }, { data: 1 }, gen.hostileScalar(rng)]),
  };
  if (o.hostname === "name.invalid" || rng.chance(0.1))
    o.lookup = rng.chance(0.9) ? rng.pick(LOOKUPS) : gen.hostileScalar(rng);
  if (rng.chance(0.4)) o.payload = gen.bufferArg(rng);
  if (rng.chance(0.2)) o.fastOpen = rng.chance(0.8) ? rng.chance(0.5) : gen.hostileScalar(rng);
  if (rng.chance(0.2)) o.lazy = rng.chance(0.8) ? rng.chance(0.5) : gen.hostileScalar(rng);
  if (rng.chance(0.2)) o.timeout = rng.chance(0.7) ? rng.pick([0, 1, 20, 500]) : gen.hostileScalar(rng);
  if (rng.chance(0.1))
    o.signal = rng.pick([
      AbortSignal.abort(),
      AbortSignal.timeout(1),
      new AbortController().signal,
      { aborted: false },
      gen.hostileScalar(rng),
    ]);
  if (rng.chance(0.1)) o.attemptDelay = rng.chance(0.6) ? rng.pick([0, 10, 250]) : gen.hostileScalar(rng);
  if (rng.chance(0.05)) o.allowHalfOpen = rng.chance(0.5) ? true : gen.hostileScalar(rng);
  if (rng.chance(0.03)) o.tls = rng.pick([5, "yes", null, []]);
  return o;
}

function listenOptions(): unknown {
  if (rng.chance(0.05)) return gen.hostileScalar(rng);
  const o: Record<string, unknown> = {
    hostname: rng.chance(0.85) ? rng.pick(["::1", "127.0.0.1"]) : gen.hostileScalar(rng),
    port: rng.chance(0.85) ? 0 : gen.hostileScalar(rng),
    socket: rng.chance(0.9) ? { data() {} } : rng.pick([null, {}, gen.hostileScalar(rng)]),
  };
  if (rng.chance(0.5)) o.fastOpen = rng.chance(0.6) ? rng.pick([0, 1, 256, 0x7fffffff]) : gen.hostileScalar(rng);
  return o;
}

const HANG_MS = 10_000;

function showOptions(options: unknown): string {
  if (typeof options !== "object" || options === null) return show(options);
  const o = options as Record<string, unknown>;
  return `{ ${Object.keys(o)
    .map((k) => `${k}: ${show(o[k])}`)
    .join(", ")} }`;
}

async function settle(promise: Promise<unknown>): Promise<{ value?: unknown; error?: unknown; hung?: true }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<{ hung: true }>((resolve) => (timer = setTimeout(() => resolve({ hung: true }), HANG_MS)));
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    hang,
  ]);
  clearTimeout(timer);
  return outcome;
}

async function runScenarioCase(): Promise<{
  fdDiff: string[];
  opened: number;
  slowest: { ms: number; what: string }[];
}> {
  const server = listen({
    hostname: "::1",
    port: 0,
    socket: {
      open(s) {
        s.end();
      },
      data() {},
    },
  });
  // Warm up Bun's event loop (it opens fds of its own on first use), then take the baseline.
  const warm = await connect({ hostname: "::1", port: server.port, socket: { data() {} } });
  warm.terminate();
  let before = fdTable();
  for (let i = 0; i < 100; i++) {
    await Bun.sleep(20);
    const next = fdTable();
    if (fdDiff(before, next).length === 0) break;
    before = next;
  }
  let opened = 0;
  const slowest: { ms: number; what: string }[] = [];
  for (let i = 0; i < asyncCases; i++) {
    const caseStart = performance.now();
    const isListen = rng.chance(0.1);
    const options = isListen ? listenOptions() : connectOptions(server.port);
    const name = isListen ? "listen" : "connect";
    const outcome = await settle(
      (async () =>
        isListen
          ? listen(options as Parameters<typeof listen>[0])
          : connect(options as Parameters<typeof connect>[0]))(),
    );
    const ms = performance.now() - caseStart;
    if (slowest.length < 5 || ms > slowest[slowest.length - 1]!.ms) {
      slowest.push({ ms: Math.round(ms), what: `${name}(${showOptions(options)})` });
      slowest.sort((x, y) => y.ms - x.ms).splice(5);
    }
    if (outcome.hung) {
      asyncViolationCount++;
      asyncViolations.push(`async case ${i} ${name}(${showOptions(options)}): did not settle within ${HANG_MS} ms`);
      continue;
    }
    if ("error" in outcome) {
      const label = errorOutcome(outcome.error);
      if (label === null) {
        asyncViolationCount++;
        if (asyncViolations.length < 20)
          asyncViolations.push(
            `async case ${i} ${name}(${showOptions(options)}): rejected with ${String(outcome.error)}`,
          );
      } else countAsync(name, label);
      continue;
    }
    countAsync(name, "ok");
    opened++;
    const value = outcome.value as { terminate?: () => void; stop?: (force: boolean) => void };
    if (isListen) value.stop?.(true);
    else value.terminate?.();
  }
  // Sockets close on the event loop: give it time, then compare (the server still listening, as in the baseline).
  let diff: string[] = [];
  for (let i = 0; i < 100; i++) {
    await Bun.sleep(50);
    // The runtime may open its own writer on our stdout/stderr (for a warning): not a socket of ours.
    const table = fdTable();
    const stdio = new Set([table.get(1), table.get(2)]);
    diff = fdDiff(before, table).filter((line) => !stdio.has(line.slice(line.indexOf(" ") + 1)));
    if (diff.length === 0) break;
  }
  server.stop(true);
  return { fdDiff: diff, opened, slowest };
}

// ---- run ---------------------------------------------------------------------
const start = performance.now();
runSync();
const syncMs = performance.now() - start;
for (const fd of owned.splice(0)) fo.socketClose(fd);
drainListeners();
checkForeign(cases);
const syncFdDiff = fdDiff(baseline, settledFdTable());
// The fds the library was never handed still work: a byte through the pipe.
const pipeUsable = rawWrite(pipeWrite, new Uint8Array([42])) === 1 && rawRead(pipeRead, new Uint8Array(1)) === 1;
const asyncStart = performance.now();
const asyncResult = asyncCases > 0 ? await runScenarioCase() : { fdDiff: [], opened: 0, slowest: [] };
const asyncMs = performance.now() - asyncStart;
for (const fd of listeners) fo.socketClose(fd);
for (const fd of foreign)
  if (fd === file) closeSync(fd);
  else rawClose(fd);

console.log(
  JSON.stringify({
    seed,
    cases,
    asyncCases,
    syncMs: Math.round(syncMs),
    asyncMs: Math.round(asyncMs),
    violationCount,
    violations,
    asyncViolationCount,
    asyncViolations,
    outcomes,
    asyncOutcomes,
    asyncOpened: asyncResult.opened,
    syncFdDiff,
    asyncFdDiff: asyncResult.fdDiff,
    asyncSlowest: asyncResult.slowest,
    foreignIntact,
    pipeUsable,
    refusedAt,
  }),
);
