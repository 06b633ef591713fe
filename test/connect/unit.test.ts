/**
 * The parts of the async API that need no network: hostname
 * literals and lookups (with an injected resolver, so no DNS traffic), the
 * host support report, and the checks that reject bad options before any fd
 * exists.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { Socket } from "bun";
import { verificationOnly } from "../../src/connect/attempt.ts";
import { interleave, type ResolvedAddress, resolveHost } from "../../src/connect/resolve.ts";
import { type ConnectOptions, connect, fastOpenStatus, listen, support } from "../../src/index.ts";
import { linuxSupport, tcpFastopenAdvice } from "../../src/support.ts";
import { settledFdCount } from "../support/netns.ts";

const openFds = (): number => readdirSync("/proc/self/fd").length;

describe("resolveHost", () => {
  test("IPv4 literal: family 4, v4-mapped bytes, no DNS", async () => {
    const [a, ...rest] = await resolveHost("192.0.2.7", () => Promise.reject(new Error("must not be called")));
    expect(rest).toHaveLength(0);
    expect(a).toMatchObject({ family: 4, address: "192.0.2.7", scopeId: 0 });
    expect(Array.from(a!.ip)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]);
  });

  test("IPv6 literal, bare and bracketed, canonicalised", async () => {
    for (const text of ["2001:DB8::1", "[2001:db8::1]"]) {
      const [a] = await resolveHost(text);
      expect(a).toMatchObject({ family: 6, address: "2001:db8::1", scopeId: 0 });
    }
  });

  test("IPv6 literal with %scope: interface name or index", async () => {
    const byName = (await resolveHost("fe80::1%lo"))[0]!;
    expect(byName.scopeId).toBe(1);
    expect(byName.address).toBe("fe80::1%lo");
    expect((await resolveHost("fe80::1%1"))[0]!.scopeId).toBe(1);
  });

  test("bad literals and arguments throw TypeError/RangeError", async () => {
    await expect(resolveHost("fe80::1%nosuchif0")).rejects.toThrow(RangeError);
    await expect(resolveHost("")).rejects.toThrow(RangeError);
    await expect(resolveHost(42 as unknown as string)).rejects.toThrow(TypeError);
  });

  test("names go through the lookup; families are interleaved, IPv6 first when listed first", async () => {
    const lookup = async () => [
      { address: "2001:db8::1", family: 6 },
      { address: "2001:db8::2", family: 6 },
      { address: "192.0.2.1", family: 4 },
      { address: "192.0.2.2", family: 4 },
      { address: "192.0.2.1", family: 4 },
    ];
    const addresses = await resolveHost("dual.example", lookup);
    expect(addresses.map((a) => a.address)).toEqual(["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"]);
  });

  test("a failed or empty lookup rejects with ENOTFOUND from getaddrinfo", async () => {
    const failing = () => Promise.reject(Object.assign(new Error("nope"), { code: "DNS_ENOTFOUND" }));
    await expect(resolveHost("missing.example", failing)).rejects.toMatchObject({
      code: "ENOTFOUND",
      syscall: "getaddrinfo",
      hostname: "missing.example",
    });
    await expect(resolveHost("empty.example", async () => [])).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  test("interleave keeps a single family in order", () => {
    const v4 = (address: string): ResolvedAddress => ({ address, family: 4, scopeId: 0, ip: new Uint8Array(16) });
    expect(interleave([v4("192.0.2.1"), v4("192.0.2.2")]).map((a) => a.address)).toEqual(["192.0.2.1", "192.0.2.2"]);
  });
});

describe("a TLS handshake reported failed with rejectUnauthorized: false", () => {
  // Over a real link Bun reports a self-signed certificate as a failed handshake and keeps the socket open, as
  // Bun.connect does with `authorized` false (seen over the bench's relay; an in-namespace loopback reports success).
  const coded = (code?: string): Error => Object.assign(new Error("x"), code === undefined ? {} : { code });
  test("a certificate check is waived: established", () => {
    for (const code of ["DEPTH_ZERO_SELF_SIGNED_CERT", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_HAS_EXPIRED"])
      expect(verificationOnly(coded(code), { rejectUnauthorized: false })).toBe(true);
  });
  test("anything else, or the check not waived: a failure", () => {
    expect(verificationOnly(coded(), { rejectUnauthorized: false })).toBe(false);
    expect(verificationOnly(coded("ECONNRESET"), { rejectUnauthorized: false })).toBe(false);
    expect(verificationOnly(null, { rejectUnauthorized: false })).toBe(false);
    expect(verificationOnly(coded("DEPTH_ZERO_SELF_SIGNED_CERT"), {})).toBe(false);
    expect(verificationOnly(coded("DEPTH_ZERO_SELF_SIGNED_CERT"), { rejectUnauthorized: true })).toBe(false);
    expect(verificationOnly(coded("DEPTH_ZERO_SELF_SIGNED_CERT"), true)).toBe(false);
  });
});

describe("support", () => {
  test("Linux bits map to client, server, lazy and no-cookie", () => {
    expect(linuxSupport(3, "6.18.0")).toMatchObject({
      client: true,
      server: true,
      lazy: true,
      noCookie: false,
      serverNoCookie: false,
    });
    expect(linuxSupport(0x607, "6.1.0")).toMatchObject({
      client: true,
      server: true,
      lazy: true,
      noCookie: true,
      serverNoCookie: true,
    });
    expect(linuxSupport(0x403, "6.18.0")).toMatchObject({ client: true, server: true, serverNoCookie: false });
    expect(linuxSupport(1, "4.9.0")).toMatchObject({ client: true, server: false, lazy: false });
  });

  test("each missing piece gets advice that says how to enable it", () => {
    const off = linuxSupport(0, "6.18.0");
    expect(off).toMatchObject({ client: false, server: false, lazy: false });
    expect(off.advice.some((a) => a.includes("client TFO is off") && a.includes("net.ipv4.tcp_fastopen=3"))).toBe(true);
    expect(off.advice.some((a) => a.includes("server TFO is off"))).toBe(true);
    expect(linuxSupport(1, "4.9.0").advice.some((a) => a.includes("TCP_FASTOPEN_CONNECT"))).toBe(true);
    expect(linuxSupport(null, "6.18.0").advice[0]).toContain("cannot be read");
  });

  test("the sysctl advice is one list, support()'s and the demo's", () => {
    expect(tcpFastopenAdvice(3)).toEqual([]);
    expect(tcpFastopenAdvice(0x401)).toEqual([expect.stringContaining("server TFO is off")]);
    expect(tcpFastopenAdvice(0x401)[0]).toContain("net.ipv4.tcp_fastopen=1027");
    for (const setting of [0, 1, 2, 3, null]) {
      const advice = tcpFastopenAdvice(setting);
      expect(linuxSupport(setting, "6.18.0").advice.slice(0, advice.length)).toEqual(advice);
    }
  });

  test("support() reads this namespace's setting (read only)", () => {
    const report = support();
    expect(report.platform).toBe(process.platform);
    if (process.platform === "linux") {
      expect(typeof report.setting).toBe("number");
      expect(report.client).toBe(((report.setting ?? 0) & 1) !== 0);
      expect(report.server).toBe(((report.setting ?? 0) & 2) !== 0);
    }
  });
});

describe("bad options are refused before any fd exists", () => {
  const ok: ConnectOptions = { hostname: "127.0.0.1", port: 9, socket: { data() {} } };
  const cases: Array<[string, unknown, ErrorConstructor]> = [
    ["no options", null, TypeError],
    ["hostname not a string", { ...ok, hostname: 42 }, TypeError],
    ["port 0", { ...ok, port: 0 }, RangeError],
    ["port 65536", { ...ok, port: 65536 }, RangeError],
    ["port not an integer", { ...ok, port: 80.5 }, RangeError],
    ["port a string", { ...ok, port: "80" }, TypeError],
    ["no socket handlers", { ...ok, socket: undefined }, TypeError],
    ["neither data nor drain", { ...ok, socket: { open() {} } }, TypeError],
    ["a handler not a function", { ...ok, socket: { data: 1 } }, TypeError],
    ["payload a number", { ...ok, payload: 5 }, TypeError],
    ["payload with tls", { ...ok, payload: "x", tls: true }, TypeError],
    ["connectTimeout negative", { ...ok, connectTimeout: -1 }, RangeError],
    ["connectTimeout beyond the 2^31-1 ms a timer takes", { ...ok, connectTimeout: 2 ** 31 }, RangeError],
    ["attemptDelay beyond the 2^31-1 ms a timer takes", { ...ok, attemptDelay: 2 ** 31 }, RangeError],
    ["connectTimeout not a number", { ...ok, connectTimeout: "1" }, TypeError],
    ["signal not an AbortSignal", { ...ok, signal: {} }, TypeError],
    ["fastOpen not a boolean", { ...ok, fastOpen: 1 }, TypeError],
    ["lazy not a boolean", { ...ok, lazy: "yes" }, TypeError],
    ["tls a string", { ...ok, tls: "yes" }, TypeError],
    ["bad IPv6 literal", { ...ok, hostname: "fe80::1%nosuchif0" }, RangeError],
  ];
  // Let closes still in flight from earlier tests (the sockets of the tests
  // above, a scenario's stdio) land before the counts below.
  beforeAll(async () => {
    await settledFdCount();
  });
  for (const [name, options, type] of cases) {
    test(name, async () => {
      const before = openFds();
      await expect(connect(options as ConnectOptions)).rejects.toThrow(type);
      expect(openFds()).toBe(before);
    });
  }

  test("connectError is called with the error before the promise rejects", async () => {
    const seen: string[] = [];
    const failing = () => Promise.reject(new Error("no DNS here"));
    const promise = connect({
      hostname: "nowhere.example",
      port: 80,
      lookup: failing,
      socket: { data() {}, connectError: (_s, e) => void seen.push((e as { code?: string }).code ?? "") },
    });
    await expect(promise).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(seen).toEqual(["ENOTFOUND"]);
  });

  test("listen: fastOpen out of range throws RangeError, and no listener is left", () => {
    const before = openFds();
    expect(() => listen({ hostname: "127.0.0.1", port: 0, fastOpen: -1, socket: { data() {} } })).toThrow(RangeError);
    expect(() => listen({ hostname: "127.0.0.1", port: 0, fastOpen: 1.5, socket: { data() {} } })).toThrow(RangeError);
    expect(openFds()).toBe(before);
  });

  test("listen reports the real bound port and its TFO queue (default 256, 0 disables)", () => {
    const on = listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const off = listen({ hostname: "127.0.0.1", port: 0, fastOpen: 0, socket: { data() {} } });
    try {
      expect(on.port).toBeGreaterThan(0);
      expect(on.hostname).toBe("127.0.0.1");
      expect(on.fastOpen).toBe(256);
      expect(off.fastOpen).toBe(0);
      expect(off.port).not.toBe(on.port);
    } finally {
      on.stop(true);
      off.stop(true);
    }
  });

  test("fastOpenStatus needs a socket", () => {
    expect(() => fastOpenStatus(null as unknown as Socket<undefined>)).toThrow(TypeError);
  });
});
