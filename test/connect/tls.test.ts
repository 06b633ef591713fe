/**
 * `connect({ tls })` to a local TLS 1.3 `listen()` server in a private
 * network namespace (loopback MTU 1500). With a cookie, the lazy connect puts
 * the ClientHello in the SYN, as much of it as the SYN holds: proven by both
 * ends' TCP_INFO and the counters; `bytesInSyn`/`bytesAfterHandshake` say how
 * it split, checked against the ClientHello's size as a plain server reads
 * it and the SYN's room as a payload connect measures it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { type ConnectionRecord, fastOpenStatus, registerConnection } from "../../src/connect/status.ts";
import type { KernelFastOpenStatus } from "../../src/lowlevel/status.ts";
import { makeCertificate } from "../support/certificate.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase, SYN_ROOM_4, SYN_ROOM_6 } from "../support/run.ts";
import type { TlsOutcome } from "./tls.scenario.ts";
import type { FlightReport, FlightSetting } from "./tls-flight.scenario.ts";

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
      // Bun's default ClientHello (about 1,470 B) is larger than an IPv6 SYN holds at MTU 1500 (1,400 B).
      expect(c.client).toMatchObject({ sent: true, acked: true, reason: "first-flight-too-large", mode: "lazy" });
      expect(c.client.bytesInSyn).toBe(SYN_ROOM_6);
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

/** Each setting of the docs' TLS choice, over IPv6 and IPv4, with a cookie known (tls-flight.scenario.ts). */
suite("the ClientHello and the SYN at MTU 1500: what rode, what waited, and why", () => {
  let dir: string;
  const reports: Record<4 | 6, FlightReport> = {} as Record<4 | 6, FlightReport>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "fastopen-tls-flight-"));
    const { cert, key } = makeCertificate(dir);
    for (const family of [6, 4] as const) {
      const script = `${import.meta.dir}/tls-flight.scenario.ts`;
      reports[family] = runScenarioCase<FlightReport>(script, ["flight", cert, key, String(family)]);
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const setting = (family: 4 | 6, name: string): FlightSetting => {
    const found = reports[family].settings.find((s) => s.setting === name);
    if (found === undefined) throw new Error(`no setting ${name}`);
    return found;
  };

  /** Every connection exchanged data, its SYN data acknowledged by both ends' reports and the counters. */
  const expectSynDataAcked = (s: FlightSetting): void => {
    expect(s.connections).toHaveLength(2);
    for (const c of s.connections) {
      expect([c.reply, c.serverReceived]).toEqual(["pong", "ping"]);
      expect(c.client).toMatchObject({ sent: true, acked: true, mode: "lazy" });
      expect(c.client.kernel).toMatchObject({ sent: true, acked: true });
      expect(c.server?.acked).toBe(true);
      expect(c.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1, TCPFastOpenActiveFail: 0 });
    }
  };

  for (const family of [6, 4] as const) {
    const room = family === 6 ? SYN_ROOM_6 : SYN_ROOM_4;

    test(`IPv${family}: a SYN holds ${room} B here (a 4000 B payload's bytesInSyn)`, () => {
      expect(reports[family].synRoom).toBe(room);
    });

    test(`IPv${family}, default: ${room} B of the ClientHello rode, the rest waited: first-flight-too-large`, () => {
      const s = setting(family, "default");
      expect(s.helloBytes).toBeGreaterThan(room);
      expectSynDataAcked(s);
      for (const { client } of s.connections) {
        expect(client.reason).toBe("first-flight-too-large");
        expect(client.bytesInSyn).toBe(room);
        expect(client.bytesAfterHandshake).toBe(s.helloBytes - room);
      }
    });

    for (const name of ["x25519", "pq-tls13"]) {
      test(`IPv${family}, ${name}: the whole ClientHello rode in the SYN (bytesInSyn = its size)`, () => {
        const s = setting(family, name);
        expect(s.helloBytes).toBeLessThanOrEqual(room);
        expectSynDataAcked(s);
        for (const { client } of s.connections) {
          expect(client).toMatchObject({ reason: "none", bytesInSyn: s.helloBytes, bytesAfterHandshake: 0 });
        }
      });
    }

    test(`IPv${family}: post-quantum only against a server without the group rejects with the TLS error`, () => {
      const m = reports[family].mismatch;
      expect(m).toMatchObject({ resolved: false, code: "EPROTO" });
      expect(m.message).toContain("HANDSHAKE_FAILURE");
      expect(m.message).toContain('tls.ecdhCurve is "X25519MLKEM768"');
      expect(m.fdsAfter).toBe(m.fdsBefore);
    });
  }

  test("the sizes: the default is post-quantum and larger than a SYN, the other two fit", () => {
    const sizes = Object.fromEntries(reports[6].settings.map((s) => [s.setting, s.helloBytes]));
    expect(sizes.default).toBeGreaterThan(SYN_ROOM_4);
    expect(sizes.x25519).toBeLessThan(300);
    expect(sizes["pq-tls13"]).toBeGreaterThan(1200);
    expect(Object.fromEntries(reports[4].settings.map((s) => [s.setting, s.helloBytes]))).toEqual(sizes);
  });
});

/** The reason from a closed connection's record (no fd is read): how the TLS split is judged. */
describe("fastOpenStatus: the reason of a TLS connection from its record", () => {
  const kernel = (sent: boolean, acked: boolean, reason: KernelFastOpenStatus["reason"]): KernelFastOpenStatus => ({
    known: true,
    sent,
    acked,
    established: true,
    reason,
    state: 1,
  });
  const status = (fields: Partial<ConnectionRecord>, last = kernel(true, true, "none")) => {
    const socket = { readyState: -1 } as unknown as Socket<undefined>;
    const record: ConnectionRecord = {
      fd: -1,
      mode: "lazy",
      attempted: true,
      refused: false,
      bytesInSyn: 0,
      bytesAfterHandshake: 0,
      last,
      closed: true,
      ...fields,
    };
    registerConnection(socket, record);
    return fastOpenStatus(socket);
  };

  test("measured, a part waited for the handshake: first-flight-too-large, with the split", () => {
    const s = status({ tlsFlight: "measured", bytesInSyn: 1400, bytesAfterHandshake: 72 });
    expect(s).toMatchObject({ sent: true, acked: true, reason: "first-flight-too-large", bytesInSyn: 1400 });
    expect(s.bytesAfterHandshake).toBe(72);
  });

  test("measured, all of it in the SYN: none", () => {
    expect(status({ tlsFlight: "measured", bytesInSyn: 246 }).reason).toBe("none");
  });

  test("the split not measured (or still pending): unknown, never a claim that it fitted", () => {
    expect(status({ tlsFlight: "unmeasured" }).reason).toBe("unknown");
    expect(status({ tlsFlight: "pending" }).reason).toBe("unknown");
  });

  test("the kernel's own reasons win: no cookie, data not acknowledged", () => {
    const noCookie = status({ tlsFlight: "measured", bytesAfterHandshake: 1472 }, kernel(false, false, "no-cookie"));
    expect(noCookie.reason).toBe("no-cookie");
    const notAcked = status({ tlsFlight: "measured", bytesInSyn: 1400 }, kernel(true, false, "data-not-acked"));
    expect(notAcked.reason).toBe("data-not-acked");
  });

  test("a connection without TLS (no tlsFlight) acknowledged in the SYN: none, as before", () => {
    expect(status({ mode: "syn-data", bytesInSyn: 1400, bytesAfterHandshake: 600 }).reason).toBe("none");
  });
});
