/**
 * Hostname resolution for `connect()`: IPv4 literals, IPv6 literals with an
 * optional `%scope`, and names through Bun's DNS (AAAA and A), ordered for
 * Happy Eyeballs (RFC 8305: address families interleaved, IPv6 first).
 */
import { formatIp6, isIp4, isIp6, parseIp6, unbracket } from "../lowlevel/address.ts";
import { systemError } from "../lowlevel/errors.ts";
import { hostOption } from "./options.ts";

/** One address to try, in the byte form the native layer takes. */
export interface ResolvedAddress {
  /** 16 bytes; IPv4 addresses appear v4-mapped (`::ffff:a.b.c.d`). */
  ip: Uint8Array;
  /** Interface index for link-local IPv6 (`fe80::1%eth0`), else 0. */
  scopeId: number;
  /** 4 or 6. */
  family: 4 | 6;
  /** The address as text (IPv4 dotted quad, IPv6 without brackets). */
  address: string;
}

/** The DNS lookup used by `resolveHost`: Bun's by default, replaceable in tests. */
export type LookupFunction = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const bunLookup: LookupFunction = (hostname) => Bun.dns.lookup(hostname, { family: 0, socketType: "tcp" });

function literal(text: string): ResolvedAddress {
  if (isIp4(text)) {
    const { ip } = parseIp6(text);
    return { ip, scopeId: 0, family: 4, address: text };
  }
  const bare = unbracket(text);
  const { ip, scopeId } = parseIp6(bare);
  const percent = bare.indexOf("%");
  return { ip, scopeId, family: 6, address: percent >= 0 ? bare : formatIp6(ip) };
}

/** True when `hostname` is an IP literal (IPv4, or IPv6 with or without brackets and `%scope`). */
export function isIpLiteral(hostname: string): boolean {
  const bare = unbracket(hostname);
  return isIp4(bare) || isIp6(bare);
}

/**
 * Interleaves the families (RFC 8305 section 4): the first address of the
 * preferred family (IPv6 when the resolver listed one first), then one of the
 * other family, and so on. Duplicates are dropped.
 */
export function interleave(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const seen = new Set<string>();
  const unique = addresses.filter((a) => !seen.has(a.address) && seen.add(a.address) !== undefined);
  const first = unique[0]?.family ?? 6;
  const preferred = unique.filter((a) => a.family === first);
  const other = unique.filter((a) => a.family !== first);
  const ordered: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(preferred.length, other.length); i++) {
    if (i < preferred.length) ordered.push(preferred[i]!);
    if (i < other.length) ordered.push(other[i]!);
  }
  return ordered;
}

/**
 * The addresses to try for `hostname`, in order. Literals are parsed without
 * DNS (an IPv6 scope may be an interface name or index); names go through
 * `lookup` (Bun's DNS). Throws a TypeError for a non-string, a RangeError for
 * a malformed literal or scope, and rejects with a SystemError
 * (`code: "ENOTFOUND"`, `syscall: "getaddrinfo"`) when the name has no
 * address.
 */
export async function resolveHost(hostname: string, lookup: LookupFunction = bunLookup): Promise<ResolvedAddress[]> {
  hostOption("hostname", hostname);
  if (isIpLiteral(hostname) || hostname.includes("%")) return [literal(hostname)];
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = await lookup(hostname);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const error = systemError("ENOTFOUND", "getaddrinfo", {
      message: `getaddrinfo ENOTFOUND ${hostname}${typeof code === "string" ? ` (${code})` : ""}`,
    });
    Object.assign(error, { hostname, cause });
    throw error;
  }
  const addresses = answers.filter((a) => isIp4(a.address) || isIp6(a.address)).map((a) => literal(a.address));
  if (addresses.length === 0) {
    throw Object.assign(systemError("ENOTFOUND", "getaddrinfo", { message: `getaddrinfo ENOTFOUND ${hostname}` }), {
      hostname,
    });
  }
  return interleave(addresses);
}
