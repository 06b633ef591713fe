/**
 * `connect({ tls })` to a local TLS 1.3 `listen()` server in a
 * private network namespace. With a cookie, the lazy connect puts the
 * ClientHello in the SYN: proven by both ends' TCP_INFO and the counters.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCertificate } from "../support/certificate.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { TlsOutcome } from "./tls.scenario.ts";

const suite = namespaceSuite("async.tls");

suite("TLS 1.3 over TFO: the ClientHello rides in the SYN", () => {
  let dir: string;
  let connections: TlsOutcome[];
  let identities: Array<{ hostname: string; authorized: boolean; error: string | null; code: string | null }>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "fastopen-tls-"));
    const { cert, key } = makeCertificate(dir);
    ({ connections, identities } = runScenarioCase<{ connections: TlsOutcome[]; identities: typeof identities }>(
      `${import.meta.dir}/tls.scenario.ts`,
      [cert, key],
    ));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("every connection completes a verified TLS 1.3 handshake and exchanges data", () => {
    expect(connections).toHaveLength(3);
    for (const c of connections) {
      expect(c.tlsVersion).toBe("TLSv1.3");
      expect(c.authorized).toBe(true);
      expect(c.reply).toBe("pong");
      expect(c.serverReceived).toBe("ping");
    }
  });

  test("the first connection only fetches a cookie", () => {
    const first = connections[0]!;
    expect(first.client).toMatchObject({ sent: false, reason: "no-cookie", mode: "lazy" });
    expect(first.counters.TCPFastOpenCookieReqd).toBe(1);
    expect(first.counters.TCPFastOpenPassive).toBe(0);
  });

  test("later connections (with and without a handshake handler) put the ClientHello in the SYN, acked", () => {
    for (const c of connections.slice(1)) {
      expect(c.client).toMatchObject({ sent: true, acked: true, reason: "none", mode: "lazy" });
      expect(c.server?.acked).toBe(true);
      expect(c.counters.TCPFastOpenActive).toBe(1);
      expect(c.counters.TCPFastOpenPassive).toBe(1);
    }
  });

  test("the certificate is checked against the hostname when no serverName is given (a mismatch rejects)", () => {
    expect(identities.map((i) => [i.hostname, i.authorized, i.code])).toEqual([
      ["localhost", true, null],
      ["127.0.0.1", true, null],
      ["127.0.0.2", false, "ERR_TLS_CERT_ALTNAME_INVALID"],
    ]);
    expect(identities[2]!.error).toContain("127.0.0.2");
  });
});
