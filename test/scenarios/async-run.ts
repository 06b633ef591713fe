/**
 * Test-side runner of the async scenarios: each run in a fresh private
 * network namespace (loopback MTU 1500, so one MSS is Ethernet's), with
 * `net.ipv4.tcp_fastopen` set there only.
 */
import { readlinkSync } from "node:fs";
import { join } from "node:path";
import { runScenario } from "../support/netns.ts";
import { PARENT_NETNS_ENV } from "./async-common.ts";

/** The port whose SYNs to ::1 the Happy Eyeballs case drops (its server listens on 127.0.0.1). */
export const EYEBALLS_PORT = 8099;

/** One MSS of the scenarios' loopback (MTU 1500, IPv6 with timestamps: 1428; IPv4: 1448). */
export const ONE_MSS = 1428;

/** Runs `script` (in test/scenarios) with `args` where `net.ipv4.tcp_fastopen` is `tcpFastopen`; returns its report. */
export function runAsync<T>(script: string, args: string[], tcpFastopen = 3, setup: string[] = []): T & { case: string } {
  const result = runScenario<T & { case: string }>(join(import.meta.dir, script), args, {
    sysctl: { tcp_fastopen: String(tcpFastopen) },
    setup: ["ip link set lo mtu 1500", ...setup],
    env: { [PARENT_NETNS_ENV]: readlinkSync("/proc/self/ns/net") },
    timeoutMs: 50_000,
  });
  return result.report;
}
