/**
 * Runs scenario scripts inside private network namespaces that the test
 * creates (`unshare -n`), so TFO sysctls are set there and never on the host.
 *
 * A scenario is a Bun script that prints one JSON object as its last stdout
 * line; `runScenario` returns it parsed.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { type NamespaceSetup, runInNamespace } from "../../src/cli/netns.ts";

/** Environment variable through which a test tells its scenarios the network namespace the test runs in. */
export const PARENT_NETNS_ENV = "FASTOPEN_TEST_PARENT_NETNS";

/** The identity of this process's network namespace (`net:[inode]`). */
export function currentNetns(): string {
  return readlinkSync("/proc/self/ns/net");
}

/**
 * Guard of every scenario script: scenarios read namespace-wide counters and
 * set namespace sysctls, so they refuse to run unless they are in a namespace
 * other than the test's.
 */
export function assertPrivateNetns(): void {
  const parent = process.env[PARENT_NETNS_ENV];
  if (parent === undefined || parent === "" || parent === currentNetns()) {
    throw new Error(`scenarios run only in a private network namespace made by the test (${PARENT_NETNS_ENV})`);
  }
}

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "network namespaces need root";
  const probe = spawnSync("unshare", ["-n", "true"], { stdio: "ignore" });
  if (probe.status !== 0) return "`unshare -n` failed (no CAP_SYS_ADMIN or no util-linux)";
  return null;
}

/** Options of one scenario run: the namespace's sysctls and setup commands, and how the script runs. */
export interface ScenarioOptions extends NamespaceSetup {
  /** Kill the scenario after this long (default 30 s). */
  timeoutMs?: number;
  /** Extra environment for the script. */
  env?: Record<string, string>;
}

/** The result of a scenario: its JSON report, exit code and output. */
export interface ScenarioResult<T> {
  report: T;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bun <script> <args...>` in a fresh network namespace (telling it the
 * test's own through PARENT_NETNS_ENV) and parses the last stdout line as JSON. Throws with the scenario's output
 * when it fails.
 */
export function runScenario<T>(script: string, args: string[] = [], options: ScenarioOptions = {}): ScenarioResult<T> {
  const run = runInNamespace([process.execPath, script, ...args], options, {
    timeout: options.timeoutMs ?? 30_000,
    env: { ...process.env, [PARENT_NETNS_ENV]: currentNetns(), ...options.env },
  });
  const stdout = run.stdout ?? "";
  const stderr = run.stderr ?? "";
  const last = stdout.trim().split("\n").pop() ?? "";
  if (run.status !== 0 || !last.startsWith("{")) {
    throw new Error(
      `scenario ${script} ${args.join(" ")} failed (status ${run.status}, signal ${run.signal}):\n${stdout}\n${stderr}`,
    );
  }
  return { report: JSON.parse(last) as T, status: run.status, stdout, stderr };
}

/** Number of open fds of this process (Linux /proc/self/fd, read in-process: no child pipes counted). */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * The fd count once it has held still (three equal reads 25 ms apart; at most
 * about 3 s). For a baseline: closes started just before (the server side of a
 * warm-up connection, a stopped listener, a spawn's stdio, which the runtime
 * closes on another thread) land a moment later, so a plain read may count them.
 */
export async function settledFdCount(): Promise<number> {
  let last = openFdCount();
  let still = 0;
  for (let i = 0; i < 120 && still < 3; i++) {
    await Bun.sleep(25);
    const now = openFdCount();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * The fd count once the closes in flight have landed: waits (at most about
 * 3 s) until it is back down to `before`, then until it holds still. A leaked
 * fd still shows: the count stays above `before`.
 */
export async function fdCountBackTo(before: number): Promise<number> {
  for (let i = 0; i < 300 && openFdCount() > before; i++) await Bun.sleep(10);
  return settledFdCount();
}
