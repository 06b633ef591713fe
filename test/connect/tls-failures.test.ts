/**
 * Issue 11.4: `connect({ tls })` must reject when the TLS handshake fails
 * (self-signed without `ca`, a wrong serverName, a server that does not
 * speak TLS) with the error Bun reports (code and message), unless
 * `rejectUnauthorized: false` waives a certificate check; no fd is left.
 * Issue 11.1 with TLS: Happy Eyeballs carries the ClientHello to the next
 * address. Private network namespaces, certificates made here.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCertificate } from "../support/certificate.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase, SYN_ROOM_4 } from "../support/run.ts";
import type { BunReference, EyeballsReport, TlsResult } from "./tls-failures.scenario.ts";

const suite = namespaceSuite("connect.tls-failures");
const SCENARIO = `${import.meta.dir}/tls-failures.scenario.ts`;

let dir: string;
let cert: { cert: string; key: string };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fastopen-tls-failures-"));
  cert = makeCertificate(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

suite("connect({ tls }) when the handshake fails", () => {
  let r: { results: Record<string, { fastopen: TlsResult[]; bun: BunReference }>; fdsBefore: number; fdsAfter: number };
  beforeAll(() => {
    r = runScenarioCase<typeof r>(SCENARIO, ["failures", cert.cert, cert.key]);
  }, 60_000);

  const rejected: Array<[string, string]> = [
    ["self-signed, no ca", "DEPTH_ZERO_SELF_SIGNED_CERT"],
    ["wrong serverName", "ERR_TLS_CERT_ALTNAME_INVALID"],
    ["plain-text server", "EPROTO"],
    ["plain-text server, rejectUnauthorized false", "EPROTO"],
  ];
  for (const [name, code] of rejected) {
    test(`${name}: rejects with ${code} and Bun's message, with and without the ClientHello in the SYN`, () => {
      const { fastopen, bun } = r.results[name]!;
      expect(bun).toMatchObject({ success: false, code });
      for (const result of fastopen) {
        expect(result).toEqual({
          resolved: false,
          code,
          message: bun.message,
          authorized: null,
          authorizationError: null,
        });
      }
    });
  }

  test("self-signed with rejectUnauthorized: false resolves, authorized false with the verification error", () => {
    const { fastopen, bun } = r.results["self-signed, rejectUnauthorized false"]!;
    expect(bun.success).toBe(true);
    for (const result of fastopen) {
      expect(result).toMatchObject({
        resolved: true,
        authorized: false,
        authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT",
      });
    }
  });

  test("no fd is left behind", () => {
    expect(r.fdsAfter).toBe(r.fdsBefore);
  });
});

suite("Happy Eyeballs with TLS", () => {
  test("::1 drops SYNs: 127.0.0.1 gets what fits of the ClientHello in its SYN, one open, no fd left", () => {
    const o = runScenarioCase<EyeballsReport>(SCENARIO, ["eyeballs", cert.cert, cert.key]);
    expect(o.remoteAddress).toBe("127.0.0.1");
    expect(o.authorized).toBe(true);
    expect(o.opens).toBe(1);
    expect(o.received).toBe("ping");
    // Bun's default ClientHello is larger than an IPv4 SYN holds at MTU 1500: the SYN's room rode.
    expect(o.client).toMatchObject({ sent: true, acked: true, reason: "first-flight-too-large", mode: "lazy" });
    expect(o.client.bytesInSyn).toBe(SYN_ROOM_4);
    expect(o.counters.TCPFastOpenActive).toBe(1);
    expect(o.counters.TCPFastOpenPassive).toBe(1);
    expect(o.fdsAfter).toBe(o.fdsBefore);
  }, 40_000);
});
