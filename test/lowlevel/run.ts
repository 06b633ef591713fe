/**
 * Test-side runner of the loopback low-level scenarios (tfo.scenario.ts): one
 * case per fresh private network namespace, loopback MTU 1500 so that
 * `ONE_MSS` is one MSS there and a SYN's payload capacity is that of Ethernet.
 */
import { join } from "node:path";
import { runScenarioCase } from "../support/run.ts";

const SCRIPT = join(import.meta.dir, "tfo.scenario.ts");

/** Runs case `name` of tfo.scenario.ts where `net.ipv4.tcp_fastopen` is `tcpFastopen`; returns its report. */
export function runCoreCase<T>(name: string, tcpFastopen: number): T {
  const report = runScenarioCase<T>(SCRIPT, [name], tcpFastopen);
  if (report.case !== name) throw new Error(`scenario answered for ${report.case}, not ${name}`);
  return report;
}
