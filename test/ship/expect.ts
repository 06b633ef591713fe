/**
 * What a passing TFO exchange of the consumer app is: the first connection
 * only fetches the cookie, the second carries its payload in the SYN, proven
 * by the namespace's TcpExt counters (exactly one active and one passive TFO
 * open, one cookie request) and, where the kernel report can be read, by
 * TCP_INFO on the client (qemu-user does not emulate TCP_INFO: there the
 * report is "unknown", never a claim).
 */
import { expect } from "bun:test";
import type { AppReport } from "./common.ts";

/** Checks `report` for a TFO exchange; `tcpInfo` false where TCP_INFO cannot be read (qemu-user). */
export function expectTfoExchange(report: AppReport, arch: string, tcpInfo = true): void {
  expect(report.platform).toBe("linux");
  expect(report.arch).toBe(arch);
  expect(report.replies).toEqual(["echo first", "echo second"]);
  expect(report.delta.TCPFastOpenCookieReqd).toBe(1);
  expect(report.delta.TCPFastOpenActive).toBe(1);
  expect(report.delta.TCPFastOpenPassive).toBe(1);
  expect(report.delta.TCPFastOpenActiveFail).toBe(0);
  expect(report.delta.TCPFastOpenPassiveFail).toBe(0);
  const [first, second] = report.statuses;
  expect(second?.bytesInSyn).toBe("second".length);
  if (tcpInfo) {
    expect(first).toMatchObject({ sent: false, acked: false, reason: "no-cookie", bytesInSyn: 0 });
    expect(second).toMatchObject({ sent: true, acked: true, reason: "none" });
  } else {
    expect(first).toMatchObject({ sent: false, acked: false, reason: "unknown" });
    expect(second).toMatchObject({ sent: false, acked: false, reason: "unknown" });
  }
}
