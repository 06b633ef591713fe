/**
 * Link-local: TFO to `fe80::...%iface` over a veth pair between two
 * private namespaces (client namespace and server namespace), each with
 * tcp_fastopen=3. `parseIp6("fe80::5%<veth>")` must resolve the interface name
 * to its index inside the namespace the scenario runs in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import type { FastOpenCounters, KernelFastOpenStatus } from "../../src/lowlevel.ts";
import { netnsUnavailable } from "../support/netns.ts";
import { currentNetns, PARENT_NETNS_ENV, pattern, sha256 } from "./common.ts";

function ipNetnsUnavailable(): string | null {
  const probe = spawnSync("ip", ["netns", "list"], { stdio: "ignore" });
  return probe.status === 0 ? null : "`ip netns` (iproute2) is not usable here";
}

const unavailable = netnsUnavailable() ?? ipNetnsUnavailable();
if (unavailable !== null) console.log(`core.linklocal: skipped: ${unavailable}`);

const SCRIPT = join(import.meta.dir, "linklocal.scenario.ts");
const tag = `${process.pid % 1_000_000}`;
const CLIENT_NS = `fo-core-${tag}-c`;
const SERVER_NS = `fo-core-${tag}-s`;
const CLIENT_IF = `foc${tag}`;
const SERVER_IF = `fos${tag}`;
const CLIENT_ADDR = "fe80::c";
const SERVER_ADDR = "fe80::5";
const SIZES = [64, 64, 3000];
const env = { ...process.env, [PARENT_NETNS_ENV]: currentNetns() };

interface ClientConnection {
  length: number;
  returned: number;
  error: string | null;
  pollEvents: number;
  connected: number;
  status: KernelFastOpenStatus | null;
  delta: FastOpenCounters;
  local: string;
  remote: string;
  echoed: number;
}
interface ServerConnection {
  peer: string;
  status: KernelFastOpenStatus | null;
  received: number;
  sha256: string;
  delta: FastOpenCounters;
}
interface Report<C> {
  scopeId: number;
  connections: C[];
}

function ip(...args: string[]): string {
  const run = spawnSync("ip", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

/** The interface index as `ip` reports it ("7: name@peer: ..."), independent of parseIp6. */
function ifindex(ns: string, name: string): number {
  return Number(ip("-n", ns, "-o", "link", "show", name).split(":")[0]);
}

function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split("\n").pop() ?? "") as T;
}

let server: ChildProcess | undefined;
let serverReport: Report<ServerConnection>;
let clientReport: Report<ClientConnection>;
let serverPort = 0;

async function startServer(): Promise<{ done: Promise<string> }> {
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      SERVER_NS,
      process.execPath,
      SCRIPT,
      "server",
      `${SERVER_ADDR}%${SERVER_IF}`,
      String(SIZES.length),
    ],
    { env },
  );
  server = child;
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolve, reject) => {
    // "close", not "exit": once the stdio pipes are closed too, so no fd of this test outlives it.
    child.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`server exited ${code}:\n${stdout}\n${stderr}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const first = stdout.split("\n")[0] ?? "";
      if (serverPort === 0 && stdout.includes("\n")) {
        serverPort = (JSON.parse(first) as { port: number }).port;
        resolve();
      }
    });
    done.catch(reject);
  });
  return { done };
}

describe.skipIf(unavailable !== null)("link-local TFO over veth between two namespaces", () => {
  beforeAll(async () => {
    ip("netns", "add", CLIENT_NS);
    ip("netns", "add", SERVER_NS);
    ip("link", "add", CLIENT_IF, "netns", CLIENT_NS, "type", "veth", "peer", "name", SERVER_IF, "netns", SERVER_NS);
    for (const [ns, dev, address] of [
      [CLIENT_NS, CLIENT_IF, CLIENT_ADDR],
      [SERVER_NS, SERVER_IF, SERVER_ADDR],
    ] as const) {
      ip("-n", ns, "link", "set", "lo", "up");
      // No automatic address (it would go through DAD); ours skips DAD with nodad.
      ip("-n", ns, "link", "set", dev, "addrgenmode", "none");
      ip("-n", ns, "addr", "add", `${address}/64`, "dev", dev, "nodad");
      ip("-n", ns, "link", "set", dev, "up");
      ip("netns", "exec", ns, "sh", "-c", "echo 3 > /proc/sys/net/ipv4/tcp_fastopen");
    }
    // veth carrier comes up once both ends are up; wait for it (a hang guard, not a measurement).
    for (let i = 0; i < 100 && !ip("-n", CLIENT_NS, "link", "show", CLIENT_IF).includes("LOWER_UP"); i++)
      Bun.sleepSync(50);
    const { done } = await startServer();
    const client = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        CLIENT_NS,
        process.execPath,
        SCRIPT,
        "client",
        `${SERVER_ADDR}%${CLIENT_IF}`,
        String(serverPort),
        ...SIZES.map(String),
      ],
      { env, encoding: "utf8", timeout: 30_000 },
    );
    if (client.status !== 0) throw new Error(`client failed (${client.status}):\n${client.stdout}\n${client.stderr}`);
    clientReport = lastJson(client.stdout);
    serverReport = lastJson(await done);
  });

  afterAll(() => {
    if (server !== undefined && server.exitCode === null) server.kill();
    for (const ns of [CLIENT_NS, SERVER_NS]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  });

  test("parseIp6 resolves the interface name to its index inside each namespace", () => {
    expect(clientReport.scopeId).toBe(ifindex(CLIENT_NS, CLIENT_IF));
    expect(serverReport.scopeId).toBe(ifindex(SERVER_NS, SERVER_IF));
    expect(clientReport.scopeId).toBeGreaterThan(1);
  });

  test("the connection uses the link-local addresses with the scope ids", () => {
    for (const c of clientReport.connections) {
      expect(c.remote).toBe(`${SERVER_ADDR}%${clientReport.scopeId}`);
      expect(c.local).toBe(`${CLIENT_ADDR}%${clientReport.scopeId}`);
    }
    for (const s of serverReport.connections) expect(s.peer).toBe(`${CLIENT_ADDR}%${serverReport.scopeId}`);
  });

  test("the first connection only fetches a cookie", () => {
    const [c, s] = [clientReport.connections[0]!, serverReport.connections[0]!];
    expect(c.returned).toBe(-1);
    expect(c.error).toBe("EINPROGRESS");
    expect(c.status).toMatchObject({ sent: false, acked: false, reason: "no-cookie" });
    expect(c.delta).toMatchObject({ TCPFastOpenActive: 0, TCPFastOpenActiveFail: 0 });
    expect(s.status).toMatchObject({ sent: false, acked: false });
    // The server counts the cookie request, in its own namespace.
    expect(s.delta).toMatchObject({ TCPFastOpenCookieReqd: 1, TCPFastOpenPassive: 0 });
  });

  test("later connections carry the data in the SYN, proven on both ends", () => {
    for (let i = 1; i < SIZES.length; i++) {
      const [c, s] = [clientReport.connections[i]!, serverReport.connections[i]!];
      expect(c.returned).toBeGreaterThan(0);
      expect(c.returned).toBeLessThanOrEqual(SIZES[i]!);
      expect(c.status).toMatchObject({ sent: true, acked: true, reason: "none" });
      expect(s.status).toMatchObject({ sent: true, acked: true });
      expect(c.delta).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenActiveFail: 0 });
      expect(s.delta).toMatchObject({ TCPFastOpenPassive: 1, TCPFastOpenPassiveFail: 0, TCPFastOpenCookieReqd: 0 });
    }
    // 3000 bytes do not fit in one SYN over a 1500-byte MTU: the rest went with socketSend.
    expect(clientReport.connections[2]!.returned).toBeLessThan(3000);
  });

  test("the server receives exactly the bytes, nothing lost or doubled", () => {
    SIZES.forEach((size, i) => {
      const s = serverReport.connections[i]!;
      expect(s.received).toBe(size);
      expect(s.sha256).toBe(sha256(pattern(size, i + 1)));
      expect(clientReport.connections[i]!.echoed).toBe(0);
    });
  });
});
