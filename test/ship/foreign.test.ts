/**
 * Issue #9: the shipped Linux libraries on the runtimes this machine is not:
 * Bun's musl build (npm, the pinned version) on musl 1.2.5, and Bun's arm64
 * glibc and musl builds under qemu-user (scripts/ship-deps.mjs fetches them
 * all). Each runs the consumer app of the installed package; on musl the
 * core TFO test files also run with the shipped linux-x64 library. qemu-user
 * does not emulate TCP_INFO, so on arm64 the exchange is proven by the
 * TcpExt counters alone and the app's report says "unknown".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { namespaceSuite } from "../support/netns-suite.ts";
import {
  appReport,
  cleanup,
  consumerEnvironment,
  consumerProject,
  execute,
  foreignRuntimes,
  must,
  ROOT,
  type Runtime,
  runInNamespace,
  scratch,
} from "./common.ts";
import { expectTfoExchange } from "./expect.ts";

const suite = namespaceSuite("ship.foreign");
let project: string;
let runtimes: Record<string, Runtime>;
const made: string[] = [];

afterAll(() => cleanup(...made));

/** The command of runtime `name`. */
function runtime(name: string): string[] {
  const found = runtimes[name];
  if (found === undefined) throw new Error(`scripts/ship-deps.mjs made no ${name} runtime`);
  return found.command;
}

/** The installed package's library for `target`. */
function shipped(target: string): string {
  return join(project, "node_modules", "fastopen", "prebuilt", target, "libfastopen.so");
}

suite("the installed package on foreign runtimes", () => {
  beforeAll(() => {
    runtimes = foreignRuntimes();
    project = consumerProject();
    made.push(project);
  }, 300_000);

  describe("musl: Bun's linux-x64-musl build on musl 1.2.5", () => {
    test("the app runs on musl alone and passes the TFO exchange with the package's linux-x64 library", () => {
      const report = appReport(runInNamespace([...runtime("linux-x64-musl"), "main.ts"], { cwd: project }));
      expect(report.libc.some((path) => path.endsWith("/ld-musl-x86_64.so.1"))).toBe(true);
      expect(report.libc.filter((path) => /ld-linux|libc\.so\.6/.test(path))).toEqual([]);
      expect(report.libraries).toEqual([shipped("linux-x64")]);
      expectTfoExchange(report, "x64");
    }, 60_000);

    test("a `--compile --target=bun-linux-x64-musl` executable runs on musl with the embedded library", () => {
      const musl = runtime("linux-x64-musl");
      const dir = scratch("musl-compile");
      made.push(dir);
      const exe = join(dir, "app-musl");
      const build = ["bun", "build", "--compile", "--target=bun-linux-x64-musl", "main.ts", "--outfile", exe];
      must([...build, `--compile-executable-path=${musl.at(-1)}`], { cwd: project, env: consumerEnvironment() });
      const tmp = scratch("musl-compile-tmp");
      made.push(tmp);
      const report = appReport(runInNamespace([exe], { cwd: "/", env: { ...consumerEnvironment(), TMPDIR: tmp } }));
      expect(report.libc.some((path) => path.endsWith("/ld-musl-x86_64.so.1"))).toBe(true);
      expect(report.libc.filter((path) => /ld-linux|libc\.so\.6/.test(path))).toEqual([]);
      expect(report.libraries.length).toBe(1);
      expect(report.libraries[0]?.startsWith(`${tmp}/.bun-`)).toBe(true);
      expectTfoExchange(report, "x64");
    }, 60_000);

    test("the core TFO test files pass on musl with the shipped linux-x64 library (FASTOPEN_LIB)", () => {
      const files = ["test/lowlevel/tfo.test.ts", "test/connect/connect.test.ts"];
      const env = { ...(process.env as Record<string, string>), FASTOPEN_LIB: shipped("linux-x64") };
      const outcome = execute([...runtime("linux-x64-musl"), "test", ...files], { cwd: ROOT, env });
      const output = `${outcome.stdout}\n${outcome.stderr}`;
      expect(output).toMatch(/^ *0 fail$/m);
      expect(Number(/^ *(\d+) pass$/m.exec(output)?.[1] ?? 0)).toBeGreaterThan(40);
      expect(output).toContain(`Ran `);
      expect(outcome.status).toBe(0);
    }, 120_000);
  });

  describe("arm64 under qemu-user", () => {
    test("glibc arm64 Bun loads the package's linux-arm64 library; the exchange passes by the TcpExt counters", () => {
      const report = appReport(runInNamespace([...runtime("linux-arm64-glibc"), "main.ts"], { cwd: project }));
      expect(report.libc.some((path) => path.endsWith("/ld-linux-aarch64.so.1"))).toBe(true);
      expect(report.libraries).toEqual([shipped("linux-arm64")]);
      expectTfoExchange(report, "arm64", false);
    }, 60_000);

    test("musl arm64 Bun loads the same library; the exchange passes by the TcpExt counters", () => {
      const report = appReport(runInNamespace([...runtime("linux-arm64-musl"), "main.ts"], { cwd: project }));
      expect(report.libc.some((path) => path.endsWith("/ld-musl-aarch64.so.1"))).toBe(true);
      expect(report.libc.filter((path) => /ld-linux|libc\.so\.6/.test(path))).toEqual([]);
      expect(report.libraries).toEqual([shipped("linux-arm64")]);
      expectTfoExchange(report, "arm64", false);
    }, 60_000);

    test("an arm64 executable cross-compiled on x64 (`--compile --target=bun-linux-arm64`) embeds and loads it", () => {
      const arm64 = runtime("linux-arm64-glibc");
      const dir = scratch("cross");
      made.push(dir);
      const exe = join(dir, "app-arm64");
      const build = ["bun", "build", "--compile", "--target=bun-linux-arm64", "main.ts", "--outfile", exe];
      must([...build, `--compile-executable-path=${arm64.at(-1)}`], { cwd: project, env: consumerEnvironment() });
      const tmp = scratch("cross-tmp");
      made.push(tmp);
      const env = { ...consumerEnvironment(), TMPDIR: tmp };
      const report = appReport(runInNamespace([...arm64.slice(0, -1), exe], { cwd: "/", env }));
      expect(report.libraries.length).toBe(1);
      expect(report.libraries[0]?.startsWith(`${tmp}/.bun-`)).toBe(true);
      expectTfoExchange(report, "arm64", false);
    }, 60_000);
  });
});
