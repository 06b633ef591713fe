/**
 * `connectStart` (src/connect-native.ts, the FFI export fo_connect_start that
 * `connect()` uses): bad input is refused with EINVAL/EAFNOSUPPORT before any
 * fd exists, and over IPv6 and IPv4 the payload rides in the SYN of the
 * second connection, proven by both ends' TCP_INFO and the TcpExt counters;
 * no fd is left open.
 */
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runScenario } from "../support/netns.ts";
import { namespaceSuite } from "../support/netns-suite.ts";

const suite = namespaceSuite("async.start");

interface Bad {
  fd: number;
  error: { code: string; errno: number; syscall: string } | null;
  untouched: boolean;
}
interface Exchange {
  queued: number;
  inProgress: boolean;
  refused: boolean;
  sentAfter: number;
  exact: boolean;
  client: { sent: boolean; acked: boolean; reason: string } | null;
  server: { sent: boolean; acked: boolean } | null;
}
type Counters = Record<string, number>;
interface Report {
  badInput: Record<string, Bad>;
  results: Record<"v6" | "v4", [Exchange, Exchange, Counters]>;
  fdsBefore: number;
  fdsAfter: number;
}

suite("connectStart: socket + TFO connect in one native call", () => {
  let report: Report;
  beforeAll(() => {
    const script = join(import.meta.dir, "start.scenario.ts");
    report = runScenario<Report>(script, [], { sysctl: { tcp_fastopen: "3" } }).report;
  });

  test("bad port, mode or family: -1 with EINVAL; IPv6 address, IPv4 socket: EAFNOSUPPORT (syscall socket)", () => {
    const { port0, port65536, mode3, family5, ipv6OnIpv4Socket } = report.badInput;
    for (const bad of [port0, port65536, mode3, family5]) {
      expect(bad).toEqual({
        fd: -1,
        error: { code: "EINVAL", errno: expect.any(Number), syscall: "socket" },
        untouched: true,
      });
    }
    expect(ipv6OnIpv4Socket).toEqual({
      fd: -1,
      error: { code: "EAFNOSUPPORT", errno: expect.any(Number), syscall: "socket" },
      untouched: true,
    });
  });

  for (const family of ["v6", "v4"] as const) {
    test(`${family}: the first connect fetches a cookie, the second has the whole payload in the SYN, acked`, () => {
      const [first, second, delta] = report.results[family];
      expect(first).toMatchObject({ queued: 0, inProgress: true, refused: false, sentAfter: 100, exact: true });
      expect(first.client?.sent).toBe(false);
      expect(second).toMatchObject({ queued: 100, inProgress: false, refused: false, sentAfter: 0, exact: true });
      expect(second.client).toMatchObject({ sent: true, acked: true });
      expect(second.server).toMatchObject({ acked: true });
      expect(delta.TCPFastOpenCookieReqd).toBe(1);
      expect(delta.TCPFastOpenActive).toBe(1);
      expect(delta.TCPFastOpenPassive).toBe(1);
    });
  }

  test("no fd left open", () => {
    expect(report.fdsAfter).toBe(report.fdsBefore);
  });
});
