/**
 * Address helpers: text <-> the `[16]u8` / `[4]u8` byte addresses of the C ABI.
 * IPv4 addresses travel on IPv6 sockets as v4-mapped `::ffff:a.b.c.d`.
 */

import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

/** An IPv6 address with its scope (interface index; 0 when none). */
export interface Ip6Address {
  /** 16 bytes, network order. */
  ip: Uint8Array;
  /** Interface index for link-local addresses, else 0. */
  scopeId: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses dotted-quad IPv4 into 4 bytes; throws TypeError/RangeError on bad input. */
export function parseIp4(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError(`ip must be a string, got ${typeof text}`);
  if (!IPV4.test(text)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return Uint8Array.from(text.split(".").map(Number));
}

/** True when `text` is a dotted-quad IPv4 address. */
export function isIp4(text: string): boolean {
  return typeof text === "string" && IPV4.test(text);
}

/** True when `text` parses as an IPv6 address (with an optional `%scope`). */
export function isIp6(text: string): boolean {
  try {
    parseIp6(text, { resolveScope: false });
    return true;
  } catch {
    return false;
  }
}

// `endsAddress`: this part ends the address, the only place a dotted quad may stand.
function parseGroups(part: string, whole: string, endsAddress: boolean): number[] {
  if (part === "") return [];
  const groups: number[] = [];
  const pieces = part.split(":");
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (endsAddress && i === pieces.length - 1 && piece.includes(".")) {
      const v4 = parseIp4(piece);
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      throw new RangeError(`not an IPv6 address: ${JSON.stringify(whole)}`);
    }
  }
  return groups;
}

/** The index of a network interface by name (Linux: /sys/class/net/NAME/ifindex). */
export function interfaceIndex(name: string): number {
  if (typeof name !== "string") throw new TypeError(`interface name must be a string, got ${typeof name}`);
  if (/^\d+$/.test(name)) {
    const index = Number(name);
    if (index > 0xffffffff) throw new RangeError(`interface index out of range: ${name}`);
    return index;
  }
  if (!/^[\w.@-]{1,15}$/.test(name)) throw new RangeError(`bad interface name: ${JSON.stringify(name)}`);
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8").trim());
  } catch {
    const known = Object.keys(networkInterfaces());
    throw new RangeError(`unknown network interface ${JSON.stringify(name)} (known: ${known.join(", ")})`);
  }
}

/** `text` without the brackets of a URL-style IPv6 literal (`[::1]` gives `::1`); other text as it is. */
export function unbracket(text: string): string {
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}

/**
 * Parses an IPv6 address, optionally with `%scope` (an interface name such
 * as `eth0`, resolved to its index, or a number). `"1.2.3.4"` is accepted too
 * and given as v4-mapped.
 */
export function parseIp6(text: string, options: { resolveScope?: boolean } = {}): Ip6Address {
  if (typeof text !== "string") throw new TypeError(`ip must be a string, got ${typeof text}`);
  if (isIp4(text)) return { ip: v4Mapped(parseIp4(text)), scopeId: 0 };
  let address = unbracket(text);
  let scopeId = 0;
  const percent = address.indexOf("%");
  if (percent >= 0) {
    const scope = address.slice(percent + 1);
    if (scope === "") throw new RangeError(`empty scope in ${JSON.stringify(text)}`);
    scopeId = options.resolveScope === false ? 0 : interfaceIndex(scope);
    address = address.slice(0, percent);
  }
  const halves = address.split("::");
  if (halves.length > 2) throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  const head = parseGroups(halves[0]!, text, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, text, true) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) {
    throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  }
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const ip = new Uint8Array(16);
  groups.forEach((group, i) => {
    ip[2 * i] = group >> 8;
    ip[2 * i + 1] = group & 0xff;
  });
  return { ip, scopeId };
}

/** The v4-mapped IPv6 form `::ffff:a.b.c.d` of 4 IPv4 bytes. */
export function v4Mapped(ip4: Uint8Array): Uint8Array {
  if (!(ip4 instanceof Uint8Array) || ip4.byteLength !== 4) throw new TypeError("ip4 must be a Uint8Array of 4 bytes");
  const ip = new Uint8Array(16);
  ip[10] = 0xff;
  ip[11] = 0xff;
  ip.set(ip4, 12);
  return ip;
}

/** True for `::ffff:a.b.c.d`. */
export function isV4Mapped(ip: Uint8Array): boolean {
  if (ip.byteLength !== 16) return false;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** The 4 IPv4 bytes of a v4-mapped address. */
export function v4Unmapped(ip: Uint8Array): Uint8Array {
  if (!isV4Mapped(ip)) throw new RangeError("not a v4-mapped address");
  return ip.slice(12, 16);
}

/** Dotted-quad text of 4 bytes. */
export function formatIp4(ip4: Uint8Array): string {
  if (!(ip4 instanceof Uint8Array) || ip4.byteLength !== 4) throw new TypeError("ip4 must be a Uint8Array of 4 bytes");
  return Array.from(ip4).join(".");
}

/**
 * Canonical (RFC 5952) text of 16 bytes: lower case, longest zero run as `::`,
 * v4-mapped as `::ffff:a.b.c.d`; `%scopeId` appended when non-zero.
 */
export function formatIp6(ip: Uint8Array, scopeId = 0): string {
  if (!(ip instanceof Uint8Array) || ip.byteLength !== 16) throw new TypeError("ip must be a Uint8Array of 16 bytes");
  if (typeof scopeId !== "number") throw new TypeError(`scopeId must be a number, got ${typeof scopeId}`);
  if (!Number.isInteger(scopeId) || scopeId < 0 || scopeId > 0xffffffff)
    throw new RangeError(`scopeId must be in 0..4294967295, got ${scopeId}`);
  const scope = scopeId !== 0 ? `%${scopeId}` : "";
  if (isV4Mapped(ip)) return `::ffff:${formatIp4(ip.subarray(12))}${scope}`;
  const groups = Array.from({ length: 8 }, (_, i) => (ip[2 * i]! << 8) | ip[2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":") + scope;
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}${scope}`;
}
