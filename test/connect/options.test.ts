/**
 * The one option checker of the connect layers (`src/connect/options.ts`):
 * the same rule, and the same message, for an option that `connect()` and
 * `createConnection()` share, node:net's forms (`null` for absent, a
 * numeric string port) only where node's checker asks for them, and the
 * checked values normalised.
 */
import { describe, expect, test } from "bun:test";
import {
  type CheckedConnect,
  type ConnectOptions,
  checkConnectOptions,
  checkCreateConnectionOptions,
  checkSocketOptions,
  DEFAULT_ATTEMPT_DELAY_MS,
  MAX_TIMER_MS,
} from "../../src/connect/options.ts";

const ok: ConnectOptions = { hostname: "127.0.0.1", port: 9, socket: { data() {} } };
const checkConnect = (extra: object): CheckedConnect<undefined> =>
  checkConnectOptions({ ...ok, ...extra } as ConnectOptions);
const checkNode = (extra: object): unknown => checkCreateConnectionOptions({ port: 80, ...extra });

describe("a rule shared by connect() and createConnection() gives one message", () => {
  const shared: Array<[string, object, ErrorConstructor, RegExp]> = [
    ["connectTimeout -1", { connectTimeout: -1 }, RangeError, /connectTimeout must be a finite number >= 0/],
    ["connectTimeout 2^31", { connectTimeout: 2 ** 31 }, RangeError, /at most 2147483647\), got 2147483648/],
    ["connectTimeout NaN", { connectTimeout: Number.NaN }, RangeError, /connectTimeout .* got NaN/],
    ["connectTimeout text", { connectTimeout: "1" }, TypeError, /connectTimeout must be a number, got string/],
    ["fastOpen a number", { fastOpen: 1 }, TypeError, /fastOpen must be a boolean, got number/],
    ["allowHalfOpen text", { allowHalfOpen: "no" }, TypeError, /allowHalfOpen must be a boolean, got string/],
    ["signal an object", { signal: {} }, TypeError, /signal must be an AbortSignal/],
    ["port 0", { port: 0 }, RangeError, /port must be an integer in 1\.\.65535, got 0/],
    ["port 65536", { port: 65536 }, RangeError, /port must be an integer in 1\.\.65535, got 65536/],
    ["port 1.5", { port: 1.5 }, RangeError, /got 1\.5/],
  ];
  for (const [name, extra, type, message] of shared) {
    test(name, () => {
      for (const check of [checkConnect, checkNode]) {
        expect(() => check(extra)).toThrow(type);
        expect(() => check(extra)).toThrow(message);
      }
    });
  }

  test("a bad port carries node's code ERR_SOCKET_BAD_PORT in both", () => {
    const codes = [checkConnect, checkNode].map((check) => {
      const error = ((): unknown => {
        try {
          return check({ port: 0 });
        } catch (caught) {
          return caught;
        }
      })();
      return (error as { code?: unknown }).code;
    });
    expect(codes).toEqual(["ERR_SOCKET_BAD_PORT", "ERR_SOCKET_BAD_PORT"]);
  });

  test("the longest timer (2^31-1 ms) is accepted by both", () => {
    expect(checkConnect({ connectTimeout: MAX_TIMER_MS }).connectTimeout).toBe(MAX_TIMER_MS);
    expect(checkNode({ connectTimeout: MAX_TIMER_MS })).toMatchObject({ connectTimeout: MAX_TIMER_MS });
  });
});

describe("node:net's forms only for createConnection", () => {
  test("a numeric string port: a number for createConnection, a TypeError for connect()", () => {
    expect(checkNode({ port: " 8080 " })).toMatchObject({ port: 8080 });
    expect(() => checkConnect({ port: "8080" })).toThrow(TypeError);
    expect(() => checkNode({ port: "http" })).toThrow(/got "http"/);
  });

  test("null is absent for createConnection", () => {
    const checked = checkNode({ host: null, hostname: "h", timeout: null, signal: null, fastOpen: null });
    expect(checked).toMatchObject({ host: "h", timeout: undefined, signal: undefined, fastOpen: true });
    expect(() => checkConnect({ signal: null })).toThrow(TypeError);
  });

  test("an idle timeout beyond a timer's 2^31-1 ms is refused (it would fire after 1 ms)", () => {
    expect(() => checkNode({ timeout: 2 ** 31 })).toThrow(RangeError);
    expect(() => checkNode({ keepAliveInitialDelay: 2 ** 31 })).toThrow(RangeError);
  });

  test("optimistic: a boolean, true when absent", () => {
    expect(checkNode({})).toMatchObject({ optimistic: true });
    expect(checkNode({ optimistic: false })).toMatchObject({ optimistic: false });
    expect(checkNode({ optimistic: null })).toMatchObject({ optimistic: true });
    expect(() => checkNode({ optimistic: "no" })).toThrow(/optimistic must be a boolean, got string/);
    expect(() => checkNode({ optimistic: 0 })).toThrow(TypeError);
    expect(() => checkSocketOptions({ optimistic: 1 })).toThrow(TypeError);
  });

  test("family 0, 4 or 6", () => {
    expect(checkNode({ family: 6 })).toMatchObject({ family: 6 });
    expect(() => checkNode({ family: 5 })).toThrow(/family must be 0, 4 or 6, got 5/);
    expect(() => checkNode({ family: "4" })).toThrow(TypeError);
  });

  test("the defaults", () => {
    expect(checkCreateConnectionOptions({ port: 1 })).toEqual({
      host: "localhost",
      port: 1,
      family: 0,
      timeout: undefined,
      connectTimeout: 0,
      signal: undefined,
      fastOpen: true,
      optimistic: true,
      noDelay: undefined,
      keepAlive: undefined,
      keepAliveInitialDelay: 0,
      allowHalfOpen: false,
      lookup: undefined,
    });
  });
});

describe("a node:net socket's own options (new FastOpenSocket)", () => {
  test("undefined where not given (null is absent); the same rules and messages as createConnection's", () => {
    expect(checkSocketOptions({ fastOpen: null, family: 4 })).toEqual({
      family: 4,
      timeout: undefined,
      connectTimeout: undefined,
      fastOpen: undefined,
      optimistic: undefined,
      noDelay: undefined,
      keepAlive: undefined,
      keepAliveInitialDelay: undefined,
      allowHalfOpen: undefined,
    });
    expect(() => checkSocketOptions({ connectTimeout: 2 ** 31 })).toThrow(/at most 2147483647\), got 2147483648/);
    expect(() => checkSocketOptions({ family: 5 })).toThrow(/family must be 0, 4 or 6, got 5/);
    expect(() => checkSocketOptions(null)).toThrow(/new FastOpenSocket\(\) needs an options object/);
  });

  test("a socket's TFO defaults fill what createConnection's options leave out, and only that", () => {
    const defaults = { family: 6 as const, connectTimeout: 500, fastOpen: false, optimistic: false };
    expect(checkCreateConnectionOptions({ port: 1 }, defaults)).toMatchObject(defaults);
    expect(checkCreateConnectionOptions({ port: 1, fastOpen: true, family: null }, defaults)).toMatchObject({
      family: 6,
      connectTimeout: 500,
      fastOpen: true,
    });
  });

  test("node:net's lookup option: a function, kept as given", () => {
    const lookup = (): void => {};
    expect(checkCreateConnectionOptions({ port: 1, lookup }).lookup).toBe(lookup);
    expect(() => checkCreateConnectionOptions({ port: 1, lookup: "dns" })).toThrow(/lookup must be a function/);
  });
});

describe("checkConnectOptions", () => {
  test("an empty hostname is a RangeError, before any lookup", () => {
    expect(() => checkConnect({ hostname: "" })).toThrow(/hostname must not be empty/);
  });

  test("the payload is a view of the caller's bytes (connect() copies what outlives the call); none: empty", () => {
    const mine = new Uint8Array([1, 2, 3]);
    const checked = checkConnect({ payload: mine });
    mine[0] = 9;
    expect(Array.from(checked.payload)).toEqual([9, 2, 3]);
    expect(Array.from(checkConnect({ payload: "hi" }).payload)).toEqual([104, 105]);
    expect(checkConnect({}).payload.byteLength).toBe(0);
    expect(checkConnect({}).payload).toBe(checkConnect({}).payload);
  });

  test("tls implies lazy and gets the hostname as serverName, without brackets or scope", () => {
    const checked = checkConnect({ hostname: "[fe80::1%lo]", tls: true });
    expect(checked.lazy).toBe(true);
    expect(checked.tls).toEqual({ serverName: "fe80::1" });
    expect(checkConnect({ tls: { servername: "x" } }).tls).toEqual({ servername: "x" });
  });

  test("handlers: each given one a function, the first bad one (in Bun's order) named; data or drain needed", () => {
    const handlers = (socket: object): unknown => checkConnect({ socket });
    expect(() => handlers({ data() {}, end: 1 })).toThrow(/^socket\.end must be a function$/);
    expect(() => handlers({ data() {}, timeout: 1, open: "x" })).toThrow(/^socket\.open must be a function$/);
    expect(() => handlers({ drain() {}, connectError: {} })).toThrow(/^socket\.connectError must be a function$/);
    expect(() => handlers({ data: 2 })).toThrow(/^socket\.data must be a function$/);
    expect(() => handlers({ open() {} })).toThrow(/Expected at least "data" or "drain" callback/);
    expect(() => handlers({ drain() {}, open: undefined })).not.toThrow();
  });

  test("the defaults", () => {
    const checked = checkConnect({});
    expect(checked).toMatchObject({
      fastOpen: true,
      lazy: false,
      allowHalfOpen: false,
      connectTimeout: 0,
      attemptDelay: DEFAULT_ATTEMPT_DELAY_MS,
      tls: undefined,
      signal: undefined,
    });
  });
});
