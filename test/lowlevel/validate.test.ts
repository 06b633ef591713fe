/**
 * Bad inputs: every low-level function refuses wrong types and
 * values with a TypeError/RangeError whose message starts with the
 * argument's name, before anything reaches the kernel; a closed fd or a
 * non-socket fd gives -1 with EBADF/ENOTSOCK. No crash, no leaked fd.
 * In-process: nothing here connects anywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, readdirSync, readlinkSync } from "node:fs";
import { must } from "../../src/lowlevel/errors.ts";
import * as lowlevel from "../../src/lowlevel/socket.ts";
import { EMPTY_BYTES, pointable } from "../../src/lowlevel/validate.ts";
import * as fo from "../../src/lowlevel.ts";
import { settledFdCount } from "../support/netns.ts";

/**
 * This process's open fds with what each refers to, read in-process from
 * /proc/self/fd (a child `ls` would race with the spawn's own pipes).
 */
function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // The directory's own fd, gone once read.
    }
  }
  return fds;
}

/** A view whose ArrayBuffer has been transferred away (detached). */
function detached<T extends ArrayBufferView>(make: (buffer: ArrayBuffer) => T): T {
  const buffer = new ArrayBuffer(8);
  const view = make(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

// Stand-ins valid for their argument, so that only the argument under test is wrong.
const IP6 = fo.parseIp6("::1").ip;
const IP4 = fo.parseIp4("127.0.0.1");
const BUF = new Uint8Array(4);
const PORT = 9;
/** An fd number that cannot be open (the fd limit here is far lower). */
const NEVER_OPEN = 0x7fff_fff0;

type Kind = typeof TypeError | typeof RangeError;
interface Bad {
  label: string;
  value: unknown;
  error: Kind;
}

const badInteger = (range: Bad[]): Bad[] => [
  { label: "a string", value: "1", error: TypeError },
  { label: "a bigint", value: 1n, error: TypeError },
  { label: "null", value: null, error: TypeError },
  { label: "an object", value: {}, error: TypeError },
  { label: "NaN", value: Number.NaN, error: RangeError },
  { label: "Infinity", value: Number.POSITIVE_INFINITY, error: RangeError },
  { label: "fractional", value: 1.5, error: RangeError },
  { label: "2**53", value: 2 ** 53, error: RangeError },
  ...range,
];
const badFd = badInteger([
  { label: "undefined", value: undefined, error: TypeError },
  { label: "negative", value: -1, error: RangeError },
  { label: "beyond int32", value: 2 ** 31, error: RangeError },
]);
const badPort = badInteger([
  { label: "negative", value: -1, error: RangeError },
  { label: "65536", value: 65536, error: RangeError },
]);
const badScope = badInteger([
  { label: "negative", value: -1, error: RangeError },
  { label: "2**32", value: 2 ** 32, error: RangeError },
]);
const badIp6: Bad[] = [
  { label: "text", value: "::1", error: TypeError },
  { label: "an array", value: Array.from(IP6), error: TypeError },
  { label: "a Uint16Array", value: new Uint16Array(8), error: TypeError },
  { label: "an ArrayBuffer", value: new ArrayBuffer(16), error: TypeError },
  { label: "undefined", value: undefined, error: TypeError },
  { label: "4 bytes", value: new Uint8Array(4), error: RangeError },
  { label: "17 bytes", value: new Uint8Array(17), error: RangeError },
  { label: "empty", value: new Uint8Array(0), error: RangeError },
];
const badIp4: Bad[] = [
  { label: "text", value: "127.0.0.1", error: TypeError },
  { label: "an array", value: [127, 0, 0, 1], error: TypeError },
  { label: "16 bytes", value: new Uint8Array(16), error: RangeError },
  { label: "3 bytes", value: new Uint8Array(3), error: RangeError },
];
const badBuf: Bad[] = [
  { label: "a number", value: 42, error: TypeError },
  { label: "null", value: null, error: TypeError },
  { label: "an array", value: [1, 2, 3], error: TypeError },
  { label: "an ArrayBuffer (not a view)", value: new ArrayBuffer(4), error: TypeError },
  { label: "a detached Uint8Array", value: detached((b) => new Uint8Array(b)), error: TypeError },
  { label: "a detached DataView", value: detached((b) => new DataView(b)), error: TypeError },
];
const badRecvBuf: Bad[] = [{ label: "a string", value: "abcd", error: TypeError }, ...badBuf];
// BUF has 4 bytes.
const badLen: Bad[] = badInteger([
  { label: "negative", value: -1, error: RangeError },
  { label: "beyond the buffer", value: 5, error: RangeError },
]);
const badOut: Bad[] = [
  { label: "a number", value: 5, error: TypeError },
  { label: "a string", value: "out", error: TypeError },
  { label: "null", value: null, error: TypeError },
];

/** Each function, its valid arguments, and the bad values of each argument by name. */
interface Row {
  fn: string;
  call: (...args: unknown[]) => unknown;
  args: unknown[];
  bad: Record<string, { at: number; values: Bad[] }>;
}

const call = (f: unknown) => f as (...args: unknown[]) => unknown;
const address6 = {
  s: { at: 0, values: badFd },
  ip: { at: 1, values: badIp6 },
  port: { at: 2, values: badPort },
  scopeId: { at: 3, values: badScope },
};
const address4 = { s: { at: 0, values: badFd }, ip4: { at: 1, values: badIp4 }, port: { at: 2, values: badPort } };
const fdOnly = { s: { at: 0, values: badFd } };
const rows: Row[] = [
  { fn: "socketBind6", call: call(fo.socketBind6), args: [0, IP6, PORT, 0], bad: address6 },
  { fn: "socketBind4", call: call(fo.socketBind4), args: [0, IP4, PORT], bad: address4 },
  { fn: "socketConnect6", call: call(fo.socketConnect6), args: [0, IP6, PORT, 0], bad: address6 },
  { fn: "socketConnect4", call: call(fo.socketConnect4), args: [0, IP4, PORT], bad: address4 },
  { fn: "socketFastopenLazy6", call: call(fo.socketFastopenLazy6), args: [0, IP6, PORT, 0], bad: address6 },
  {
    fn: "socketFastopenConnect6",
    call: call(fo.socketFastopenConnect6),
    args: [0, IP6, PORT, 0, BUF, 4],
    bad: { ...address6, buf: { at: 4, values: badBuf }, len: { at: 5, values: badLen } },
  },
  {
    fn: "socketFastopenConnect4",
    call: call(fo.socketFastopenConnect4),
    args: [0, IP4, PORT, BUF, 4],
    bad: { ...address4, buf: { at: 3, values: badBuf }, len: { at: 4, values: badLen } },
  },
  { fn: "socketConnected", call: call(fo.socketConnected), args: [0], bad: fdOnly },
  {
    fn: "socketFastopen",
    call: call(fo.socketFastopen),
    args: [0, 16],
    bad: {
      ...fdOnly,
      queueLength: {
        at: 1,
        values: badInteger([
          { label: "negative", value: -1, error: RangeError },
          { label: "2**31", value: 2 ** 31, error: RangeError },
        ]),
      },
    },
  },
  { fn: "socketFastopenNoCookie", call: call(fo.socketFastopenNoCookie), args: [0], bad: fdOnly },
  {
    fn: "socketListen",
    call: call(fo.socketListen),
    args: [0, 16],
    bad: {
      ...fdOnly,
      backlog: {
        at: 1,
        values: badInteger([
          { label: "negative", value: -1, error: RangeError },
          { label: "2**31", value: 2 ** 31, error: RangeError },
        ]),
      },
    },
  },
  {
    fn: "socketAccept6",
    call: call(fo.socketAccept6),
    args: [0, {}],
    bad: { ...fdOnly, out: { at: 1, values: badOut } },
  },
  {
    fn: "socketLocal6",
    call: call(fo.socketLocal6),
    args: [0, {}],
    bad: { ...fdOnly, out: { at: 1, values: badOut } },
  },
  {
    fn: "socketRemote6",
    call: call(fo.socketRemote6),
    args: [0, {}],
    bad: { ...fdOnly, out: { at: 1, values: badOut } },
  },
  {
    fn: "socketSend",
    call: call(fo.socketSend),
    args: [0, BUF, 4],
    bad: { ...fdOnly, buf: { at: 1, values: badBuf }, len: { at: 2, values: badLen } },
  },
  {
    fn: "socketRecv",
    call: call(fo.socketRecv),
    args: [0, BUF, 4],
    bad: { ...fdOnly, buf: { at: 1, values: badRecvBuf }, len: { at: 2, values: badLen } },
  },
  {
    fn: "socketPoll",
    call: call(fo.socketPoll),
    args: [0, fo.POLLIN, 0],
    bad: {
      ...fdOnly,
      events: {
        at: 1,
        values: badInteger([
          { label: "negative", value: -1, error: RangeError },
          { label: "0x8000", value: 0x8000, error: RangeError },
        ]),
      },
      timeoutMs: {
        at: 2,
        values: badInteger([
          { label: "-2", value: -2, error: RangeError },
          { label: "2**31", value: 2 ** 31, error: RangeError },
        ]),
      },
    },
  },
  { fn: "socketShutdownWrite", call: call(fo.socketShutdownWrite), args: [0], bad: fdOnly },
  { fn: "socketClose", call: call(fo.socketClose), args: [0], bad: fdOnly },
  { fn: "socketFastopenStatus", call: call(fo.socketFastopenStatus), args: [0], bad: { fd: { at: 0, values: badFd } } },
];

const cases = rows.flatMap((row) =>
  Object.entries(row.bad).flatMap(([name, { at, values }]) =>
    values.map((bad) => {
      const args = [...row.args];
      args[at] = bad.value;
      return { title: `${row.fn}: ${name} ${bad.label} -> ${bad.error.name}`, row, args, name, bad };
    }),
  ),
);

let socket = -1;
let notSocket = -1;

beforeAll(() => {
  socket = fo.socketTcp6();
  expect(socket).toBeGreaterThanOrEqual(0);
  notSocket = openSync("/dev/null", "r");
});

afterAll(() => {
  expect(fo.socketClose(socket)).toBe(0);
  closeSync(notSocket);
});

describe("bad arguments throw before any syscall, naming the argument", () => {
  test("the table covers every low-level function that takes arguments", () => {
    const exported = Object.entries(lowlevel)
      .filter(
        ([name, value]) =>
          typeof value === "function" && /^(socket|fastopen)/.test(name) && (value as () => unknown).length > 0,
      )
      .map(([name]) => name)
      .sort();
    expect(rows.map((row) => row.fn).sort()).toEqual(exported);
  });

  test.each(cases)("$title", ({ row, args, name, bad }) => {
    // The fd stand-in 0 is never reached: every case throws first.
    expect(() => row.call(...args)).toThrow(bad.error);
    try {
      row.call(...args);
    } catch (error) {
      expect(error).toBeInstanceOf(bad.error);
      expect((error as Error).message).toStartWith(`${name} `);
    }
  });
});

/** Valid calls on `fd` for every function that takes an fd, except close and poll (see below). */
function callsOn(fd: number): Record<string, () => number | object | null> {
  return {
    socketBind6: () => fo.socketBind6(fd, IP6, 0, 0),
    socketBind4: () => fo.socketBind4(fd, IP4, 0),
    socketConnect6: () => fo.socketConnect6(fd, IP6, PORT, 0),
    socketConnect4: () => fo.socketConnect4(fd, IP4, PORT),
    socketFastopenConnect6: () => fo.socketFastopenConnect6(fd, IP6, PORT, 0, BUF),
    socketFastopenConnect4: () => fo.socketFastopenConnect4(fd, IP4, PORT, "data"),
    socketFastopenLazy6: () => fo.socketFastopenLazy6(fd, IP6, PORT, 0),
    socketFastopen: () => fo.socketFastopen(fd),
    socketFastopenNoCookie: () => fo.socketFastopenNoCookie(fd),
    socketListen: () => fo.socketListen(fd),
    socketAccept6: () => fo.socketAccept6(fd, {} as fo.Endpoint6),
    socketLocal6: () => fo.socketLocal6(fd, {} as fo.Endpoint6),
    socketRemote6: () => fo.socketRemote6(fd, {} as fo.Endpoint6),
    socketSend: () => fo.socketSend(fd, BUF),
    socketRecv: () => fo.socketRecv(fd, new Uint8Array(4)),
    socketShutdownWrite: () => fo.socketShutdownWrite(fd),
  };
}

describe("fds the kernel refuses: -1 with the errno, never a crash", () => {
  test.each(Object.keys(callsOn(0)))("%s on a closed fd: -1, EBADF", (fn) => {
    expect(callsOn(NEVER_OPEN)[fn]!()).toBe(-1);
    expect(fo.lastError()).toMatchObject({ code: "EBADF", errno: fo.errnoNumber("EBADF") });
  });

  test.each(Object.keys(callsOn(0)))("%s on a non-socket fd: -1, ENOTSOCK", (fn) => {
    expect(callsOn(notSocket)[fn]!()).toBe(-1);
    expect(fo.lastError()).toMatchObject({ code: "ENOTSOCK", errno: fo.errnoNumber("ENOTSOCK") });
  });

  test("socketPoll and socketClose on a closed fd: -1, EBADF", () => {
    expect(fo.socketPoll(NEVER_OPEN, fo.POLLIN, 0)).toBe(-1);
    expect(fo.lastError()).toMatchObject({ code: "EBADF", syscall: "socket_poll" });
    expect(fo.socketClose(NEVER_OPEN)).toBe(-1);
    expect(fo.lastError()).toMatchObject({ code: "EBADF", syscall: "socket_close" });
  });

  test("socketConnected answers 0 and socketFastopenStatus null, with the errno", () => {
    expect(fo.socketConnected(NEVER_OPEN)).toBe(0);
    expect(fo.lastError()).toMatchObject({ code: "EBADF", syscall: "socket_connected" });
    expect(fo.socketConnected(notSocket)).toBe(0);
    expect(fo.lastError()).toMatchObject({ code: "ENOTSOCK", syscall: "socket_connected" });
    expect(fo.socketFastopenStatus(NEVER_OPEN)).toBeNull();
    expect(fo.lastError()).toMatchObject({ code: "EBADF", syscall: "fastopen_status" });
    expect(fo.socketFastopenStatus(notSocket)).toBeNull();
    expect(fo.lastError()).toMatchObject({ code: "ENOTSOCK", syscall: "fastopen_status" });
  });

  test("a just-closed socket: EBADF", () => {
    const fd = fo.socketTcp6();
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fo.socketClose(fd)).toBe(0);
    expect(fo.socketSend(fd, "x")).toBe(-1);
    expect(fo.lastError()?.code).toBe("EBADF");
  });

  test("an IPv6 address on an IPv4 socket: -1, EAFNOSUPPORT", () => {
    const fd = fo.socketTcp4();
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fo.socketBind6(fd, IP6, 0)).toBe(-1);
    expect(fo.lastError()?.code).toBe("EAFNOSUPPORT");
    expect(fo.socketClose(fd)).toBe(0);
  });

  test("none of these made the process give up on TFO", () => {
    expect(fo.fastopenRefused()).toBe(false);
  });
});

test("every case above, swept once more in one synchronous block, leaves the fd count unchanged", async () => {
  // Synchronous from count to count: no event-loop turn lets another test
  // file's pending close land in between. The runtime closes some fds (a
  // scenario's stdio) on another thread, though: start once they have landed.
  await settledFdCount();
  const before = openFds();
  let thrown = 0;
  for (const { row, args } of cases) {
    try {
      row.call(...args);
    } catch {
      thrown++;
    }
  }
  for (const fd of [NEVER_OPEN, notSocket]) for (const run of Object.values(callsOn(fd))) run();
  for (let i = 0; i < 16; i++) expect(fo.socketClose(fo.socketTcp6())).toBe(0);
  const after = openFds();
  expect(thrown).toBe(cases.length);
  expect(after.size).toBe(before.size);
  expect([...after].filter(([fd, target]) => before.get(fd) !== target)).toEqual([]);
});

describe("the shared byte views and must()", () => {
  test("EMPTY_BYTES has no bytes on an ArrayBuffer of its own; pointable() never hands the FFI an empty view", () => {
    expect(EMPTY_BYTES.byteLength).toBe(0);
    expect(EMPTY_BYTES.buffer.byteLength).toBe(0);
    expect(pointable(EMPTY_BYTES).byteLength).toBe(1);
    expect(pointable(new Uint8Array(new ArrayBuffer(8), 8)).byteLength).toBe(1);
    const bytes = new Uint8Array([1, 2]);
    expect(pointable(bytes)).toBe(bytes);
  });

  test("an empty send goes through the one-byte stand-in and sends nothing", () => {
    const s = fo.socketTcp6();
    try {
      // Not connected: the kernel refuses, the stand-in's byte is never read as data.
      expect(fo.socketSend(s, EMPTY_BYTES)).toBe(-1);
      expect(fo.lastError()?.syscall).toBe("socket_send");
    } finally {
      fo.socketClose(s);
    }
  });

  test("must() passes a result >= 0 through and throws the SystemError of lastError() for -1", () => {
    expect(must(0, "x")).toBe(0);
    expect(fo.socketClose(-5 + 2 ** 31)).toBe(-1);
    expect(() => must(-1, "closing")).toThrow("closing failed: EBADF (socket_close)");
    let caught: unknown;
    try {
      must(-1);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: "SystemError", code: "EBADF", syscall: "socket_close" });
    expect((caught as Error).message).toBe("socket_close failed: EBADF (socket_close)");
  });
});
