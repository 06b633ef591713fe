/**
 * The test side of the client scenarios (see common.ts): the same checks for
 * every client, each run of a scenario in its own private network namespace
 * with `net.ipv4.tcp_fastopen=0x403` (TFO on every listener, so the
 * unmodified Debian servers take SYN data). That a request rode in the SYN
 * is proven by the client socket's TCP_INFO (`fastOpenStatus`) and by exact
 * TcpExt deltas (TCPFastOpenActive at the client, TCPFastOpenPassive at the
 * server; both ends are in the namespace).
 */
import { beforeAll, expect, test } from "bun:test";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { ClientReport, Round } from "./common.ts";

/** TFO client and server, and TFO on every listener (the servers set no TCP_FASTOPEN of their own). */
const ALL_LISTENERS = 0x403;

/** A scenario's run: clients that retry (node-redis: 5 connects of 1.5 s to the SYN-dropping port) take a while. */
const SCENARIO_TIMEOUT_MS = 45_000;

/** How the client's first flight behaves. */
export interface ClientExpectations {
  /** The client writes first (default): from the 2nd connection on its first request rides in the SYN. */
  clientFirst?: boolean;
  /** Arguments after the case name (`all`). */
  args?: string[];
}

/** The round's request rode in the SYN of every connection the hook made, and the server took it. */
export function expectInSyn(r: Round): void {
  expect(r.error).toBeNull();
  expect(r.sockets.length).toBeGreaterThan(0);
  for (const s of r.sockets) {
    expect(s.status).toMatchObject({ sent: true, acked: true, reason: "none" });
    expect(s.status!.bytesInSyn).toBeGreaterThan(0);
  }
  const n = r.sockets.length;
  expect(r.counters).toMatchObject({ TCPFastOpenActive: n, TCPFastOpenPassive: n, TCPFastOpenCookieReqd: 0 });
}

/** Runs `scenario`'s `all` case once and checks it with the common tests. */
export function clientSuite(label: string, scenario: string, expectations: ClientExpectations = {}): void {
  const suite = namespaceSuite(`clients.${label}`);
  suite(`${label} through its fastopen hook, against a real server`, () => {
    let r: ClientReport;
    beforeAll(() => {
      r = runScenarioCase<ClientReport>(scenario, ["all", ...(expectations.args ?? [])], ALL_LISTENERS);
    }, SCENARIO_TIMEOUT_MS);

    test("a real request gets the right answer, every round", () => {
      for (const round of r.rounds) {
        expect(round.error).toBeNull();
        expect(round.reply).toBe(r.expected);
      }
    });

    test("the first connection asks for the cookie; nothing rides in its SYN", () => {
      const first = r.rounds[0]!;
      expect(first.counters.TCPFastOpenActive).toBe(0);
      expect(first.counters.TCPFastOpenPassive).toBe(0);
      if (expectations.clientFirst !== false) expect(first.counters.TCPFastOpenCookieReqd).toBeGreaterThan(0);
      for (const s of first.sockets) expect(s.status?.bytesInSyn ?? 0).toBe(0);
    });

    if (expectations.clientFirst === false) {
      test("the server speaks first: the client still connects, nothing to put in the SYN", () => {
        // Optimistic connect: 'connect' at once, the SYN waits a few turns for a first write, then leaves empty
        // with the cookie (the server counts a TFO connection without data: TCPFastOpenPassive, not Active).
        for (const round of r.rounds.slice(1)) {
          expect(round.reply).toBe(r.expected);
          for (const s of round.sockets)
            expect(s.status).toMatchObject({ sent: false, reason: "no-data", bytesInSyn: 0 });
          expect(round.counters).toMatchObject({ TCPFastOpenActive: 0, TCPFastOpenPassive: round.sockets.length });
        }
      });
    } else {
      test("from the second connection on, the client's first request rides in the SYN (TCP_INFO, TcpExt)", () => {
        for (const round of r.rounds.slice(1)) expectInSyn(round);
      });
    }

    test("after a server restart the client reconnects and gets the right answer", () => {
      expect(r.restart.before).toBe(r.expected);
      expect(r.restart.error).toBeNull();
      expect(r.restart.after).toBe(r.expected);
    });

    test("50 connections: every answer right, no fd left behind", () => {
      expect(r.many.ok).toBe(r.many.count);
      expect(r.many.fdsAfter).toBe(r.many.fdsBefore);
      if (expectations.clientFirst !== false) expect(r.many.counters.TCPFastOpenPassive).toBe(r.many.count);
    });

    test("ECONNREFUSED reaches the client as an error", () => {
      expect(r.refused.sockets).toBeGreaterThan(0);
      expect(r.refused.error).not.toBeNull();
      const seen = [`${r.refused.error!.code} ${r.refused.message}`, ...r.refused.emitted].join("\n");
      expect(seen).toMatch(/ECONNREFUSED|refused/i);
    });

    test("a server whose SYNs are dropped (cookie known) reaches the client as an error within its timeout", () => {
      expect(r.dropped.sockets).toBeGreaterThan(0);
      expect(r.dropped.error).not.toBeNull();
      const seen = [`${r.dropped.error!.code} ${r.dropped.message}`, ...r.dropped.emitted].join("\n");
      expect(seen).toMatch(/ETIMEDOUT|timeout|timed out/i);
    });
  });
}
