/**
 * Issue #9: the package as a user gets it. `npm pack` (prepack builds the
 * five libraries and the declarations), `bun add` of the tarball into a
 * project outside the repository under a PATH with Bun and no Zig, no
 * FASTOPEN_LIB, no zig-out; then the consumer app's TFO exchange, proven by
 * TCP_INFO and the TcpExt counters, run as installed, as a `bun build
 * --target=bun` bundle moved elsewhere, and as a `bun build --compile`
 * executable moved elsewhere (also: its $TMPDIR must allow exec).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { namespaceSuite } from "../support/netns-suite.ts";
import {
  appReport,
  cleanup,
  consumerEnvironment,
  consumerProject,
  execute,
  moveAway,
  must,
  packedTarball,
  ROOT,
  runInNamespace,
  scratch,
} from "./common.ts";
import { expectTfoExchange } from "./expect.ts";

const suite = namespaceSuite("ship.install");
const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "freebsd-x64"];
const made: string[] = [];

/** Runs `body` with the project's node_modules renamed away: a bundle or executable must not need it. */
function withoutNodeModules<T>(project: string, body: () => T): T {
  const modules = join(project, "node_modules");
  renameSync(modules, `${modules}.away`);
  try {
    return body();
  } finally {
    renameSync(`${modules}.away`, modules);
  }
}

/** A scratch folder removed after the file's tests. */
function temporary(name: string): string {
  const dir = scratch(name);
  made.push(dir);
  return dir;
}

afterAll(() => cleanup(...made));

suite("the packed tarball", () => {
  let files: string[];
  beforeAll(() => {
    files = must(["tar", "tzf", packedTarball()]).trim().split("\n");
  }, 300_000);

  test("carries a library for every target, the declarations, and no build output", () => {
    for (const target of TARGETS) {
      const file = target.startsWith("darwin") ? "libfastopen.dylib" : "libfastopen.so";
      expect(files).toContain(`package/prebuilt/${target}/${file}`);
    }
    expect(files).toContain("package/dist/index.d.ts");
    expect(files).toContain("package/dist/lowlevel.d.ts");
    expect(files.filter((f) => /zig-out|zig-cache|\.toolchain|node_modules|\/test\//.test(f))).toEqual([]);
  }, 60_000);

  test("ships no source that git ignores (it would be missing from a fresh clone)", () => {
    const list = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "src", "zig", "include"];
    const tracked = new Set(must(list, { cwd: ROOT }).trim().split("\n"));
    const sources = files.map((f) => f.slice("package/".length)).filter((f) => /^(src|zig|include)\//.test(f));
    expect(sources.length).toBeGreaterThan(40);
    expect(sources.filter((f) => !tracked.has(f))).toEqual([]);
  }, 60_000);
});

suite("installed with bun add, no toolchain", () => {
  let project: string;
  beforeAll(() => {
    project = consumerProject();
    made.push(project);
  }, 300_000);

  test("the consumer has Bun on its PATH, but no Zig, no FASTOPEN_LIB, and the package has no zig-out", () => {
    const env = consumerEnvironment();
    expect(execute(["sh", "-c", "command -v bun"], { env }).status).toBe(0);
    expect(execute(["sh", "-c", "command -v zig"], { env }).status).not.toBe(0);
    expect(env.FASTOPEN_LIB).toBeUndefined();
    expect(existsSync(join(project, "node_modules", "fastopen", "zig-out"))).toBe(false);
  }, 60_000);

  test("the app's second connection carries its data in the SYN, with the package's linux-x64 library", () => {
    const report = appReport(runInNamespace(["bun", "main.ts"], { cwd: project }));
    expect(report.libraries).toEqual([
      join(project, "node_modules", "fastopen", "prebuilt", "linux-x64", "libfastopen.so"),
    ]);
    expectTfoExchange(report, "x64");
  }, 60_000);

  test("the installed `fastopen` command runs its demo (4 connections, 3 with data in the SYN)", () => {
    const outcome = runInNamespace([join(project, "node_modules", ".bin", "fastopen"), "demo", "--host", "--json"], {
      cwd: project,
    });
    expect(outcome.status).toBe(0);
    const report = JSON.parse(outcome.stdout.trim().split("\n").pop() ?? "{}") as {
      totals: Record<string, number>;
      fellBack: boolean;
    };
    expect(report.fellBack).toBe(false);
    expect(report.totals).toMatchObject({ TCPFastOpenActive: 3, TCPFastOpenPassive: 3, TCPFastOpenCookieReqd: 1 });
  }, 60_000);

  test("a `bun build --target=bun` bundle moved to another folder passes the same exchange", () => {
    const out = join(temporary("bundle"), "bundle");
    must(["bun", "build", "--target=bun", "main.ts", "--outdir", out], { cwd: project, env: consumerEnvironment() });
    const bundle = moveAway(out, "bundle-moved");
    made.push(join(bundle, "..", ".."));
    // Every target's library sits beside the bundle; the x64 one is loaded from there.
    expect(readdirSync(bundle).filter((f) => f.startsWith("libfastopen-")).length).toBe(TARGETS.length);
    const report = withoutNodeModules(project, () =>
      appReport(runInNamespace(["bun", join(bundle, "main.js")], { cwd: "/" })),
    );
    expect(report.libraries.length).toBe(1);
    expect(report.libraries[0]?.startsWith(`${bundle}/libfastopen-`)).toBe(true);
    expectTfoExchange(report, "x64");
  }, 60_000);

  test("a `bun build --compile` executable moved elsewhere passes it, its library extracted into $TMPDIR", () => {
    const exe = join(temporary("compile"), "app");
    must(["bun", "build", "--compile", "main.ts", "--outfile", exe], { cwd: project, env: consumerEnvironment() });
    const moved = moveAway(exe, "compile-moved");
    made.push(join(moved, "..", ".."));
    const tmp = temporary("tmpdir");
    const env = { ...consumerEnvironment(), PATH: "/usr/sbin:/usr/bin:/sbin:/bin", TMPDIR: tmp };
    const report = withoutNodeModules(project, () => appReport(runInNamespace([moved], { cwd: "/", env })));
    expect(report.libraries.length).toBe(1);
    expect(report.libraries[0]?.startsWith(`${tmp}/.bun-`)).toBe(true);
    expectTfoExchange(report, "x64");
  }, 60_000);

  test("a compiled executable whose $TMPDIR is mounted noexec fails with an error that says so", () => {
    const exe = join(temporary("noexec"), "app");
    must(["bun", "build", "--compile", "main.ts", "--outfile", exe], { cwd: project, env: consumerEnvironment() });
    const tmp = temporary("noexec-tmp");
    const env = { ...consumerEnvironment(), TMPDIR: tmp };
    const outcome = runInNamespace([exe], {
      cwd: "/",
      env,
      mounts: true,
      setup: [`mount -t tmpfs -o noexec tmpfs ${tmp}`],
    });
    expect(outcome.status).not.toBe(0);
    expect(outcome.stderr).toContain("failed to map segment");
    expect(outcome.stderr).toContain("fastopen: cannot load /$bunfs/");
    expect(outcome.stderr).toContain("$TMPDIR must allow exec");
  }, 60_000);
});
