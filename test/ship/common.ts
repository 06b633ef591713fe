/**
 * Shared steps of the shipping tests: the packed package (`npm pack`, once
 * per test process), consumer projects outside the repository that install
 * it with `bun add` under a PATH without Zig, the foreign runtimes
 * (scripts/ship-deps.mjs), and runs of the consumer app (app/main.ts) in
 * private network namespaces with `net.ipv4.tcp_fastopen=3` set there only.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namespacePrelude } from "../../src/cli/netns.ts";

/** The repository. */
export const ROOT = join(import.meta.dir, "..", "..");
/** The consumer app every shipping test runs. */
export const APP_SOURCE = join(import.meta.dir, "app", "main.ts");

/** A spawned command's outcome. */
export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command`; never throws (the caller checks the outcome). */
export function execute(command: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Outcome {
  const [file = "", ...args] = command;
  const run = spawnSync(file, args, { encoding: "utf8", maxBuffer: 1 << 26, timeout: 240_000, ...options });
  return { status: run.status, stdout: run.stdout ?? "", stderr: `${run.stderr ?? ""}${run.error?.message ?? ""}` };
}

/** Runs `command` and returns its stdout; throws with its output when it fails. */
export function must(command: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  const outcome = execute(command, options);
  if (outcome.status !== 0) {
    throw new Error(`${command.join(" ")} failed (${outcome.status}):\n${outcome.stdout}\n${outcome.stderr}`);
  }
  return outcome.stdout;
}

/** Where the shipping tests keep what outlives one test file: the tarball, the consumer's PATH and HOME. */
const KEPT = join(process.env.FASTOPEN_SHIP_CACHE || join(ROOT, ".cache", "ship"), "run");

/** A fresh temporary folder outside the repository. */
export function scratch(name: string): string {
  return mkdtempSync(join(tmpdir(), `fastopen-ship-${name}-`));
}

/** An empty folder `name` under KEPT (made anew by each test process; bun test runs no exit handler to remove it). */
function processFolder(name: string): string {
  const dir = join(KEPT, name);
  rmSync(dir, { force: true, recursive: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

let tarball: string | undefined;

/** The package as `npm pack` makes it (prepack: cross builds, checks, declarations); built once per process. */
export function packedTarball(): string {
  if (tarball !== undefined) return tarball;
  const out = processFolder("pack");
  must(["npm", "pack", "--silent", "--pack-destination", out], { cwd: ROOT });
  const file = readdirSync(out).find((f) => f.endsWith(".tgz"));
  if (file === undefined) throw new Error(`npm pack left no tarball in ${out}`);
  tarball = join(out, file);
  return tarball;
}

/** The folder of a private `bun` link: the only program a consumer's PATH adds to the system's. */
function bunOnlyBin(): string {
  const dir = processFolder("bin");
  symlinkSync(process.execPath, join(dir, "bun"));
  return dir;
}

let consumerEnv: Record<string, string> | undefined;

/** A consumer's environment: PATH with Bun and the system tools only (no Zig), no FASTOPEN_LIB, its own HOME. */
export function consumerEnvironment(): Record<string, string> {
  consumerEnv ??= {
    PATH: `${bunOnlyBin()}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: processFolder("home"),
    TMPDIR: tmpdir(),
  };
  return consumerEnv;
}

/** A new consumer project outside the repository: package.json, the app, and the tarball installed by `bun add`. */
export function consumerProject(): string {
  const dir = scratch("app");
  const manifest = { name: "consumer", private: true, type: "module" };
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
  copyFileSync(APP_SOURCE, join(dir, "main.ts"));
  must(["bun", "add", packedTarball()], { cwd: dir, env: consumerEnvironment() });
  return dir;
}

/** What the consumer app reports. */
export interface AppReport {
  platform: string;
  arch: string;
  libraries: string[];
  libc: string[];
  replies: string[];
  statuses: { sent: boolean; acked: boolean; reason: string; bytesInSyn: number }[];
  delta: Record<string, number>;
}

/** Options of `runInNamespace`. */
export interface NamespaceOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Shell lines run in the namespace first. */
  setup?: string[];
  /** Also a private mount namespace (for mounts that vanish with the run). */
  mounts?: boolean;
}

/** Runs `command` (the app) in a fresh private network namespace with tcp_fastopen=3; its outcome. */
export function runInNamespace(command: string[], options: NamespaceOptions = {}): Outcome {
  const prelude = namespacePrelude({ sysctl: { tcp_fastopen: "3" }, setup: options.setup ?? [] });
  const shell = [...prelude, 'exec "$@"'].join("\n");
  const unshare = options.mounts === true ? ["unshare", "-n", "-m"] : ["unshare", "-n"];
  const run: { cwd?: string; env: Record<string, string> } = { env: options.env ?? consumerEnvironment() };
  if (options.cwd !== undefined) run.cwd = options.cwd;
  return execute([...unshare, "--", "sh", "-c", shell, "app", ...command], run);
}

/** The app's report from an outcome (its last stdout line); throws with the output when it failed. */
export function appReport(outcome: Outcome): AppReport {
  const last = outcome.stdout.trim().split("\n").pop() ?? "";
  if (outcome.status !== 0 || !last.startsWith("{")) {
    throw new Error(`the app failed (${outcome.status}):\n${outcome.stdout}\n${outcome.stderr}`);
  }
  return JSON.parse(last) as AppReport;
}

/** A foreign runtime from scripts/ship-deps.mjs: the command that runs its `bun`. */
export interface Runtime {
  command: string[];
  libc: string;
}

let runtimes: Record<string, Runtime> | undefined;

/** The foreign runtimes (fetched once, cached in .cache/ship). */
export function foreignRuntimes(): Record<string, Runtime> {
  if (runtimes !== undefined) return runtimes;
  const manifest = must(["node", join(ROOT, "scripts", "ship-deps.mjs")], { cwd: ROOT })
    .trim()
    .split("\n")
    .pop();
  runtimes = JSON.parse(readFileSync(manifest ?? "", "utf8")) as Record<string, Runtime>;
  return runtimes;
}

/** Moves `path` into a new folder elsewhere; returns its new path. */
export function moveAway(path: string, name: string): string {
  const target = join(scratch(name), "moved");
  mkdirSync(target);
  const moved = join(target, path.split("/").pop() ?? "x");
  must(["mv", path, moved]);
  return moved;
}

/** Removes temporary folders made by `scratch` (and nothing else). */
export function cleanup(...paths: string[]): void {
  for (const path of paths) {
    if (!path.startsWith(join(tmpdir(), "fastopen-ship-"))) throw new Error(`not a scratch folder: ${path}`);
    rmSync(path, { force: true, recursive: true });
  }
}
