/**
 * The test-side runner of every scenario script: each run in a fresh private
 * network namespace (loopback MTU 1500, so one MSS is Ethernet's), with
 * `net.ipv4.tcp_fastopen` set there only.
 */
import { runScenario } from "./netns.ts";

/** The port whose SYNs to ::1 the Happy Eyeballs case drops (its server listens on 127.0.0.1). */
export const EYEBALLS_PORT = 8099;

/** One MSS of the scenarios' loopback (MTU 1500, IPv6 with timestamps: 1428; IPv4: 1448). */
export const ONE_MSS = 1428;

/**
 * What one SYN carries there: the MSS without options (MTU less the IP and
 * TCP headers) less the 40 B Linux keeps for options (tcp_send_syn_data).
 */
export const SYN_ROOM_6 = 1400;
/** See `SYN_ROOM_6`: IPv4. */
export const SYN_ROOM_4 = 1420;

/** Runs `script` (a path) with `args` where `net.ipv4.tcp_fastopen` is `tcpFastopen`; returns its report. */
export function runScenarioCase<T>(
  script: string,
  args: string[],
  tcpFastopen = 3,
  setup: string[] = [],
): T & { case: string } {
  const result = runScenario<T & { case: string }>(script, args, {
    sysctl: { tcp_fastopen: String(tcpFastopen) },
    setup: ["ip link set lo mtu 1500", ...setup],
    timeoutMs: 50_000,
  });
  return result.report;
}
