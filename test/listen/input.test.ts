/**
 * Issue 13, in-process: the table of bad keys (listen's fastOpen.keys,
 * setFastOpenKeys, fastOpenKeys, the low-level calls): each a TypeError or
 * RangeError naming the argument, thrown before any fd is opened, never
 * echoing a key; the key forms (hex, the sysctl's words) read back as
 * written; and fastOpenKeys' schedule: deterministic, pinned by an
 * independent HMAC computation, and tolerant of skew below interval/2 (not
 * beyond). Listeners bind 127.0.0.1 port 0; nothing connects.
 */
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { fastOpenKeys } from "../../src/keys.ts";
import { listen } from "../../src/listen.ts";
import { ListenerKeys } from "../../src/listen-keys.ts";
import { keyHex, keySysctl, parseKey } from "../../src/lowlevel/key.ts";
import { lastError, socketClose, socketFastopenKey, socketFastopenKeyGet, socketTcp6 } from "../../src/lowlevel.ts";
import { openFdCount } from "../support/netns.ts";

const K1 = "000102030405060708090a0b0c0d0e0f";
const K2 = "f0e0d0c0b0a090807060504030201000";
const SECRET = "a fleet secret of at least 16 bytes";
const handlers = { data() {} };

function start(fastOpen: unknown) {
  return listen({ hostname: "127.0.0.1", port: 0, fastOpen: fastOpen as number, socket: handlers });
}

/** The keys `fd` uses, as hex, primary first. */
function keysOf(fd: number): string[] {
  const out = new Uint8Array(32);
  const n = socketFastopenKeyGet(fd, out);
  if (n < 0) throw new Error(`socketFastopenKeyGet: ${lastError()?.code}`);
  return n === 0 ? [] : [keyHex(out.subarray(0, 16)), ...(n === 32 ? [keyHex(out.subarray(16))] : [])];
}

/** [fastOpen value, error class, message start]. */
const badListen: Array<[string, unknown, ErrorConstructor, string]> = [
  ["a string", "256", TypeError, "fastOpen must be a queue length or { queue, keys }"],
  ["an array", [K1], TypeError, "fastOpen must be"],
  ["a negative queue", { queue: -1 }, RangeError, "fastOpen.queue "],
  ["keys as one string", { keys: K1 }, TypeError, "fastOpen.keys must be [primary, backup?] or { secret, interval }"],
  ["no keys", { keys: [] }, RangeError, "fastOpen.keys must hold 1 or 2 keys"],
  ["three keys", { keys: [K1, K2, K1] }, RangeError, "fastOpen.keys must hold 1 or 2 keys"],
  ["15 bytes", { keys: [new Uint8Array(15)] }, RangeError, "fastOpen.keys[0] must be 16 bytes, got 15"],
  ["a 32-byte backup", { keys: [K1, new Uint8Array(32)] }, RangeError, "fastOpen.keys[1] must be 16 bytes, got 32"],
  ["31 hex digits", { keys: [K1.slice(1)] }, RangeError, "fastOpen.keys[0] must be 32 hex digits"],
  ["non-hex", { keys: ["zz".repeat(16)] }, RangeError, "fastOpen.keys[0] must be 32 hex digits"],
  ["a number", { keys: [K1, 5] }, TypeError, "fastOpen.keys[1] must be a 16-byte Uint8Array"],
  ["a Uint16Array", { keys: [new Uint16Array(8)] }, TypeError, "fastOpen.keys[0] must be a 16-byte Uint8Array"],
  [
    "a short secret",
    { keys: { secret: "short", interval: 1000 } },
    RangeError,
    "fastOpen.keys.secret must be at least",
  ],
  ["a numeric secret", { keys: { secret: 42, interval: 1000 } }, TypeError, "fastOpen.keys.secret must be a string"],
  ["no interval", { keys: { secret: SECRET } }, TypeError, "fastOpen.keys.interval must be a number"],
  ["a string interval", { keys: { secret: SECRET, interval: "1000" } }, TypeError, "fastOpen.keys.interval must be"],
  ["interval 999 ms", { keys: { secret: SECRET, interval: 999 } }, RangeError, "fastOpen.keys.interval must be an"],
  ["a fractional interval", { keys: { secret: SECRET, interval: 1500.5 } }, RangeError, "fastOpen.keys.interval "],
  ["interval 2^41", { keys: { secret: SECRET, interval: 2 ** 41 } }, RangeError, "fastOpen.keys.interval "],
  ["keys null", { keys: null }, TypeError, "fastOpen.keys must be"],
];

describe("listen({ fastOpen: { keys } }): bad keys are refused before anything is opened", () => {
  test.each(badListen)("%s", (_title, fastOpen, kind, start_) => {
    const before = openFdCount();
    let caught: unknown;
    try {
      start(fastOpen).stop(true);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(kind);
    expect((caught as Error).message).toStartWith(start_);
    // A key never appears in a message.
    expect((caught as Error).message).not.toContain("0102030405");
    expect(openFdCount()).toBe(before);
  });
});

describe("listen({ fastOpen: { keys } }) and setFastOpenKeys on a live listener", () => {
  test("[primary, backup] is in force, in order; fastOpen stays the queue length", () => {
    const l = start({ queue: 16, keys: [K1, new Uint8Array(Buffer.from(K2, "hex"))] });
    try {
      expect(l.fastOpen).toBe(16);
      expect(keysOf((l as unknown as { fd: number }).fd)).toEqual([K1, K2]);
    } finally {
      l.stop(true);
    }
  });

  test("bad setFastOpenKeys arguments throw naming primary/backup and leave the keys as they were", () => {
    const l = start({ keys: [K1] });
    const fd = (l as unknown as { fd: number }).fd;
    try {
      const set = l.setFastOpenKeys as (...args: unknown[]) => void;
      expect(() => set()).toThrow(
        new TypeError("primary must be a 16-byte Uint8Array or a 32-hex-digit string, got undefined"),
      );
      expect(() => set("x")).toThrow(RangeError);
      expect(() => set(K2, new Uint8Array(3))).toThrow(new RangeError("backup must be 16 bytes, got 3"));
      expect(keysOf(fd)).toEqual([K1]);
      l.setFastOpenKeys(K2, K1);
      expect(keysOf(fd)).toEqual([K2, K1]);
      l.setFastOpenKeys(K2);
      expect(keysOf(fd)).toEqual([K2]);
    } finally {
      l.stop(true);
    }
  });

  test("after stop(): a SystemError EBADF with syscall socket_fastopen_key, no fd touched", () => {
    const l = start({ keys: [K1] });
    l.stop(true);
    let caught: unknown;
    try {
      l.setFastOpenKeys(K2);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: "SystemError", code: "EBADF", syscall: "socket_fastopen_key" });
  });

  test("a schedule sets fastOpenKeys(secret, { interval }) for now at once", () => {
    const interval = 3_600_000;
    const t0 = Date.now();
    const l = start({ keys: { secret: SECRET, interval } });
    const t1 = Date.now();
    try {
      const now = keysOf((l as unknown as { fd: number }).fd);
      const expected = [t0, t1].map((t) => {
        const k = fastOpenKeys(SECRET, { interval, now: t });
        return [keyHex(k.primary), keyHex(k.backup)];
      });
      expect(expected).toContainEqual(now);
    } finally {
      l.stop(true);
    }
  });

  test("fastOpenCounters() starts at zero deltas (Linux)", () => {
    const l = start({ keys: [K1] });
    try {
      const counters = l.fastOpenCounters();
      expect(counters === null ? null : Object.keys(counters).sort()).toEqual(
        process.platform === "linux"
          ? [
              "TCPFastOpenCookieReqd",
              "TCPFastOpenListenOverflow",
              "TCPFastOpenPassive",
              "TCPFastOpenPassiveAltKey",
              "TCPFastOpenPassiveFail",
            ]
          : null,
      );
    } finally {
      l.stop(true);
    }
  });
});

describe("the rotation timer", () => {
  /** Warnings emitted while `run` runs and for `ms` after (or until the first, with `untilOne`). */
  async function warningsDuring(run: () => void, ms: number, untilOne = false): Promise<Error[]> {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      run();
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && !(untilOne && warnings.length > 0)) await Bun.sleep(20);
    } finally {
      process.off("warning", onWarning);
    }
    return warnings;
  }

  test("a refused change is a warning (a SystemError), not an exception; the schedule goes on", async () => {
    const fd = socketTcp6();
    let open = true;
    let keys: ListenerKeys | undefined;
    const warnings = await warningsDuring(
      () => {
        // The fd "goes away" after the first setting: the next change (within interval/2 = 500 ms) is refused.
        keys = new ListenerKeys(
          { fd: () => (open ? fd : -1), hostname: "::1", port: 1 },
          {
            secret: new TextEncoder().encode(SECRET),
            interval: 1000,
          },
        );
        open = false;
      },
      10_000,
      true,
    );
    keys?.stop();
    socketClose(fd);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatchObject({ name: "SystemError", code: "EBADF", syscall: "socket_fastopen_key" });
  });

  test("listener.stop() ends the rotation: no change is tried on the closed listener", async () => {
    const warnings = await warningsDuring(() => start({ keys: { secret: SECRET, interval: 1000 } }).stop(true), 1200);
    expect(warnings).toEqual([]);
  });
});

describe("key forms", () => {
  test("32 hex digits (either case) are the bytes in order; Uint8Arrays and Buffers are copied", () => {
    expect(keyHex(parseKey("k", K1.toUpperCase()))).toBe(K1);
    const source = new Uint8Array(Buffer.from(K2, "hex"));
    const copy = parseKey("k", source);
    source[0] = 0;
    expect(keyHex(copy)).toBe(K2);
    expect(keyHex(parseKey("k", Buffer.from(K1, "hex")))).toBe(K1);
  });

  test("the sysctl form: four 32-bit words, each little-endian, read back as written", () => {
    expect(keySysctl(parseKey("k", K1))).toBe("03020100-07060504-0b0a0908-0f0e0d0c");
    expect(keyHex(parseKey("k", "03020100-07060504-0b0a0908-0f0e0d0c"))).toBe(K1);
    expect(() => parseKey("k", "03020100-07060504-0b0a0908")).toThrow(RangeError);
  });

  test("low-level: socketFastopenKey checks s, then the keys; socketFastopenKeyGet needs 32 bytes", () => {
    expect(() => socketFastopenKey(-1, K1)).toThrow(RangeError);
    expect(() => socketFastopenKey(0, "nope")).toThrow(/^primary must be 32 hex digits/);
    expect(() => socketFastopenKey(0, K1, new Uint8Array(17))).toThrow(
      new RangeError("backup must be 16 bytes, got 17"),
    );
    expect(() => socketFastopenKeyGet(0, new Uint8Array(16))).toThrow(new RangeError("out must hold 32 bytes, got 16"));
    expect(() => socketFastopenKeyGet(0, [] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe("fastOpenKeys(secret, { interval, now })", () => {
  const interval = 3_600_000;
  const at = (now: number, secret: string | Uint8Array = SECRET, i = interval) =>
    fastOpenKeys(secret, { interval: i, now });
  const hex = (k: { primary: Uint8Array; backup: Uint8Array }) => [keyHex(k.primary), keyHex(k.backup)];

  test("the key of a period is HMAC-SHA256(secret, label || interval || period)[0..16], as documented", () => {
    const epoch = 472_222;
    const message = Buffer.concat([
      Buffer.from("fastopen tfo key v1\0"),
      Buffer.from(BigInt(interval).toString(16).padStart(16, "0"), "hex"),
      Buffer.from(BigInt(epoch).toString(16).padStart(16, "0"), "hex"),
    ]);
    const expected = createHmac("sha256", SECRET).update(message).digest().subarray(0, 16).toString("hex");
    const keys = at(epoch * interval + 1);
    expect(keys.epoch).toBe(epoch);
    expect(keyHex(keys.primary)).toBe(expected);
    // Pinned (computed with Python's hmac): a change of the derivation would split a fleet running two versions.
    expect(keyHex(keys.primary)).toBe("153828dd74344d93d7e3cd2d687cc53c");
  });

  test("deterministic; another secret or interval: other keys; a Uint8Array secret equals its UTF-8 string", () => {
    const now = 1_700_000_000_000;
    expect(hex(at(now))).toEqual(hex(at(now)));
    expect(hex(at(now, new TextEncoder().encode(SECRET)))).toEqual(hex(at(now)));
    expect(keyHex(at(now, `${SECRET}!`).primary)).not.toBe(keyHex(at(now).primary));
    expect(keyHex(at(now, SECRET, 2 * interval).primary)).not.toBe(keyHex(at(now).primary));
  });

  test("backup: the previous period's key in the first half, the next period's in the second; changesAt", () => {
    const start = 472_222 * interval;
    const early = at(start + interval / 2 - 1);
    const late = at(start + interval / 2);
    expect(keyHex(early.primary)).toBe(keyHex(late.primary));
    expect(keyHex(early.backup)).toBe(keyHex(at(start - 1).primary));
    expect(keyHex(late.backup)).toBe(keyHex(at(start + interval).primary));
    expect(early.changesAt).toBe(start + interval / 2);
    expect(late.changesAt).toBe(start + interval);
  });

  test("two clocks less than interval/2 apart accept each other's cookies; a whole interval apart they do not", () => {
    const accepts = (issuer: number, checker: number) => {
      const issued = keyHex(at(issuer).primary);
      return hex(at(checker)).includes(issued);
    };
    const base = 472_222 * interval;
    let checked = 0;
    for (let t = base; t < base + 2 * interval; t += interval / 16) {
      for (const skew of [1, interval / 8, interval / 4, interval / 2 - 1]) {
        expect([t, skew, accepts(t, t + skew), accepts(t + skew, t)]).toEqual([t, skew, true, true]);
        checked++;
      }
      expect(accepts(t, t + interval + 1) && accepts(t + interval + 1, t)).toBe(false);
    }
    expect(checked).toBe(128);
  });

  test("bad input: TypeError/RangeError naming secret, interval, now, options", () => {
    const call = fastOpenKeys as (...args: unknown[]) => unknown;
    expect(() => call(SECRET)).toThrow(new TypeError("fastOpenKeys() needs options { interval }, got undefined"));
    expect(() => call("short", { interval })).toThrow(new RangeError("secret must be at least 16 bytes, got 5"));
    expect(() => call(null, { interval })).toThrow(/^secret must be a string or a Uint8Array/);
    expect(() => call(SECRET, { interval: 0 })).toThrow(/^interval must be an integer from 1000/);
    expect(() => call(SECRET, { interval: Number.NaN })).toThrow(RangeError);
    expect(() => call(SECRET, { interval, now: -1 })).toThrow(/^now must be a time/);
    expect(() => call(SECRET, { interval, now: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => call(SECRET, { interval, now: "1" })).toThrow(/^now must be a number/);
  });
});
