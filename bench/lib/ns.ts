/**
 * Network namespaces for the benchmarks: private ones with TFO enabled for
 * loopback runs, and a client/server pair joined by the delay relay. All are
 * named `fob<pid>-...`, removed on exit (also on Ctrl-C), and every sysctl is
 * written inside them: the host's are never touched.
 */
import { spawnSync } from "node:child_process";
import type { Subprocess } from "bun";
import { parseNetstat } from "../../src/lowlevel/netstat.ts";
import { LineReader } from "./proc.ts";

const created = new Set<string>();
const children = new Set<Subprocess>();

/** Runs `ip <args>`; throws with its stderr when it fails. */
export function ip(...args: string[]): string {
  const run = spawnSync("ip", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${run.stderr.trim()}`);
  return run.stdout;
}

/** Sysctls every benchmark namespace gets: TFO on both sides, room for short connections. */
export const BENCH_SYSCTLS: Record<string, string> = {
  "net/ipv4/tcp_fastopen": "3",
  "net/ipv4/ip_local_port_range": "1024 65535",
  "net/ipv4/tcp_tw_reuse": "1",
};

/** Creates namespace `name` with loopback up and `sysctls` (paths under /proc/sys) set inside it. */
export function createNamespace(name: string, sysctls: Record<string, string> = BENCH_SYSCTLS): string {
  ip("netns", "add", name);
  created.add(name);
  ip("-n", name, "link", "set", "lo", "up");
  for (const [path, value] of Object.entries(sysctls)) {
    if (!/^[\w/]+$/.test(path)) throw new RangeError(`bad sysctl path ${path}`);
    const run = spawnSync("ip", ["netns", "exec", name, "sh", "-c", `echo '${value}' > /proc/sys/${path}`], {
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`sysctl ${path}=${value} in ${name} failed: ${run.stderr.trim()}`);
  }
  return name;
}

/** Deletes a namespace made by `createNamespace` (its processes must have exited). */
export function deleteNamespace(name: string): void {
  if (!created.delete(name)) return;
  spawnSync("ip", ["netns", "del", name]);
}

/** A unique namespace name for this run. */
export function namespaceName(tag: string): string {
  return `fob${process.pid}-${tag}`;
}

/** Starts `command` inside namespace `ns` with piped stdin/stdout; stderr is inherited. */
export function spawnIn(
  ns: string,
  command: string[],
  env: Record<string, string> = {},
): Subprocess<"pipe", "pipe", "inherit"> {
  const child = Bun.spawn(["ip", "netns", "exec", ns, ...command], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...env },
  });
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** Closes a child's stdin (the bench programs exit on it) and waits; kills it after `graceMs`. */
export async function stopChild(child: Subprocess<"pipe", "pipe", "inherit">, graceMs = 3000): Promise<number> {
  try {
    await child.stdin.end();
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/** The TcpExt counters (/proc/net/netstat) of a namespace. */
export function tcpExtIn(ns: string): Record<string, number> {
  const run = spawnSync("ip", ["netns", "exec", ns, "cat", "/proc/net/netstat"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`reading /proc/net/netstat in ${ns} failed: ${run.stderr.trim()}`);
  return parseNetstat(run.stdout).TcpExt ?? {};
}

/** `after - before` of the TFO counters. */
export function tfoDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const name of Object.keys(after))
    if (name.startsWith("TCPFastOpen")) delta[name] = after[name]! - (before[name] ?? 0);
  return delta;
}

/** Kills the children still running and removes every namespace this process made. */
export function cleanupAll(): void {
  for (const child of children) child.kill("SIGKILL");
  for (const name of [...created]) deleteNamespace(name);
}

let hooked = false;
/** Makes sure namespaces are removed when the process ends or is interrupted. */
export function installCleanup(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanupAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      cleanupAll();
      process.exit(130);
    });
  }
}

/** Two namespaces joined by the delay relay (which runs in a third one). */
export interface Wire {
  client: string;
  server: string;
  clientIp: string;
  serverIp: string;
  /** Stops the relay (its stderr line reports forwarded/dropped packets) and removes the namespaces. */
  close(): Promise<void>;
}

/**
 * Builds client ns <-> relay <-> server ns with `delayUs` one-way delay: the
 * relay opens both TUN devices in its own namespace, then each device is
 * moved into its side and given an address (fd00::1 client, fd00::2 server).
 * FASTOPEN_BENCH_TRACE=1 makes the relay print every TCP packet on stderr.
 */
export async function makeWire(tag: string, relayPath: string, delayUs: number): Promise<Wire> {
  const relayNs = createNamespace(namespaceName(`${tag}r`), {});
  const client = createNamespace(namespaceName(`${tag}c`));
  const server = createNamespace(namespaceName(`${tag}s`));
  const trace = process.env.FASTOPEN_BENCH_TRACE === "1" ? ["trace"] : [];
  // Real-time priority (when chrt is there) keeps the relay on time on a busy machine.
  const chrt = spawnSync("chrt", ["--version"], { stdio: "ignore" }).status === 0 ? ["chrt", "-f", "10"] : [];
  const relay = spawnIn(relayNs, [...chrt, relayPath, "fobc", "fobs", String(delayUs), ...trace]);
  const close = async (): Promise<void> => {
    await stopChild(relay);
    for (const ns of [client, server, relayNs]) deleteNamespace(ns);
  };
  try {
    const lines = new LineReader(relay.stdout);
    const first = await lines.next(5000);
    if (first !== "ready") throw new Error(`relay did not start (said ${JSON.stringify(first)})`);
    ip("-n", relayNs, "link", "set", "fobc", "netns", client);
    ip("-n", relayNs, "link", "set", "fobs", "netns", server);
    const sides: Array<[string, string, string]> = [
      [client, "fobc", "fd00::1/64"],
      [server, "fobs", "fd00::2/64"],
    ];
    for (const [ns, dev, address] of sides) {
      // No link-local address, router solicitations or DAD: only the benchmark's packets cross.
      ip("-n", ns, "link", "set", dev, "addrgenmode", "none");
      ip("-n", ns, "addr", "add", address, "dev", dev, "nodad");
      ip("-n", ns, "link", "set", dev, "up");
    }
    return { client, server, clientIp: "fd00::1", serverIp: "fd00::2", close };
  } catch (error) {
    await close();
    throw error;
  }
}
