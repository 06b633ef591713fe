/**
 * Issue 13, `fastopen key`: a fresh random key each run (32 hex digits, or
 * the sysctl's form), the pair `fastOpenKeys()` derives from a secret file,
 * and usage errors (exit 2, the message naming the option). Child
 * processes; nothing touches the network.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fastOpenKeys } from "../../src/keys.ts";
import { keyHex, keySysctl } from "../../src/lowlevel/key.ts";

const CLI = join(import.meta.dir, "../../src/cli/main.ts");
const dir = mkdtempSync(join(tmpdir(), "fastopen-key-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, "key", ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function secretFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SECRET = "a fleet secret of at least 16 bytes";
const SYSCTL = /^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/;

describe("fastopen key", () => {
  test("prints one fresh random key: 32 hex digits, another each run", () => {
    const [a, b] = [cli([]), cli([])];
    expect([a.status, b.status]).toEqual([0, 0]);
    expect(a.stdout).toMatch(/^[0-9a-f]{32}\n$/);
    expect(a.stdout).not.toBe(b.stdout);
  });

  test("--count 3 --sysctl: three distinct keys in the net.ipv4.tcp_fastopen_key form", () => {
    const run = cli(["--count", "3", "--sysctl"]);
    const lines = run.stdout.trim().split("\n");
    expect(run.status).toBe(0);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(SYSCTL);
    expect(new Set(lines).size).toBe(3);
  });

  test("--secret-file --interval --now: the pair fastOpenKeys derives (one trailing newline ignored)", () => {
    const now = 1_700_000_000_000;
    const interval = 86_400_000;
    const k = fastOpenKeys(SECRET, { interval, now });
    const path = secretFile("secret", `${SECRET}\n`);
    const base = ["--secret-file", path, "--interval", String(interval), "--now", String(now)];
    const json = cli([...base, "--json"]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      keys: [keyHex(k.primary), keyHex(k.backup)],
      source: "derived",
      epoch: k.epoch,
      changesAt: k.changesAt,
    });
    expect(cli(base).stdout).toBe(`${keyHex(k.primary)}\n${keyHex(k.backup)}\n`);
    expect(cli([...base, "--sysctl"]).stdout).toBe(`${keySysctl(k.primary)},${keySysctl(k.backup)}\n`);
  });

  const usage: Array<[string, string[], string]> = [
    ["--count 0", ["--count", "0"], "--count must be an integer from 1 to 100, got 0"],
    ["--interval without a secret", ["--interval", "1000"], "--interval needs --secret-file"],
    ["a secret without --interval", ["--secret-file", "/nonexistent"], "--secret-file needs --interval MS"],
    [
      "a missing file",
      ["--secret-file", "/nonexistent/s", "--interval", "1000"],
      "--secret-file /nonexistent/s: ENOENT",
    ],
    ["interval 999", ["--secret-file", "/dev/null", "--interval", "999"], "--interval must be an integer from 1000"],
    ["a stray argument", ["now"], "unexpected argument now"],
    // Issue 11.7: as for probe, an unknown short flag and numbers other than plain decimal digits.
    ["an unknown flag", ["-x"], "unknown option -x"],
    ["--count 1e1", ["--count", "1e1"], "--count must be an integer from 1 to 100, got 1e1"],
    ["--count 0x10", ["--count", "0x10"], "--count must be an integer from 1 to 100, got 0x10"],
    ["--now ' 5'", ["--now", " 5"], "--now must be an integer from 0"],
    [
      "interval 0x3e8",
      ["--secret-file", "/dev/null", "--interval", "0x3e8"],
      '--interval must be an integer in decimal digits, got "0x3e8"',
    ],
  ];
  test.each(usage)("bad usage, %s: exit 2, the message names it", (_title, args, message) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe("");
  });

  test("a secret shorter than 16 bytes: exit 2, never printed", () => {
    const run = cli(["--secret-file", secretFile("short", "tiny secret\n"), "--interval", "1000"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("the secret must be at least 16 bytes, got 11");
    expect(run.stderr).not.toContain("tiny");
  });
});
