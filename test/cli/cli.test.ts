/**
 * The CLI: `fastopen probe` and `fastopen support` run as child
 * processes in private network namespaces against servers started there
 * (test/scenarios/cli-run.ts); the probe's claims are checked against the
 * server's own TCP_INFO and the namespace's TcpExt counters. Usage errors
 * and `--help` need no network and run here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeReport } from "../../src/cli/probe.ts";
import type { SupportReport } from "../../src/support.ts";
import { makeCertificate } from "../support/certificate.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { CLI_DROP_PORT } from "../support/ports.ts";
import { runScenarioCase, SYN_ROOM_4 } from "../support/run.ts";
import type { CliRun } from "./cli.scenario.ts";

const suite = namespaceSuite("cli");

const CLI = join(import.meta.dir, "../../src/cli/main.ts");

function probeJson(run: CliRun): ProbeReport {
  return run.json as ProbeReport;
}

/** The CLI here (no namespace): only for runs that never reach the network. */
function local(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

suite("fastopen probe", () => {
  let r: {
    tfoPort: number;
    custom: CliRun;
    serverReceived: Array<{ bytes: number[]; acked: boolean | null }>;
    again: CliRun;
    noTfo: CliRun;
    refusedData: CliRun;
    refused: CliRun;
    dropped: CliRun;
  };
  beforeAll(() => {
    const iptables = spawnSync("iptables", ["--version"], { stdio: "ignore" });
    if (iptables.status !== 0)
      throw new Error("iptables is needed for the SYN-drop probe: apt-get install -y iptables (npm run setup does)");
    r = runScenarioCase<typeof r>(`${import.meta.dir}/cli.scenario.ts`, ["probe"], 3, [
      `iptables -A INPUT -p tcp --dport ${CLI_DROP_PORT} --syn -j DROP`,
    ]);
  });

  test("a TFO server: exit 0; connection 1 fetched the cookie, connection 2's payload rode in the SYN, acked", () => {
    expect(r.custom.exitCode).toBe(0);
    const report = probeJson(r.custom);
    expect(report).toMatchObject({
      verdict: "fastopen",
      exitCode: 0,
      synDataAcked: true,
      cookieReceived: true,
      payloadBytes: 7,
    });
    expect(report.target).toEqual({ host: "::1", port: r.tfoPort, tls: false });
    const [first, second] = report.connections;
    expect(first).toMatchObject({
      attempt: 1,
      ok: true,
      sent: false,
      acked: false,
      reason: "no-cookie",
      bytesInSyn: 0,
      bytesAfterHandshake: 7,
      address: "::1",
    });
    expect(first!.counters).toMatchObject({ TCPFastOpenCookieReqd: 1, TCPFastOpenActive: 0 });
    expect(second).toMatchObject({
      attempt: 2,
      ok: true,
      sent: true,
      acked: true,
      reason: "none",
      bytesInSyn: 7,
      bytesAfterHandshake: 0,
    });
    expect(second!.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1, TCPFastOpenCookieReqd: 0 });
    for (const c of report.connections) {
      expect(typeof c.ms).toBe("number");
      expect(c.ms!).toBeGreaterThan(0);
    }
    expect(report.host).toMatchObject({ platform: "linux", setting: 3, client: true, server: true });
  });

  test("--payload escapes arrive byte-exact; the server's own TCP_INFO agrees (no SYN data, then SYN data)", () => {
    const ping = [...new TextEncoder().encode("PING\r\n"), 0];
    expect(r.serverReceived.map((s) => s.bytes)).toEqual([ping, ping]);
    expect(r.serverReceived.map((s) => s.acked)).toEqual([false, true]);
  });

  test("text output with a cached cookie: both connections carry the default payload in the SYN", () => {
    expect(r.again.exitCode).toBe(0);
    const lines = r.again.stdout.trim().split("\n");
    expect(lines[0]).toBe(`probe [::1]:${r.tfoPort} with a 51 B payload`);
    expect(lines[1]).toMatch(/^ {2}connection 1 {2}\d+\.\d\d ms {2}::1 {2}51 B in the SYN, acknowledged$/);
    expect(lines[2]).toMatch(/^ {2}connection 2 {2}\d+\.\d\d ms {2}::1 {2}51 B in the SYN, acknowledged$/);
    expect(lines[3]).toBe("TFO works: the server acknowledged data in the SYN (exit 0)");
  });

  test("a server without TFO: exit 3, no cookie ever, the payload delivered after the handshake", () => {
    expect(r.noTfo.exitCode).toBe(3);
    const report = probeJson(r.noTfo);
    expect(report).toMatchObject({ verdict: "no-fastopen", exitCode: 3, synDataAcked: false, cookieReceived: false });
    expect(report.summary).toContain("sent no TFO cookie");
    for (const c of report.connections) {
      expect(c).toMatchObject({
        ok: true,
        sent: false,
        acked: false,
        reason: "no-cookie",
        bytesInSyn: 0,
        bytesAfterHandshake: report.payloadBytes,
      });
      expect(c.counters).toMatchObject({ TCPFastOpenCookieReqd: 1, TCPFastOpenActive: 0 });
    }
  });

  test("a server without TFO at an address with a cookie: exit 3, SYN data sent but not acknowledged", () => {
    expect(r.refusedData.exitCode).toBe(3);
    const report = probeJson(r.refusedData);
    expect(report).toMatchObject({ verdict: "no-fastopen", synDataAcked: false, cookieReceived: true });
    for (const c of report.connections) {
      expect(c).toMatchObject({ ok: true, sent: true, acked: false, reason: "data-not-acked" });
      expect(c.counters).toMatchObject({ TCPFastOpenActiveFail: 1, TCPFastOpenActive: 0 });
    }
  });

  test("a closed port: exit 1, ECONNREFUSED, no second connection", () => {
    expect(r.refused.exitCode).toBe(1);
    const report = probeJson(r.refused);
    expect(report).toMatchObject({ verdict: "unreachable", exitCode: 1 });
    expect(report.connections).toHaveLength(1);
    expect(report.connections[0]).toMatchObject({ ok: false, ms: null, error: { code: "ECONNREFUSED" } });
  });

  test("a peer that drops SYNs: --timeout gives exit 1 with ETIMEDOUT", () => {
    expect(r.dropped.exitCode).toBe(1);
    const report = probeJson(r.dropped);
    expect(report).toMatchObject({ verdict: "unreachable", exitCode: 1 });
    expect(report.connections[0]).toMatchObject({ ok: false, error: { code: "ETIMEDOUT" } });
  });
});

suite("fastopen probe --tls", () => {
  let dir: string;
  let r: { run: CliRun; serverAcked: Array<boolean | null>; plainRuns: CliRun[] };
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test("the 2nd connection's ClientHello rides in the SYN as far as it fits, acked (client, server TCP_INFO)", () => {
    dir = mkdtempSync(join(tmpdir(), "fastopen-cli-tls-"));
    const { cert, key } = makeCertificate(dir);
    r = runScenarioCase<typeof r>(`${import.meta.dir}/cli.scenario.ts`, ["probeTls", cert, key], 3);
    expect(r.run.exitCode).toBe(0);
    const report = probeJson(r.run);
    expect(report).toMatchObject({ verdict: "fastopen", payloadBytes: 0, target: { tls: true } });
    expect(report.connections[0]).toMatchObject({ ok: true, sent: false, reason: "no-cookie" });
    // Bun's default ClientHello is larger than an IPv4 SYN holds at MTU 1500: the SYN's room rode, the rest waited.
    expect(report.connections[1]).toMatchObject({
      ok: true,
      sent: true,
      acked: true,
      reason: "first-flight-too-large",
      bytesInSyn: SYN_ROOM_4,
    });
    expect(report.connections[1]!.bytesAfterHandshake).toBeGreaterThan(0);
    expect(report.summary).toContain("the ClientHello is larger than a SYN holds");
    expect(report.connections[1]!.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
    expect(r.serverAcked).toEqual([false, true]);
  });

  test("a server answering the ClientHello in plain text: exit 1, handshake failed (EPROTO), no 2nd connection", () => {
    const [json, text] = r.plainRuns;
    expect(json!.exitCode).toBe(1);
    const report = probeJson(json!);
    expect(report).toMatchObject({ verdict: "unreachable", exitCode: 1, target: { tls: true } });
    expect(report.connections).toHaveLength(1);
    expect(report.connections[0]).toMatchObject({ ok: false, ms: null, error: { code: "EPROTO" } });
    expect(report.connections[0]!.error!.message).toContain("WRONG_VERSION_NUMBER");
    expect(text!.exitCode).toBe(1);
    expect(text!.stdout).toMatch(/connection 1 {2}failed: EPROTO \(/);
    expect(text!.stdout).not.toContain("acknowledged");
  });
});

suite("fastopen support", () => {
  const cases: Array<[number, number, Partial<SupportReport>]> = [
    [3, 0, { client: true, server: true, lazy: true, noCookie: false }],
    [1, 3, { client: true, server: false }],
    [0, 3, { client: false, server: false, lazy: false }],
    [0x207, 0, { client: true, server: true, noCookie: true, serverNoCookie: true }],
  ];
  for (const [setting, exitCode, expected] of cases) {
    test(`net.ipv4.tcp_fastopen=${setting}: exit ${exitCode}, JSON and text agree`, () => {
      const r = runScenarioCase<{ json: CliRun; text: CliRun }>(
        `${import.meta.dir}/cli.scenario.ts`,
        ["support"],
        setting,
      );
      expect(r.json.exitCode).toBe(exitCode);
      expect(r.text.exitCode).toBe(exitCode);
      const report = r.json.json as SupportReport & { exitCode: number };
      expect(report).toMatchObject({ platform: "linux", setting, exitCode, ...expected });
      expect(r.text.stdout).toContain(`linux: net.ipv4.tcp_fastopen = ${setting} (0x${setting.toString(16)})`);
      expect(r.text.stdout).toContain(`client TFO (data in the SYN)         ${report.client ? "yes" : "no"}`);
      for (const line of report.advice) expect(r.text.stdout).toContain(`  - ${line}`);
      if (!report.client) expect(report.advice.join("\n")).toContain("client TFO is off");
      if (!report.server) expect(report.advice.join("\n")).toContain("server TFO is off");
    });
  }
});

describe("CLI usage (no network)", () => {
  const usage: Array<[string[], RegExp]> = [
    [["probe"], /HOST\[:PORT\] is required/],
    [["probe", "::1", "extra"], /unexpected argument extra/],
    [["probe", "host:http"], /port must be 1\.\.65535, got "http"/],
    [["probe", "host:0"], /port must be 1\.\.65535/],
    [["probe", "[::1"], /missing \]/],
    [["probe", "[::1]x"], /unexpected "x" after \]/],
    [["probe", ":80"], /no host/],
    [["probe", "h", "--tls", "--payload", "x"], /cannot be combined with --tls/],
    [["probe", "h", "--payload", ""], /--payload must not be empty/],
    [["probe", "h", "--payload", "a\\qb"], /unknown escape \\q/],
    [["probe", "h", "--timeout", "0"], /--timeout must be 1\.\.600000 ms/],
    [["probe", "h", "--timeout"], /--timeout needs a value/],
    [["probe", "h", "--bogus"], /unknown option --bogus/],
    [["support", "extra"], /unexpected argument extra/],
    // Issue 11.7: unknown short flags, loose numbers, repeated flags, bad scopes, bare IPv6 with a port.
    [["probe", "-x"], /unknown option -x/],
    [["probe", "h", "-x"], /unknown option -x/],
    [["support", "-x"], /unknown option -x/],
    [["demo", "-x"], /unknown option -x/],
    [["probe", "h", "--timeout", "1e3"], /--timeout must be 1\.\.600000 ms, got "1e3"/],
    [["probe", "h", "--timeout", "0x10"], /--timeout must be 1\.\.600000 ms, got "0x10"/],
    [["probe", "h", "--timeout", " 5"], /--timeout must be 1\.\.600000 ms, got " 5"/],
    [["probe", "h", "--timeout", "5.0"], /--timeout must be 1\.\.600000 ms, got "5\.0"/],
    [["demo", "--count", "1e1"], /--count must be 1\.\.1000, got "1e1"/],
    [["probe", "h", "--json", "--json"], /--json given more than once/],
    [["probe", "h", "--timeout", "5", "--timeout", "6"], /--timeout given more than once/],
    [["probe", "fe80::1%nosuch0"], /unknown network interface "nosuch0"/],
    [["probe", "[fe80::1%nosuch0]:80"], /unknown network interface "nosuch0"/],
    [["probe", "::1:7000"], /an IPv6 literal with a port needs brackets: \[::1\]:7000 for port 7000, \[::1:7000\]/],
    [["probe", "1:2:3:4:5:6:7:8:443"], /an IPv6 literal with a port needs brackets/],
    [["probe", "1:2:3"], /an IPv6 literal with a port needs brackets/],
  ];
  for (const [args, message] of usage) {
    test(`fastopen ${args.join(" ")}: exit 2 with the usage`, () => {
      const run = local(args);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain(`fastopen ${args[0]} `);
      expect(run.stdout).toBe("");
    });
  }

  test("--help everywhere: exit 0 with the usage and the exit codes", () => {
    const top = local(["--help"]);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^ {2}probe {4}connect twice/m);
    expect(top.stdout).toMatch(/^ {2}support {2}show which kinds of TFO/m);
    expect(top.stdout).toContain("3 TFO not working");
    for (const name of ["probe", "support", "demo"]) {
      const help = local([name, "--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toStartWith(`fastopen ${name}`);
    }
    expect(local(["probe", "--help"]).stdout).toContain("3 reachable but no SYN data acknowledged");
    expect(local(["support", "-h"]).stdout).toContain(
      "exit codes: 0 client and server TFO on; 3 either is off; 1 state unknown",
    );
  });
});
