/**
 * Issue 11.7, `listen()`: Unix sockets are refused with a message saying so,
 * and where the host's server TFO is off (bit 0x2 of net.ipv4.tcp_fastopen,
 * set in a private network namespace) the listener says so
 * (`serverFastOpen: false`) and the process is warned once.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { listen } from "../../src/listen.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";

const suite = namespaceSuite("listen.checks");

interface HostReport {
  listeners: Array<{ fastOpen: number; serverFastOpen: boolean | null }>;
  warnings: Array<{ code: unknown; message: string }>;
  reasons: string[];
  counters: FastOpenCounters;
}

describe("listen() options", () => {
  test("{ unix } throws a TypeError saying Unix sockets are not supported, and opens nothing", () => {
    const before = readdirSync("/proc/self/fd").length;
    const options = { unix: "/tmp/fastopen-listen-checks.sock", socket: { data() {} } };
    expect(() => listen(options as unknown as Parameters<typeof listen>[0])).toThrow(/Unix sockets are not supported/);
    expect(() => listen(options as unknown as Parameters<typeof listen>[0])).toThrow(TypeError);
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });
});

suite("listen() where the host's server TFO is off or on", () => {
  test("server bit off (tcp_fastopen=1): serverFastOpen false, one FASTOPEN_SERVER_OFF warning, no cookie", () => {
    const r = runScenarioCase<HostReport>(`${import.meta.dir}/listen-checks.scenario.ts`, ["host"], 1);
    expect(r.listeners).toEqual([
      { fastOpen: 256, serverFastOpen: false },
      { fastOpen: 256, serverFastOpen: false },
      { fastOpen: 0, serverFastOpen: false },
    ]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.code).toBe("FASTOPEN_SERVER_OFF");
    expect(r.warnings[0]!.message).toContain("server TFO is off");
    // What the flag says is what clients see: the server never grants a cookie.
    expect(r.reasons).toEqual(["no-cookie", "no-cookie"]);
    expect(r.counters.TCPFastOpenCookieReqd).toBe(2);
    expect(r.counters.TCPFastOpenPassive).toBe(0);
  });

  test("server bit on (tcp_fastopen=3): serverFastOpen true, no warning, the 2nd payload rides in the SYN", () => {
    const r = runScenarioCase<HostReport>(`${import.meta.dir}/listen-checks.scenario.ts`, ["host"], 3);
    expect(r.listeners.map((l) => l.serverFastOpen)).toEqual([true, true, true]);
    expect(r.warnings).toEqual([]);
    expect(r.reasons).toEqual(["no-cookie", "none"]);
    expect(r.counters.TCPFastOpenPassive).toBe(1);
  });
});
