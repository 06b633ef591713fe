/**
 * Address helpers: parseIp6 / formatIp6 / parseIp4 / formatIp4 /
 * v4Mapped round-trips (RFC 4291 text forms in, RFC 5952 canonical text out)
 * and rejects. Scope names are resolved in the test's own namespace, where
 * `lo` exists on every Linux.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  formatIp4,
  formatIp6,
  interfaceIndex,
  isIp4,
  isIp6,
  isV4Mapped,
  parseIp4,
  parseIp6,
  unbracket,
  v4Mapped,
  v4Unmapped,
} from "../../src/lowlevel.ts";

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const hex = (ip: Uint8Array): string => Buffer.from(ip).toString("hex");

describe("unbracket", () => {
  test("strips one pair of enclosing brackets, nothing else", () => {
    expect(unbracket("[::1]")).toBe("::1");
    expect(unbracket("[fe80::1%lo]")).toBe("fe80::1%lo");
    for (const text of ["::1", "[::1", "::1]", "example.com", "", "[]x"]) expect(unbracket(text)).toBe(text);
    expect(unbracket("[]")).toBe("");
  });
});

describe("parseIp6", () => {
  test.each([
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["1::", "00010000000000000000000000000000"],
    ["2001:db8::1", "20010db8000000000000000000000001"],
    ["2001:DB8:0:0:8:800:200C:417A", "20010db80000000000080800200c417a"],
    ["fe80::1:2", "fe800000000000000000000000010002"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
    ["64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221"],
    ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
    ["[2001:db8::1]", "20010db8000000000000000000000001"],
    ["192.0.2.1", "00000000000000000000ffffc0000201"],
  ])("%s", (text, expected) => {
    const parsed = parseIp6(text);
    expect(hex(parsed.ip)).toBe(expected);
    expect(parsed.scopeId).toBe(0);
    expect(isIp6(text)).toBe(true);
  });

  test("scope: an interface name resolves to its index; a number is taken as is", () => {
    const lo = Number(readFileSync("/sys/class/net/lo/ifindex", "utf8"));
    expect(parseIp6("fe80::1%lo")).toEqual({ ip: parseIp6("fe80::1").ip, scopeId: lo });
    expect(interfaceIndex("lo")).toBe(lo);
    expect(parseIp6("fe80::1%7").scopeId).toBe(7);
    expect(parseIp6("[fe80::1%lo]").scopeId).toBe(lo);
    expect(parseIp6("fe80::1%nosuchif0", { resolveScope: false }).scopeId).toBe(0);
  });

  test.each([
    "",
    ":",
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "12345::",
    "g::1",
    "1:::2",
    ":1::",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "::ffff:1.2.3.256",
    "::ffff:1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4",
    "2001:db8::1 ",
    " ::1",
    "[::1",
    "fe80::1%",
  ])("rejects %p with a RangeError", (text) => {
    expect(() => parseIp6(text)).toThrow(RangeError);
    expect(isIp6(text)).toBe(false);
  });

  test("an unknown interface name is a RangeError naming it", () => {
    expect(() => parseIp6("fe80::1%nosuchif0")).toThrow(/unknown network interface "nosuchif0"/);
    expect(() => parseIp6("fe80::1%bad/name")).toThrow(RangeError);
  });

  test("a non-string is a TypeError", () => {
    for (const value of [undefined, null, 1, new Uint8Array(16)]) {
      expect(() => parseIp6(value as unknown as string)).toThrow(TypeError);
      expect(() => parseIp4(value as unknown as string)).toThrow(TypeError);
    }
  });
});

describe("formatIp6 (RFC 5952)", () => {
  test.each([
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.1"],
    ["fe80:0:0:0:0:0:0:1", "fe80::1"],
  ])("%s -> %s", (text, canonical) => {
    expect(formatIp6(parseIp6(text).ip)).toBe(canonical);
  });

  test("appends a non-zero scope id", () => {
    expect(formatIp6(parseIp6("fe80::1").ip, 3)).toBe("fe80::1%3");
    expect(formatIp6(parseIp6("fe80::1").ip, 0)).toBe("fe80::1");
  });

  test("round-trips random addresses through text", () => {
    let x = 0x2545f491;
    const next = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let i = 0; i < 2000; i++) {
      const ip = new Uint8Array(16);
      // Zero runs of random length so that "::" lands everywhere.
      for (let j = 0; j < 16; j += 2) {
        if (next() % 3 !== 0) {
          ip[j] = next() & 0xff;
          ip[j + 1] = next() & 0xff;
        }
      }
      const text = formatIp6(ip);
      expect(parseIp6(text).ip).toEqual(ip);
      expect(formatIp6(parseIp6(text).ip)).toBe(text);
    }
  });

  test("refuses what is not 16 bytes", () => {
    for (const value of [new Uint8Array(4), new Uint8Array(17), "::1", [0, 0]]) {
      expect(() => formatIp6(value as Uint8Array)).toThrow(TypeError);
    }
  });
});

describe("parseIp4 / formatIp4", () => {
  test.each([
    ["0.0.0.0", [0, 0, 0, 0]],
    ["127.0.0.1", [127, 0, 0, 1]],
    ["255.255.255.255", [255, 255, 255, 255]],
    ["192.0.2.10", [192, 0, 2, 10]],
  ])("%s", (text, values) => {
    expect(parseIp4(text)).toEqual(bytes(...values));
    expect(formatIp4(parseIp4(text))).toBe(text);
    expect(isIp4(text)).toBe(true);
  });

  test.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.-1",
    "01.2.3.4",
    "1.2.3.4 ",
    "1..2.3",
    "a.b.c.d",
    "1.2.3.4/8",
    "::1",
  ])("rejects %p with a RangeError", (text) => {
    expect(() => parseIp4(text)).toThrow(RangeError);
    expect(isIp4(text)).toBe(false);
  });

  test("formatIp4 refuses what is not 4 bytes", () => {
    for (const value of [new Uint8Array(3), new Uint8Array(16), "1.2.3.4"]) {
      expect(() => formatIp4(value as Uint8Array)).toThrow(TypeError);
    }
  });
});

describe("v4-mapped", () => {
  test("v4Mapped / isV4Mapped / v4Unmapped round-trip", () => {
    const ip4 = parseIp4("192.0.2.1");
    const mapped = v4Mapped(ip4);
    expect(hex(mapped)).toBe("00000000000000000000ffffc0000201");
    expect(isV4Mapped(mapped)).toBe(true);
    expect(v4Unmapped(mapped)).toEqual(ip4);
    expect(formatIp6(mapped)).toBe("::ffff:192.0.2.1");
    expect(parseIp6(formatIp6(mapped)).ip).toEqual(mapped);
  });

  test("other addresses are not v4-mapped", () => {
    for (const text of ["::1", "::", "::192.0.2.1", "64:ff9b::192.0.2.1", "::fffe:192.0.2.1", "ffff::c000:201"]) {
      expect(isV4Mapped(parseIp6(text).ip)).toBe(false);
      expect(() => v4Unmapped(parseIp6(text).ip)).toThrow(RangeError);
    }
    expect(isV4Mapped(new Uint8Array(4))).toBe(false);
  });

  test("v4Mapped refuses what is not 4 bytes", () => {
    for (const value of [new Uint8Array(16), new Uint8Array(0), "1.2.3.4"]) {
      expect(() => v4Mapped(value as Uint8Array)).toThrow(TypeError);
    }
  });
});
