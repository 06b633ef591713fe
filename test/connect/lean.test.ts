/**
 * connect()'s lean path, counted: one kernel report (TCP_INFO) per
 * connection and no connect-state check, whether the handshake is over when
 * the connect call returns (loopback) or comes with Bun's first event (an
 * address of the namespace that is not a loopback address); the user's
 * handlers called with the socket as `this`, as Bun.connect does; `open`
 * before the promise resolves; every payload delivered once; the TFO
 * report final after close; no fd left.
 */
import { beforeAll, expect, test } from "bun:test";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";

const suite = namespaceSuite("connect.lean");

interface Report {
  connections: number;
  reads: { fo_fastopen_status: number; fo_socket_connected: number };
  outcomes: Array<{
    openedBeforeResolve: boolean;
    events: string[];
    thisIsSocket: boolean;
    answer: string;
    status: { sent: boolean; acked: boolean; reason: string; final: boolean };
  }>;
  delivered: boolean[];
  fdsBefore: number;
  fdsAfter: number;
}

for (const [where, setup] of [
  ["loopback", []],
  ["local", ["ip addr add fd00::5/128 dev lo nodad"]],
] as const) {
  const to = where === "loopback" ? "to ::1" : "to a local non-loopback address";
  suite(`connect() with the payload in the SYN, ${to}`, () => {
    let report: Report;
    beforeAll(() => {
      report = runScenarioCase<Report>(`${import.meta.dir}/lean.scenario.ts`, [where], 3, [...setup]);
    });

    test("one TCP_INFO read per connection, no connect-state check", () => {
      expect(report.reads).toEqual({ fo_fastopen_status: report.connections, fo_socket_connected: 0 });
    });

    test("handlers see the socket as `this`; open runs before the promise resolves; events in order", () => {
      for (const o of report.outcomes) {
        expect(o.thisIsSocket).toBe(true);
        expect(o.openedBeforeResolve).toBe(true);
        expect(o.events).toEqual(["open", "data", "end", "close"]);
        expect(o.answer).toBe("pong");
      }
    });

    test("every payload rode in the SYN, was delivered once, and the report is final after close", () => {
      expect(report.delivered).toEqual(Array(report.connections).fill(true));
      for (const o of report.outcomes)
        expect(o.status).toEqual({ sent: true, acked: true, reason: "none", final: true });
      expect(report.fdsAfter).toBe(report.fdsBefore);
    });
  });
}

suite("connect() and the caller's payload buffer", () => {
  test("reused at once after the call: the server gets the bytes given at the call, to a literal and to a name", () => {
    const { results } = runScenarioCase<{ results: Array<{ hostname: string; delivered: boolean }> }>(
      `${import.meta.dir}/lean.scenario.ts`,
      ["reuse"],
    );
    expect(results).toEqual([
      { hostname: "127.0.0.1", delivered: true },
      { hostname: "127.0.0.1", delivered: true },
      { hostname: "localhost", delivered: true },
    ]);
  });
});
