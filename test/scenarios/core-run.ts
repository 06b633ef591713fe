/**
 * Test-side runner of the loopback core scenarios (core-tfo.ts): one case per
 * fresh private network namespace, with the loopback MTU set to 1500 so that
 * `ONE_MSS` is one MSS there and a SYN's payload capacity is that of Ethernet.
 */
import { join } from "node:path";
import { runScenario } from "../support/netns.ts";
import { currentNetns, PARENT_NETNS_ENV, SCENARIO_DIR } from "./core-common.ts";

/** Runs case `name` of core-tfo.ts in a namespace whose `net.ipv4.tcp_fastopen` is `tcpFastopen`; returns its report. */
export function runCoreCase<T>(name: string, tcpFastopen: number): T {
  const result = runScenario<T & { case: string }>(join(SCENARIO_DIR, "core-tfo.ts"), [name], {
    sysctl: { tcp_fastopen: String(tcpFastopen) },
    setup: ["ip link set lo mtu 1500"],
    env: { [PARENT_NETNS_ENV]: currentNetns() },
  });
  if (result.report.case !== name) throw new Error(`scenario answered for ${result.report.case}, not ${name}`);
  return result.report;
}
