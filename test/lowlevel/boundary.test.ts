/**
 * Native memory safety, proven at exact boundaries: `len` equal to the view's
 * length passes and one more is refused before the call; a view at an offset
 * sends and receives exactly its own bytes, never its neighbours; overridden
 * `byteLength`/`buffer` properties, resized and detached buffers cannot make
 * the native side read or write outside the view. In-process, over loopback
 * (127.0.0.1), plain connect only: nothing here needs TFO.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseIp4, parseIp6, v4Mapped } from "../../src/lowlevel/address.ts";
import { lastError, must } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { openFdCount, settledFdCount } from "../support/netns.ts";

const LOOPBACK = v4Mapped(parseIp4("127.0.0.1"));

/** 0, 1, 2, ...: every byte tells where it came from. */
function numbered(size: number, start = 0): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (start + i) & 0xff;
  return out;
}

let listener = -1;
let port = 0;

beforeAll(() => {
  listener = must(fo.socketTcp6());
  must(fo.socketBind6(listener, LOOPBACK, 0));
  must(fo.socketListen(listener, 16));
  const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
  must(fo.socketLocal6(listener, local));
  port = local.port;
});

afterAll(() => {
  fo.socketClose(listener);
});

/** A connected non-blocking pair over loopback; closed by the caller. */
function pair(): { client: number; server: number } {
  const client = must(fo.socketTcp6());
  const rc = fo.socketConnect6(client, LOOPBACK, port);
  if (rc < 0 && lastError()?.code !== "EINPROGRESS") must(rc);
  expect(fo.socketPoll(client, fo.POLLOUT, 5000)).toBeGreaterThan(0);
  expect(fo.socketConnected(client)).toBe(1);
  expect(fo.socketPoll(listener, fo.POLLIN, 5000)).toBeGreaterThan(0);
  const server = must(fo.socketAccept6(listener));
  return { client, server };
}

function closePair(p: { client: number; server: number }): void {
  fo.socketClose(p.client);
  fo.socketClose(p.server);
}

/** Everything readable on `fd` right now (waits for the first byte up to 2 s, then drains). */
function drain(fd: number): number[] {
  const out: number[] = [];
  const chunk = new Uint8Array(4096);
  if (fo.socketPoll(fd, fo.POLLIN, 2000) <= 0) return out;
  for (;;) {
    const n = fo.socketRecv(fd, chunk);
    if (n <= 0) break;
    out.push(...chunk.subarray(0, n));
    if (fo.socketPoll(fd, fo.POLLIN, 50) <= 0) break;
  }
  return out;
}

/** Nothing is waiting on `fd`: a recv says EAGAIN. */
function expectNothingPending(fd: number): void {
  expect(fo.socketRecv(fd, new Uint8Array(16))).toBe(-1);
  expect(lastError()?.code).toBe("EAGAIN");
}

describe("send: len at the view's exact length", () => {
  test("len == byteLength sends exactly the view's bytes; +1 is a RangeError and sends nothing", () => {
    const p = pair();
    try {
      const backing = numbered(32);
      const view = new Uint8Array(backing.buffer, 3, 10);
      expect(() => fo.socketSend(p.client, view, 11)).toThrow(RangeError);
      expectNothingPending(p.server);
      expect(fo.socketSend(p.client, view, 10)).toBe(10);
      expect(drain(p.server)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(fo.socketSend(p.client, view, 4)).toBe(4);
      expect(drain(p.server)).toEqual([3, 4, 5, 6]);
      expect(fo.socketSend(p.client, view, 0)).toBe(0);
      expect(() => fo.socketSend(p.client, view, -1)).toThrow(RangeError);
      expect(() => fo.socketSend(p.client, view, 2 ** 32 + 1)).toThrow(RangeError);
      expectNothingPending(p.server);
    } finally {
      closePair(p);
    }
  });

  test("views of every kind at an offset send their own bytes, not their neighbours", () => {
    const p = pair();
    try {
      const backing = numbered(64);
      const shared = new Uint8Array(new SharedArrayBuffer(64));
      shared.set(numbered(64, 100));
      const pooled = Buffer.from("hello"); // a slice of Node's shared 8 KiB pool
      const cases: [string, ArrayBufferView | string, number[]][] = [
        ["Uint16Array at byte 4", new Uint16Array(backing.buffer, 4, 3), [4, 5, 6, 7, 8, 9]],
        ["DataView at byte 7", new DataView(backing.buffer, 7, 5), [7, 8, 9, 10, 11]],
        ["Float64Array at byte 16", new Float64Array(backing.buffer, 16, 1), [16, 17, 18, 19, 20, 21, 22, 23]],
        ["SharedArrayBuffer view at byte 60", new Uint8Array(shared.buffer, 60, 4), [160, 161, 162, 163]],
        ["pooled Buffer", pooled, [...new TextEncoder().encode("hello")]],
        ["string (UTF-8)", "hé", [0x68, 0xc3, 0xa9]],
        ["empty view at the end", new Uint8Array(backing.buffer, 64, 0), []],
      ];
      for (const [label, view, expected] of cases) {
        const length = typeof view === "string" ? expected.length : view.byteLength;
        expect({ label, sent: fo.socketSend(p.client, view) }).toEqual({ label, sent: length });
        const got = expected.length === 0 ? [] : drain(p.server);
        expect({ label, got }).toEqual({ label, got: expected });
        if (typeof view !== "string") expect(() => fo.socketSend(p.client, view, length + 1)).toThrow(RangeError);
      }
      expectNothingPending(p.server);
    } finally {
      closePair(p);
    }
  });

  test("an overridden byteLength (own property or subclass getter) cannot widen the view", () => {
    const p = pair();
    try {
      const backing = numbered(64);
      const own = new Uint8Array(backing.buffer, 8, 4);
      Object.defineProperty(own, "byteLength", { value: 64 });
      class Lying extends Uint8Array {
        override get byteLength(): number {
          return 64;
        }
        override get byteOffset(): number {
          return 0;
        }
      }
      const sub = new Lying(backing.buffer, 20, 2);
      expect(fo.socketSend(p.client, own)).toBe(4);
      expect(drain(p.server)).toEqual([8, 9, 10, 11]);
      expect(() => fo.socketSend(p.client, own, 5)).toThrow(RangeError);
      expect(fo.socketSend(p.client, sub)).toBe(2);
      expect(drain(p.server)).toEqual([20, 21]);
      expect(() => fo.socketSend(p.client, sub, 3)).toThrow(RangeError);
    } finally {
      closePair(p);
    }
  });

  test("resizable buffers: a view out of bounds sends nothing; a length-tracking view sends its current bytes", () => {
    const p = pair();
    try {
      const rab = new ArrayBuffer(16, { maxByteLength: 64 });
      new Uint8Array(rab).set(numbered(16));
      const fixed = new Uint8Array(rab, 4, 8);
      const tracking = new Uint8Array(rab, 10);
      rab.resize(6);
      expect(fo.socketSend(p.client, fixed)).toBe(0);
      expect(() => fo.socketSend(p.client, fixed, 1)).toThrow(RangeError);
      expect(fo.socketSend(p.client, new DataView(rab, 2, 4))).toBe(4);
      expect(drain(p.server)).toEqual([2, 3, 4, 5]);
      const outOfBounds = new DataView(rab, 0, 6);
      rab.resize(3);
      expect(() => fo.socketSend(p.client, outOfBounds)).toThrow(TypeError);
      expectNothingPending(p.server);
      rab.resize(14);
      new Uint8Array(rab).set(numbered(14, 50));
      expect(fo.socketSend(p.client, tracking)).toBe(4);
      expect(drain(p.server)).toEqual([60, 61, 62, 63]);
      expect(() => fo.socketSend(p.client, tracking, 5)).toThrow(RangeError);
    } finally {
      closePair(p);
    }
  });

  test("a detached buffer is a TypeError, before anything is sent", () => {
    const p = pair();
    try {
      const buffer = new ArrayBuffer(8);
      const view = new Uint8Array(buffer, 2, 4);
      structuredClone(buffer, { transfer: [buffer] });
      expect(() => fo.socketSend(p.client, view)).toThrow(TypeError);
      expect(() => fo.socketSend(p.client, view, 0)).toThrow(TypeError);
      expect(() => fo.socketRecv(p.server, view)).toThrow(TypeError);
      expectNothingPending(p.server);
    } finally {
      closePair(p);
    }
  });
});

describe("recv: writes only inside the view", () => {
  test("len == byteLength fills exactly the view; +1 is a RangeError and consumes nothing", () => {
    const p = pair();
    try {
      expect(fo.socketSend(p.client, numbered(20, 200))).toBe(20);
      expect(fo.socketPoll(p.server, fo.POLLIN, 2000)).toBeGreaterThan(0);
      const backing = new Uint8Array(32).fill(0xee);
      const view = new Uint8Array(backing.buffer, 8, 8);
      expect(() => fo.socketRecv(p.server, view, 9)).toThrow(RangeError);
      expect(backing.every((b) => b === 0xee)).toBe(true);
      expect(fo.socketRecv(p.server, view, 8)).toBe(8);
      const expected = new Uint8Array(32).fill(0xee);
      expected.set(numbered(8, 200), 8);
      expect([...backing]).toEqual([...expected]);
      // len below the view: only the first len bytes change.
      backing.fill(0xee);
      expect(fo.socketRecv(p.server, view, 3)).toBe(3);
      expected.fill(0xee);
      expected.set([208, 209, 210], 8);
      expect([...backing]).toEqual([...expected]);
      // the rest, into a SharedArrayBuffer view and a DataView at offsets
      const shared = new Uint8Array(new SharedArrayBuffer(16)).fill(0xee);
      expect(fo.socketRecv(p.server, new Uint8Array(shared.buffer, 5, 4))).toBe(4);
      expect([...shared]).toEqual([
        ...new Uint8Array(16).fill(0xee).fill(211, 5, 6).fill(212, 6, 7).fill(213, 7, 8).fill(214, 8, 9),
      ]);
      const dv = new Uint8Array(16).fill(0xee);
      expect(fo.socketRecv(p.server, new DataView(dv.buffer, 15, 1))).toBe(1);
      expect([...dv]).toEqual([...new Uint8Array(16).fill(0xee).fill(215, 15)]);
      expect(fo.socketRecv(p.server, new Uint8Array(8))).toBe(4);
      expectNothingPending(p.server);
    } finally {
      closePair(p);
    }
  });

  test("an overridden byteLength cannot make recv write past the view", () => {
    const p = pair();
    try {
      expect(fo.socketSend(p.client, numbered(16, 1))).toBe(16);
      expect(fo.socketPoll(p.server, fo.POLLIN, 2000)).toBeGreaterThan(0);
      const backing = new Uint8Array(32).fill(0xee);
      const view = new Uint8Array(backing.buffer, 0, 2);
      Object.defineProperty(view, "byteLength", { value: 32 });
      expect(() => fo.socketRecv(p.server, view, 3)).toThrow(RangeError);
      expect(fo.socketRecv(p.server, view)).toBe(2);
      expect([...backing.subarray(0, 3)]).toEqual([1, 2, 0xee]);
      expect(backing.subarray(2).every((b) => b === 0xee)).toBe(true);
    } finally {
      closePair(p);
    }
  });
});

describe("addresses: exactly 16 (or 4) bytes are read", () => {
  test("15 and 17 bytes are RangeErrors; a 16-byte view at an offset is read exactly", () => {
    const fd = must(fo.socketTcp6());
    try {
      expect(() => fo.socketBind6(fd, new Uint8Array(15), 0)).toThrow(RangeError);
      expect(() => fo.socketBind6(fd, new Uint8Array(17), 0)).toThrow(RangeError);
      const garbage = new Uint8Array(48).fill(0xab);
      garbage.set(LOOPBACK, 5);
      expect(fo.socketBind6(fd, new Uint8Array(garbage.buffer, 5, 16), 0)).toBe(0);
      const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
      must(fo.socketLocal6(fd, local));
      expect([...local.ip]).toEqual([...LOOPBACK]);
    } finally {
      fo.socketClose(fd);
    }
  });

  test("a lying byteLength on a short ip is refused: the bytes beyond it are never read", () => {
    // The buffer holds a valid address, but the view covers only its first byte.
    const backing = new Uint8Array(16);
    backing.set(parseIp6("::1").ip);
    const short = new Uint8Array(backing.buffer, 0, 1);
    Object.defineProperty(short, "byteLength", { value: 16 });
    const fd = must(fo.socketTcp6());
    try {
      expect(() => fo.socketBind6(fd, short, 0)).toThrow(RangeError);
      expect(() => fo.socketConnect6(fd, short, 9)).toThrow(RangeError);
      const four = new Uint8Array(backing.buffer, 0, 1);
      Object.defineProperty(four, "byteLength", { value: 4 });
      expect(() => fo.socketConnect4(fd, four, 9)).toThrow(RangeError);
    } finally {
      fo.socketClose(fd);
    }
  });

  test("4-byte IPv4 addresses: 3 and 5 bytes are RangeErrors, a view at an offset is read exactly", () => {
    const fd = must(fo.socketTcp4());
    try {
      expect(() => fo.socketBind4(fd, new Uint8Array(3), 0)).toThrow(RangeError);
      expect(() => fo.socketBind4(fd, new Uint8Array(5), 0)).toThrow(RangeError);
      const garbage = new Uint8Array(12).fill(0xab);
      garbage.set([127, 0, 0, 1], 7);
      expect(fo.socketBind4(fd, new Uint8Array(garbage.buffer, 7, 4), 0)).toBe(0);
      const local: fo.Endpoint6 = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
      must(fo.socketLocal6(fd, local));
      expect([...local.ip]).toEqual([...LOOPBACK]);
    } finally {
      fo.socketClose(fd);
    }
  });
});

describe("out parameters", () => {
  test("a frozen `out` on accept: TypeError, and the accepted fd is closed, not leaked", async () => {
    const before = await settledFdCount();
    const client = must(fo.socketTcp6());
    const rc = fo.socketConnect6(client, LOOPBACK, port);
    if (rc < 0) expect(lastError()?.code).toBe("EINPROGRESS");
    expect(fo.socketPoll(listener, fo.POLLIN, 5000)).toBeGreaterThan(0);
    const frozen = Object.freeze({ ip: new Uint8Array(16), port: 0, scopeId: 0 });
    expect(() => fo.socketAccept6(listener, frozen)).toThrow(TypeError);
    // The connection was taken off the queue and closed: the client reads its end.
    expect(fo.socketPoll(client, fo.POLLIN, 5000)).toBeGreaterThan(0);
    expect(fo.socketRecv(client, new Uint8Array(4))).toBeLessThanOrEqual(0);
    fo.socketClose(client);
    expect(openFdCount()).toBe(before);
  });
});
