/**
 * Wrong fds at the FFI boundary: pipes, files, closed fds, fds beyond the
 * limit, UDP and Unix sockets, sockets of the other address family. Every
 * function answers -1 with the errno that says what is wrong (or, for
 * `socketPoll`, the events), nothing crashes, and the library never closes
 * an fd it did not create or was not handed to `socketClose`; and a TFO call
 * on a socket in the wrong state never switches TFO off for the process.
 * In-process (nothing connects anywhere), except the refusal scenarios, which
 * run in private network namespaces.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { parseIp4, parseIp6, v4Mapped } from "../../src/lowlevel/address.ts";
import { lastError } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { netnsUnavailable, runScenario } from "../support/netns.ts";
import { fdTable, makePipe, rawClose, rawRead, rawSocket, rawWrite } from "../support/raw.ts";

const IP6 = parseIp6("2001:db8::1").ip; // documentation prefix: never reached
const MAPPED = v4Mapped(parseIp4("192.0.2.1"));
const IP4 = parseIp4("192.0.2.1");
const PORT = 9;

/** Every low-level function that takes an fd, except socketClose, with valid other arguments. */
const CALLS: [string, (fd: number) => number | object | null][] = [
  ["socketBind6", (fd) => fo.socketBind6(fd, IP6, 0)],
  ["socketBind4", (fd) => fo.socketBind4(fd, IP4, 0)],
  ["socketConnect6", (fd) => fo.socketConnect6(fd, IP6, PORT)],
  ["socketConnect4", (fd) => fo.socketConnect4(fd, IP4, PORT)],
  ["socketFastopenConnect6", (fd) => fo.socketFastopenConnect6(fd, IP6, PORT, 0, "data")],
  ["socketFastopenConnect4", (fd) => fo.socketFastopenConnect4(fd, IP4, PORT, "data")],
  ["socketFastopenLazy6", (fd) => fo.socketFastopenLazy6(fd, IP6, PORT)],
  ["socketConnected", (fd) => fo.socketConnected(fd)],
  ["socketFastopen", (fd) => fo.socketFastopen(fd)],
  ["socketFastopenNoCookie", (fd) => fo.socketFastopenNoCookie(fd)],
  ["socketListen", (fd) => fo.socketListen(fd)],
  ["socketAccept6", (fd) => fo.socketAccept6(fd, { ip: new Uint8Array(16), port: 0, scopeId: 0 })],
  ["socketLocal6", (fd) => fo.socketLocal6(fd)],
  ["socketRemote6", (fd) => fo.socketRemote6(fd)],
  ["socketSend", (fd) => fo.socketSend(fd, "data")],
  ["socketRecv", (fd) => fo.socketRecv(fd, new Uint8Array(8))],
  ["socketPoll", (fd) => fo.socketPoll(fd, fo.POLLIN | fo.POLLOUT, 0)],
  ["socketShutdownWrite", (fd) => fo.socketShutdownWrite(fd)],
  ["socketFastopenStatus", (fd) => fo.socketFastopenStatus(fd)],
];

/** Runs every call on `fd`: name -> result code ("ok" for >= 0 or a status, else the errno name). */
function outcomes(fd: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, call] of CALLS) {
    const before = lastError();
    const result = call(fd);
    // socketConnected keeps libowfat's contract: 0 and lastError when not connected.
    const failed = result === null || result === -1 || (name === "socketConnected" && result === 0);
    if (failed) expect({ name, fresh: lastError() !== before }).toEqual({ name, fresh: true });
    out[name] = failed ? lastError()!.code : "ok";
  }
  return out;
}

function expectAll(result: Record<string, string>, code: string, except: Record<string, string> = {}): void {
  const expected: Record<string, string> = {};
  for (const [name] of CALLS) expected[name] = except[name] ?? code;
  expect(result).toEqual(expected);
}

const opened: number[] = [];
afterAll(() => {
  for (const fd of opened) rawClose(fd);
});

describe("fds the library did not create stay open and usable", () => {
  test("a pipe given to every function but socketClose: ENOTSOCK everywhere, both ends still work", () => {
    const [r, w] = makePipe();
    opened.push(r, w);
    const before = fdTable();
    expectAll(outcomes(r), "ENOTSOCK", { socketPoll: "ok" });
    expectAll(outcomes(w), "ENOTSOCK", { socketPoll: "ok" });
    const after = fdTable();
    expect([after.get(r), after.get(w)]).toEqual([before.get(r), before.get(w)]);
    expect(rawWrite(w, new TextEncoder().encode("ping"))).toBe(4);
    expect(fo.socketPoll(r, fo.POLLIN, 1000)).toBe(fo.POLLIN);
    const got = new Uint8Array(8);
    expect(rawRead(r, got)).toBe(4);
    expect(new TextDecoder().decode(got.subarray(0, 4))).toBe("ping");
  });

  test("a regular file: ENOTSOCK everywhere, the file stays open", () => {
    const fd = openSync(import.meta.path, "r");
    try {
      const target = fdTable().get(fd);
      expectAll(outcomes(fd), "ENOTSOCK", { socketPoll: "ok" });
      expect(fdTable().get(fd)).toBe(target!);
    } finally {
      closeSync(fd);
    }
  });

  test("closed fds, below and beyond the fd limit: EBADF everywhere (socketPoll too)", () => {
    const table = fdTable();
    const highest = Math.max(...table.keys());
    const closed = highest + 4000; // far above any fd the runtime will open meanwhile
    expect(table.has(closed)).toBe(false);
    expectAll(outcomes(closed), "EBADF");
    expectAll(outcomes(0x7fff_fff0), "EBADF");
    expect(fo.socketClose(closed)).toBe(-1);
    expect(lastError()?.code).toBe("EBADF");
  });
});

describe("sockets of another kind or family", () => {
  test("UDP sockets never take the TCP paths: EPROTOTYPE, no datagram, TFO not switched off for the process", () => {
    fo.fastopenReset();
    for (const family of [10, 2]) {
      const udp = rawSocket(family, 2);
      opened.push(udp);
      const target = family === 10 ? IP6 : MAPPED;
      expect(fo.socketFastopenLazy6(udp, target, PORT)).toBe(-1);
      expect(lastError()?.code).toBe("EPROTOTYPE");
      expect(fo.socketFastopenConnect6(udp, target, PORT, 0, "datagram?")).toBe(-1);
      expect(lastError()?.code).toBe("EPROTOTYPE");
      expect(fo.socketConnect6(udp, target, PORT)).toBe(-1);
      expect(lastError()?.code).toBe("EPROTOTYPE");
      expect(fo.socketBind6(udp, target, 0)).toBe(-1);
      expect(lastError()?.code).toBe("EPROTOTYPE");
      const all = outcomes(udp);
      for (const name of Object.keys(all)) expect(typeof all[name]).toBe("string");
      expect(fdTable().has(udp)).toBe(true);
    }
    expect(fo.fastopenRefused()).toBe(false);
  });

  test("an IPv4 socket given an IPv6 address: EAFNOSUPPORT before any syscall that acts", () => {
    const fd = fo.socketTcp4();
    expect(fd).toBeGreaterThanOrEqual(0);
    try {
      for (const call of [
        () => fo.socketBind6(fd, IP6, 0),
        () => fo.socketConnect6(fd, IP6, PORT),
        () => fo.socketFastopenConnect6(fd, IP6, PORT, 0, "data"),
        () => fo.socketFastopenLazy6(fd, IP6, PORT),
      ]) {
        expect(call()).toBe(-1);
        expect(lastError()?.code).toBe("EAFNOSUPPORT");
      }
      expect(fo.socketConnected(fd)).toBe(0); // never connected
    } finally {
      expect(fo.socketClose(fd)).toBe(0);
    }
  });

  test("a Unix stream socket: EAFNOSUPPORT for every address, the socket stays open", () => {
    const unix = rawSocket(1, 1);
    opened.push(unix);
    for (const call of [
      () => fo.socketBind6(unix, IP6, 0),
      () => fo.socketConnect4(unix, IP4, PORT),
      () => fo.socketFastopenConnect6(unix, IP6, PORT, 0, "data"),
      () => fo.socketFastopenLazy6(unix, IP6, PORT),
    ]) {
      expect(call()).toBe(-1);
      expect(lastError()?.code).toBe("EAFNOSUPPORT");
    }
    expect(fdTable().has(unix)).toBe(true);
    expect(fo.fastopenRefused()).toBe(false);
  });
});

describe.skipIf(netnsUnavailable() !== null)("the process-wide TFO refusal is only set by a real refusal", () => {
  interface RefusalReport {
    sysctl: string;
    cases: Record<string, { result: number; code: string; refused: boolean }>;
  }
  const script = join(import.meta.dir, "refusal.scenario.ts");

  test("TFO on: TFO calls on established, reset, connecting or listening sockets never switch TFO off", () => {
    const { report } = runScenario<RefusalReport>(script, [], { sysctl: { tcp_fastopen: "3" } });
    expect(report.sysctl).toBe("3");
    for (const [label, outcome] of Object.entries(report.cases))
      expect({ label, refused: outcome.refused }).toEqual({ label, refused: false });
    // The socket's own errors come back as they are, not mistaken for a refusal.
    expect(report.cases["lazy on an established socket"]).toMatchObject({ result: -1, code: "EINVAL" });
    expect(report.cases["lazy on a listening socket"]).toMatchObject({ result: -1, code: "EINVAL" });
    expect(report.cases["lazy on a reset socket"]).toMatchObject({ result: -1, code: "EPIPE" });
    expect(report.cases["syn-data on a reset socket"]).toMatchObject({ result: -1, code: "EPIPE" });
    expect(report.cases["lazy on a fresh socket"]).toMatchObject({ result: -1, code: "EINPROGRESS" });
  });

  test("TFO off (tcp_fastopen=0): a fresh socket's refusal is remembered, a connected socket's is not", () => {
    const { report } = runScenario<RefusalReport>(script, [], { sysctl: { tcp_fastopen: "0" } });
    expect(report.cases["lazy on a fresh socket"]).toMatchObject({ code: "EINPROGRESS", refused: true });
    expect(report.cases["syn-data on a fresh socket"]).toMatchObject({ code: "EINPROGRESS", refused: true });
    expect(report.cases["lazy on an established socket"]).toMatchObject({ result: 0, refused: false });
    expect(report.cases["syn-data on an established socket"]).toMatchObject({ result: 5, refused: false });
    expect(report.cases["lazy on a reset socket"]).toMatchObject({ code: "EPIPE", refused: false });
  });
});
