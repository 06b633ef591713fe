/**
 * Running a program in a private network namespace (`unshare -n`) with
 * loopback up and `net.ipv4` sysctls (TFO) set inside it, never on the
 * host: the CLI demo, the test scenarios, the soak test and the latency
 * benchmark re-run themselves this way.
 */
import { type SpawnSyncOptions, type SpawnSyncReturns, spawnSync } from "node:child_process";

/** What a private namespace gets before the program runs. */
export interface NamespaceSetup {
  /** `net.ipv4.*` sysctls to set inside the namespace, e.g. `{ tcp_fastopen: "3" }`. */
  sysctl?: Record<string, string>;
  /** Shell commands run inside the namespace before the program (iptables rules, ...). */
  setup?: string[];
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Shell lines that bring up loopback and apply `sysctl`, then `setup`, inside the namespace. */
export function namespacePrelude(options: NamespaceSetup): string[] {
  const lines = ["set -e", "ip link set lo up"];
  for (const [name, value] of Object.entries(options.sysctl ?? {})) {
    if (!/^[\w.]+$/.test(name)) throw new RangeError(`bad sysctl name ${name}`);
    lines.push(`echo ${shellQuote(value)} > /proc/sys/net/ipv4/${name.replaceAll(".", "/")}`);
  }
  lines.push(...(options.setup ?? []));
  return lines;
}

/**
 * Runs `argv` in a fresh network namespace set up by `setup` and waits for it;
 * `options` as for `spawnSync` (its output as UTF-8 text). `unshare` needs root
 * (CAP_SYS_ADMIN); its failure shows as a non-zero status.
 */
export function runInNamespace(
  argv: readonly string[],
  setup: NamespaceSetup = {},
  options: SpawnSyncOptions = {},
): SpawnSyncReturns<string> {
  const shell = [...namespacePrelude(setup), 'exec "$@"'].join("\n");
  return spawnSync("unshare", ["-n", "--", "sh", "-c", shell, "netns", ...argv], { ...options, encoding: "utf8" });
}

/**
 * Whether this process may make a private network namespace set up by
 * `setup` (Linux, root, `unshare -n`, the sysctls writable inside it).
 */
export function canUnshare(setup: NamespaceSetup = {}): boolean {
  if (process.platform !== "linux") return false;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return false;
  return runInNamespace(["true"], setup, { stdio: "ignore" }).status === 0;
}

/**
 * Re-runs `bun script ...args` in a private namespace set up by `setup`, its
 * output on this process's, and returns its exit code (non-zero when the
 * namespace cannot be made); null when this process is that re-run (`marker`
 * is set in its environment).
 */
export function rerunInNamespace(
  marker: string,
  script: string,
  args: readonly string[],
  setup: NamespaceSetup,
): number | null {
  if (process.env[marker] === "1") return null;
  const env = { ...process.env, [marker]: "1" };
  return runInNamespace([process.execPath, script, ...args], setup, { stdio: "inherit", env }).status ?? 1;
}
