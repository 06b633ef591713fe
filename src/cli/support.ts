/**
 * `fastopen support`: which kinds of TFO this host (on Linux: this network
 * namespace) allows, from `support()`, with advice for each missing piece.
 *
 * Exit codes: 0 client and server TFO are on; 3 one of them is off; 1 the
 * setting cannot be read (unknown state, or a platform without TFO).
 */

import { support as readSupport, type SupportReport } from "../support.ts";
import { type Command, takeFlag, UsageError, unknownOption } from "./args.ts";

/** Exit code of `fastopen support` for a report (see the module comment). */
export function supportExitCode(report: SupportReport): number {
  if (report.setting === null) return 1;
  return report.client && report.server ? 0 : 3;
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}

/** The report as text lines. */
export function formatSupport(report: SupportReport): string[] {
  const name =
    report.platform === "linux"
      ? "net.ipv4.tcp_fastopen"
      : report.platform === "darwin"
        ? "net.inet.tcp.fastopen"
        : "setting";
  const setting = report.setting === null ? "unreadable" : `${report.setting} (0x${report.setting.toString(16)})`;
  const lines = [
    `${report.platform}: ${name} = ${setting}`,
    `  client TFO (data in the SYN)         ${yesNo(report.client)}`,
    `  server TFO (listeners take SYN data)  ${yesNo(report.server)}`,
    `  lazy connect (TLS ClientHello in SYN) ${yesNo(report.lazy)}`,
    `  client without cookie                 ${yesNo(report.noCookie)}`,
    `  server without cookie                 ${yesNo(report.serverNoCookie)}`,
    `  per-listener keys (fastOpen.keys)     ${yesNo(report.keys)}`,
  ];
  if (report.advice.length > 0) lines.push("advice:", ...report.advice.map((line) => `  - ${line}`));
  return lines;
}

/** The `support` command. */
export const support: Command = {
  summary: "show which kinds of TFO this host (network namespace) allows, with advice",
  usage: [
    "fastopen support [--json]",
    "  --json  print the report as JSON: { platform, setting, client, server, lazy,",
    "          noCookie, serverNoCookie, keys, refusedUntil, advice, exitCode }",
    "exit codes: 0 client and server TFO on; 3 either is off; 1 state unknown",
  ].join("\n"),
  run(args) {
    const json = takeFlag(args, "--json");
    const unknown = unknownOption(args);
    if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}`);
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
    const report = readSupport();
    const exitCode = supportExitCode(report);
    console.log(json ? JSON.stringify({ ...report, exitCode }) : formatSupport(report).join("\n"));
    return exitCode;
  },
};
