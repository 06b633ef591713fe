/**
 * `connect()` and `listen()` over loopback, each case in its own
 * private network namespace. TFO claims are proven by the client's and the
 * server's TCP_INFO (via `fastOpenStatus`) and by exact TcpExt counter
 * deltas: a connect + write fallback fails these tests.
 */
import { beforeAll, expect, test } from "bun:test";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { EYEBALLS_PORT, ONE_MSS, runScenarioCase } from "../support/run.ts";
import type { Outcome } from "./connect.scenario.ts";

const suite = namespaceSuite("async.connect");

/**
 * The first connection to a server: no cookie yet, so the SYN only asked for one; everything arrived after the
 * handshake.
 */
function expectCookieFetch(o: Outcome): void {
  expect(o.delivered).toBe(true);
  expect(o.client.sent).toBe(false);
  expect(o.client.reason).toBe("no-cookie");
  expect(o.counters.TCPFastOpenCookieReqd).toBe(1);
  expect(o.counters.TCPFastOpenActive).toBe(0);
  expect(o.counters.TCPFastOpenPassive).toBe(0);
}

/** Data rode in the SYN and the server took it: both ends' TCP_INFO and the counters say so. */
function expectTfo(o: Outcome): void {
  expect(o.delivered).toBe(true);
  expect(o.client).toMatchObject({ sent: true, acked: true, reason: "none" });
  expect(o.server?.acked).toBe(true);
  expect(o.counters.TCPFastOpenActive).toBe(1);
  expect(o.counters.TCPFastOpenPassive).toBe(1);
  expect(o.counters.TCPFastOpenCookieReqd).toBe(0);
}

for (const hostname of ["::1", "127.0.0.1"]) {
  suite(`connect() with a payload to ${hostname}`, () => {
    let outcomes: Outcome[];
    beforeAll(() => {
      outcomes = runScenarioCase<{ outcomes: Outcome[] }>(`${import.meta.dir}/connect.scenario.ts`, [
        "payload",
        hostname,
      ]).outcomes;
    });

    test("the first connection fetches a cookie and delivers the payload after the handshake", () => {
      expectCookieFetch(outcomes[0]!);
      expect(outcomes[0]!.client.bytesAfterHandshake).toBe(outcomes[0]!.size);
    });

    test("the second connection carries the whole payload in the SYN, acked by the listen() server", () => {
      expectTfo(outcomes[1]!);
      expect(outcomes[1]!.client.bytesInSyn).toBe(outcomes[1]!.size);
      expect(outcomes[1]!.client.mode).toBe("syn-data");
    });
  });
}

suite("lazy connect: the first write in open rides in the SYN", () => {
  let outcomes: Outcome[];
  beforeAll(() => {
    outcomes = runScenarioCase<{ outcomes: Outcome[] }>(`${import.meta.dir}/connect.scenario.ts`, ["lazy"]).outcomes;
  });

  test("first connection: cookie request, write delivered after the handshake", () => {
    expectCookieFetch(outcomes[0]!);
  });

  test("second connection: the write from open went in the SYN and was acked", () => {
    expectTfo(outcomes[1]!);
    expect(outcomes[1]!.client.mode).toBe("lazy");
  });
});

suite("lazy connect to a server that speaks first, client never writing", () => {
  let result: { greetings: string[]; statuses: FastOpenStatus[] };
  beforeAll(() => {
    result = runScenarioCase<typeof result>(`${import.meta.dir}/connect.scenario.ts`, ["serverFirst"]);
  });

  test("the greeting arrives on both connections (the idle lazy SYN is sent, no hang)", () => {
    expect(result.greetings).toEqual(["220 hello\r\n", "220 hello\r\n"]);
  });

  test("with a cookie the SYN left empty and says so", () => {
    expect(result.statuses[0]!.reason).toBe("no-cookie");
    expect(result.statuses[1]).toMatchObject({ sent: false, reason: "no-data", mode: "lazy" });
  });
});

const SIZES = [0, 1, ONE_MSS, 64 * 1024, 1024 * 1024];

suite("byte-exact delivery of 0 B, 1 B, one MSS, 64 KiB, 1 MiB", () => {
  test("TFO on both ends: every size delivered, each non-empty payload starting in the SYN", () => {
    const { outcomes } = runScenarioCase<{ outcomes: Outcome[] }>(`${import.meta.dir}/connect.scenario.ts`, [
      "sizes",
      "256",
      "on",
      ...SIZES.map(String),
    ]);
    expect(outcomes.map((o) => o.size)).toEqual(SIZES);
    for (const o of outcomes) {
      expect(o.delivered).toBe(true);
      expect(o.receivedBytes).toBe(o.size);
      expect(o.client.bytesInSyn + o.client.bytesAfterHandshake).toBe(o.size);
      if (o.size === 0) {
        expect(o.client.reason).toBe("not-attempted");
        continue;
      }
      expectTfo(o);
      expect(o.client.bytesInSyn).toBeGreaterThan(0);
    }
    // One MSS and more do not fit in a SYN: the rest went after the handshake, in order.
    for (const o of outcomes.filter((x) => x.size >= ONE_MSS)) expect(o.client.bytesAfterHandshake).toBeGreaterThan(0);
  });

  test("server without TFO (listen fastOpen: 0): every size delivered after the handshake", () => {
    const { outcomes } = runScenarioCase<{ outcomes: Outcome[] }>(`${import.meta.dir}/connect.scenario.ts`, [
      "sizes",
      "0",
      "on",
      ...SIZES.map(String),
    ]);
    for (const o of outcomes) {
      expect(o.delivered).toBe(true);
      expect(o.receivedBytes).toBe(o.size);
      expect(o.client.sent).toBe(false);
      expect(o.counters.TCPFastOpenPassive).toBe(0);
      expect(o.client.bytesAfterHandshake).toBe(o.size);
    }
  });

  test("client fastOpen: false: plain connect, every size delivered", () => {
    const { outcomes } = runScenarioCase<{ outcomes: Outcome[] }>(`${import.meta.dir}/connect.scenario.ts`, [
      "sizes",
      "256",
      "off",
      ...SIZES.map(String),
    ]);
    for (const o of outcomes) {
      expect(o.delivered).toBe(true);
      expect(o.client).toMatchObject({ sent: false, reason: "not-attempted", mode: "plain" });
      expect(o.counters.TCPFastOpenActive + o.counters.TCPFastOpenCookieReqd).toBe(0);
    }
  });

  test("client TFO disabled by the namespace (tcp_fastopen=2): fallback, every size delivered", () => {
    const { outcomes } = runScenarioCase<{ outcomes: Outcome[] }>(
      `${import.meta.dir}/connect.scenario.ts`,
      ["sizes", "256", "on", ...SIZES.map(String)],
      2,
    );
    for (const o of outcomes) {
      expect(o.delivered).toBe(true);
      expect(o.receivedBytes).toBe(o.size);
      expect(o.client.sent).toBe(false);
      expect(o.client.reason).toBe(o.size === 0 ? "not-attempted" : "disabled");
      expect(o.counters.TCPFastOpenActive).toBe(0);
    }
  });
});

suite("hostname resolution and address fallback", () => {
  test('"localhost" through Bun\'s DNS reaches a 127.0.0.1-only server, with and without a payload', () => {
    const { results } = runScenarioCase<{ results: Array<{ remoteAddress: string; delivered: boolean }> }>(
      `${import.meta.dir}/connect.scenario.ts`,
      ["localhost"],
    );
    expect(results).toEqual([
      { remoteAddress: "127.0.0.1", delivered: true },
      { remoteAddress: "127.0.0.1", delivered: true },
      { remoteAddress: "127.0.0.1", delivered: true },
    ]);
  });

  for (const mode of ["payload", "lazy"]) {
    test(`Happy Eyeballs with data in the SYN (${mode}): ::1 drops SYNs, 127.0.0.1 gets the first ` +
      `flight in its SYN exactly once, within 1 s`, () => {
      const o = runScenarioCase<{
        ms: number;
        opens: number;
        remoteAddress: string;
        client: FastOpenStatus;
        counters: { TCPFastOpenActive: number; TCPFastOpenPassive: number };
        exactlyOnce: boolean;
        fdsBefore: number;
        fdsAfter: number;
      }>(`${import.meta.dir}/connect.scenario.ts`, ["raceFirstFlight", mode]);
      expect(o.ms).toBeLessThan(1000);
      expect(o.remoteAddress).toBe("127.0.0.1");
      expect(o.opens).toBe(1);
      expect(o.exactlyOnce).toBe(true);
      expect(o.client).toMatchObject({ sent: true, acked: true, reason: "none" });
      expect(o.counters.TCPFastOpenActive).toBe(1);
      expect(o.counters.TCPFastOpenPassive).toBe(1);
      expect(o.fdsAfter).toBe(o.fdsBefore);
    }, 20_000);
  }

  test("Happy Eyeballs: an address that drops SYNs loses to the next one, and its fd is closed", () => {
    const setup = [`ip6tables -A INPUT -p tcp --dport ${EYEBALLS_PORT} --syn -j DROP`];
    const result = runScenarioCase<{ remoteAddress: string; fdsBefore: number; fdsAfter: number }>(
      `${import.meta.dir}/connect.scenario.ts`,
      ["happyEyeballs"],
      3,
      setup,
    );
    expect(result.remoteAddress).toBe("127.0.0.1");
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});
