#!/usr/bin/env bun
/**
 * The `fastopen` command line. `fastopen --help` lists the commands.
 *
 * Exit codes: 0 success; 1 the command ran but failed (bytes not delivered,
 * server unreachable, ...); 2 bad usage; 3 reachable/readable but TFO does
 * not work (`probe`: no SYN data acknowledged; `support`: client or server
 * TFO off).
 */
import { type Command, integerOption, takeFlag, takeOption, UsageError, unknownOption } from "./args.ts";
import { formatDemo, runDemo } from "./demo.ts";
import { key } from "./key.ts";
import { canUnshare, type NamespaceSetup, rerunInNamespace } from "./netns.ts";
import { probe } from "./probe.ts";
import { support } from "./support.ts";

export { type Command, takeFlag, takeOption, UsageError };

const IN_NETNS = "FASTOPEN_DEMO_IN_NETNS";
const DEMO_NAMESPACE: NamespaceSetup = { sysctl: { tcp_fastopen: "3" } };

/**
 * Re-runs the demo inside a private network namespace with TFO enabled, when
 * root and `unshare` allow it. Returns the exit code, or null when it cannot.
 */
function demoInPrivateNamespace(args: string[]): number | null {
  if (process.env[IN_NETNS] === "1" || !canUnshare(DEMO_NAMESPACE)) return null;
  if (!args.includes("--json"))
    console.log("(in a private network namespace with net.ipv4.tcp_fastopen=3; --host to stay in this one)");
  return rerunInNamespace(IN_NETNS, import.meta.path, ["demo", ...args], DEMO_NAMESPACE);
}

const demo: Command = {
  summary: "start a TFO listener and make TFO connections to it, showing what rode in the SYN",
  usage: [
    "fastopen demo [--count N] [--host] [--json]",
    "  --count N  connections to make (default 4; the first fetches the cookie)",
    "  --host     stay in this network namespace (default, as root: a private one with",
    "             net.ipv4.tcp_fastopen=3, leaving the host's setting untouched)",
    "  --json     print the report as JSON",
  ].join("\n"),
  run(args) {
    const json = takeFlag(args, "--json");
    const host = takeFlag(args, "--host");
    const count = integerOption("--count", takeOption(args, "--count") ?? "4", 1, 1000);
    const unknown = unknownOption(args);
    if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}`);
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
    if (!host) {
      const forwarded = [...(json ? ["--json"] : []), "--count", String(count)];
      const code = demoInPrivateNamespace(forwarded);
      if (code !== null) return code;
    }
    const report = runDemo(count);
    console.log(json ? JSON.stringify(report) : formatDemo(report).join("\n"));
    return report.connections.every((c) => c.delivered) ? 0 : 1;
  },
};

/** Every command, by name. */
export const commands: Record<string, Command> = { demo, support, probe, key };

function help(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: fastopen <command> [options]   (fastopen <command> --help for its options)",
    "",
    ...lines,
    "",
    "exit codes: 0 ok, 1 failed, 2 bad usage, 3 TFO not working (probe, support)",
  ].join("\n");
}

/** Runs the CLI with `argv` (without the runtime and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`fastopen: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`fastopen ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`fastopen ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
