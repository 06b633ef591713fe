/**
 * node:net interop without a network: option checks (thrown synchronously,
 * before any fd exists), the `createConnection(port, host, listener)` form,
 * `new FastOpenSocket()` then `connect()`, `destroy()` before the connect
 * starts, and the types `node:http` expects.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import http from "node:http";
import { Duplex } from "node:stream";
import { FastOpenAgent } from "../../src/node/agent.ts";
import { createConnection } from "../../src/node/create-connection.ts";
import { type CreateConnectionOptions, FastOpenSocket, HANDSHAKE_TIMEOUT_MS } from "../../src/node/socket.ts";
import { openFdCount, settledFdCount } from "../support/netns.ts";

// Type-level: usable wherever node:http takes a socket factory.
const asRequestOption: NonNullable<http.ClientRequestArgs["createConnection"]> = createConnection;
const asAgent: http.Agent = new FastOpenAgent({ keepAlive: true, fastOpen: { connectTimeout: 1000 } });

describe("createConnection options", () => {
  const bad: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ["no port", {}, TypeError, /port must be a number or a numeric string/],
    ["port 0", { port: 0 }, RangeError, /port must be an integer in 1\.\.65535, got 0/],
    ["port 65536", { port: 65536 }, RangeError, /got 65536/],
    ["port 1.5", { port: 1.5 }, RangeError, /got 1\.5/],
    ["port 'http'", { port: "http" }, RangeError, /got "http"/],
    ["port object", { port: {} }, TypeError, /port must be/],
    ["host number", { port: 80, host: 5 }, TypeError, /host must be a string, got number/],
    ["host empty", { port: 80, host: "" }, RangeError, /host must not be empty/],
    ["family 5", { port: 80, family: 5 }, RangeError, /family must be 0, 4 or 6/],
    ["timeout -1", { port: 80, timeout: -1 }, RangeError, /timeout must be a finite number >= 0/],
    ["connectTimeout NaN", { port: 80, connectTimeout: Number.NaN }, RangeError, /connectTimeout/],
    ["fastOpen string", { port: 80, fastOpen: "yes" }, TypeError, /fastOpen must be a boolean, got string/],
    ["noDelay number", { port: 80, noDelay: 1 }, TypeError, /noDelay must be a boolean/],
    ["signal object", { port: 80, signal: {} }, TypeError, /signal must be an AbortSignal/],
    ["lookup string", { port: 80, lookup: "dns" }, TypeError, /lookup must be a function, got string/],
    ["socketPath", { port: 80, socketPath: "/tmp/s" }, TypeError, /Unix domain sockets are not supported/],
    ["localAddress", { port: 80, localAddress: "::1" }, TypeError, /localAddress is not supported/],
    ["localPort", { port: 80, localPort: 1234 }, TypeError, /localPort is not supported/],
    [
      "connectTimeout 2^31",
      { port: 80, connectTimeout: 2 ** 31 },
      RangeError,
      /connectTimeout must be .* at most 2147483647\), got 2147483648/,
    ],
    [
      "timeout 2^31",
      { port: 80, timeout: 2 ** 31 },
      RangeError,
      /timeout must be .* at most 2147483647\), got 2147483648/,
    ],
  ];
  // Let closes still in flight from earlier test files (a scenario's stdio,
  // closed by the runtime on another thread) land before the counts below.
  beforeAll(async () => {
    await settledFdCount();
  });
  for (const [name, options, type, message] of bad) {
    test(`${name}: ${type.name}, no fd opened`, () => {
      const before = openFdCount();
      expect(() => createConnection(options as CreateConnectionOptions)).toThrow(type);
      expect(() => createConnection(options as CreateConnectionOptions)).toThrow(message);
      expect(openFdCount()).toBe(before);
    });
  }

  test("a bad port carries node's code ERR_SOCKET_BAD_PORT", () => {
    let caught: unknown;
    try {
      createConnection({ port: 0 });
    } catch (error) {
      caught = error;
    }
    expect((caught as { code?: string }).code).toBe("ERR_SOCKET_BAD_PORT");
  });

  test("a non-function listener is a TypeError", () => {
    expect(() => createConnection(80, "::1", "x" as unknown as () => void)).toThrow(TypeError);
  });

  test("a non-numeric string first is node's path form: a TypeError naming Unix domain sockets", () => {
    expect(() => createConnection("/tmp/socket")).toThrow(TypeError);
    expect(() => createConnection("/tmp/socket")).toThrow(/Unix domain socket\) is not supported/);
  });
});

describe("new FastOpenSocket() then connect()", () => {
  test("unconnected as new net.Socket(): not connecting, pending, no address; destroy() closes cleanly", async () => {
    const before = await settledFdCount();
    const socket = new FastOpenSocket();
    expect(socket).toBeInstanceOf(Duplex);
    expect(typeof socket.connect).toBe("function");
    expect(socket.connecting).toBe(false);
    expect(socket.pending).toBe(true);
    expect(socket.address()).toEqual({});
    expect(socket.fastOpenStatus()).toBeNull();
    const closed = new Promise<boolean>((resolve) => socket.once("close", resolve));
    socket.destroy();
    expect(await closed).toBe(false);
    expect(socket.readyState).toBe("closed");
    expect(openFdCount()).toBe(before);
  });

  test("bad constructor options throw (TypeError/RangeError), as createConnection's", () => {
    expect(() => new FastOpenSocket({ family: 5 })).toThrow(RangeError);
    expect(() => new FastOpenSocket({ fastOpen: "no" as unknown as boolean })).toThrow(TypeError);
    expect(() => new FastOpenSocket({ connectTimeout: 2 ** 31 })).toThrow(RangeError);
    expect(() => new FastOpenSocket(null as unknown as object)).toThrow(TypeError);
  });

  test("connect(port, host, listener) returns the socket, connecting, the listener on 'connect'", () => {
    const socket = new FastOpenSocket({ connectTimeout: 1000 });
    const listener = (): void => {};
    expect(socket.connect(9, "::1", listener)).toBe(socket);
    expect(socket.connecting).toBe(true);
    expect(socket.pending).toBe(true);
    expect(socket.readyState).toBe("opening");
    expect(socket.listeners("connect")).toContain(listener);
    socket.destroy();
  });

  test("connect() with bad arguments throws and leaves the socket unconnected, no fd", async () => {
    const before = await settledFdCount();
    const socket = new FastOpenSocket();
    expect(() => socket.connect({ port: 0 })).toThrow(RangeError);
    expect(() => socket.connect(80, "::1", 5 as unknown as () => void)).toThrow(TypeError);
    expect(() => socket.connect({ port: 80, connectTimeout: -1 })).toThrow(RangeError);
    expect(() => socket.connect("/tmp/socket")).toThrow(TypeError);
    expect(socket.connecting).toBe(false);
    socket.destroy();
    expect(openFdCount()).toBe(before);
  });

  test("a second connect() destroys the socket with EALREADY, as node:net; no connect, no fd", async () => {
    const before = await settledFdCount();
    const socket = new FastOpenSocket().connect(9, "127.0.0.1");
    const events: string[] = [];
    socket.on("connect", () => events.push("connect"));
    const failed = new Promise<Error>((resolve) => socket.once("error", resolve));
    const closed = new Promise<boolean>((resolve) => socket.once("close", resolve));
    expect(socket.connect(9, "127.0.0.1")).toBe(socket);
    const error = (await failed) as Error & { code?: string; syscall?: string; errno?: number };
    expect(error).toMatchObject({ code: "EALREADY", syscall: "connect", address: "127.0.0.1", port: 9 });
    expect(error.errno).toBe(-114);
    expect(await closed).toBe(true);
    expect(events).toEqual([]);
    expect(openFdCount()).toBe(before);
  });

  test("connect() on a destroyed socket throws ERR_SOCKET_CLOSED", () => {
    const socket = new FastOpenSocket();
    socket.destroy();
    expect(() => socket.connect(80, "::1")).toThrow(/destroyed FastOpenSocket/);
    let caught: unknown;
    try {
      socket.connect(80, "::1");
    } catch (error) {
      caught = error;
    }
    expect((caught as { code?: string }).code).toBe("ERR_SOCKET_CLOSED");
  });
});

describe("FastOpenSocket before it connects", () => {
  test("createConnection(port, host, listener): a Duplex, opening, the listener on 'connect'", async () => {
    const listener = (): void => {};
    const socket = createConnection("80", "::1", listener);
    expect(socket).toBeInstanceOf(FastOpenSocket);
    expect(socket).toBeInstanceOf(Duplex);
    expect(socket.listeners("connect")).toContain(listener);
    expect(socket.connecting).toBe(true);
    expect(socket.pending).toBe(true);
    expect(socket.readyState).toBe("opening");
    expect(socket.address()).toEqual({});
    expect(socket.remoteAddress).toBeUndefined();
    expect(socket.fastOpenStatus()).toBeNull();
    const closed = new Promise<boolean>((resolve) => socket.once("close", resolve));
    socket.destroy();
    expect(await closed).toBe(false);
  });

  test("destroy() in the creating turn: no connect, no 'error', 'close' without error, no fd", async () => {
    const before = await settledFdCount();
    const socket = createConnection({ host: "127.0.0.1", port: 9 });
    const events: string[] = [];
    socket.on("connect", () => events.push("connect"));
    socket.on("error", () => events.push("error"));
    const closed = new Promise<boolean>((resolve) => socket.once("close", resolve));
    socket.write("dropped");
    socket.destroy();
    expect(await closed).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    expect(socket.readyState).toBe("closed");
    expect(openFdCount()).toBe(before);
  });

  test("setTimeout rejects a bad delay; setNoDelay/setKeepAlive/ref/unref chain before connecting", () => {
    const socket = createConnection({ host: "::1", port: 9 });
    expect(() => socket.setTimeout(-1)).toThrow(RangeError);
    expect(() => socket.setTimeout(2 ** 31)).toThrow(/timeout must be .* at most 2147483647\), got 2147483648/);
    expect(socket.setNoDelay(true).setKeepAlive(true, 1000).unref().ref()).toBe(socket);
    socket.setTimeout(1000);
    expect(socket.timeout).toBe(1000);
    socket.setTimeout(0);
    expect(socket.timeout).toBeUndefined();
    socket.destroy();
  });
});

describe("FastOpenAgent", () => {
  test("an http.Agent that keeps its TFO options apart from the agent's", () => {
    const agent = new FastOpenAgent({
      keepAlive: true,
      maxSockets: 4,
      fastOpen: { connectTimeout: 500, fastOpen: true },
    });
    expect(agent).toBeInstanceOf(http.Agent);
    expect(agent.fastOpenOptions).toEqual({ connectTimeout: 500, fastOpen: true });
    expect(agent.maxSockets).toBe(4);
    expect(typeof asRequestOption).toBe("function");
    expect(asAgent).toBeInstanceOf(FastOpenAgent);
    agent.destroy();
  });

  test("its TFO options are checked at construction: optimistic must be a boolean", () => {
    const agent = new FastOpenAgent({ fastOpen: { optimistic: false } });
    expect(agent.fastOpenOptions).toEqual({ optimistic: false });
    agent.destroy();
    expect(() => new FastOpenAgent({ fastOpen: { optimistic: "no" as never } })).toThrow(
      /optimistic must be a boolean, got string/,
    );
    expect(() => new FastOpenAgent({ fastOpen: { connectTimeout: -1 } })).toThrow(RangeError);
    expect(() => new FastOpenAgent({ fastOpen: null as never })).toThrow(TypeError);
  });
});

describe("optimistic connect's option and constant", () => {
  test("createConnection and new FastOpenSocket refuse a non-boolean optimistic, before any socket exists", () => {
    expect(() => createConnection({ port: 1, optimistic: 1 as never })).toThrow(TypeError);
    expect(() => new FastOpenSocket({ optimistic: "yes" as never })).toThrow(/optimistic must be a boolean/);
    expect(HANDSHAKE_TIMEOUT_MS).toBe(10_000);
  });
});
