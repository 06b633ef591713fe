/**
 * Builds the benchmark's native helpers into zig-out/bench/: the delay relay
 * (Zig, bench/relay/relay.zig, by build.zig's `relay` step), the C
 * reference programs (bench/c/tfo.c, with the machine's `cc`) and the
 * callgrind client-request shim (bench/c/cgreq.c). Each is rebuilt only
 * when one of its sources is newer.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZIG } from "../../scripts/toolchain.mjs";
import { type Certificate, makeCertificate as makeTestCertificate } from "../../test/support/certificate.ts";

/** Root of the repository. */
export const ROOT = join(import.meta.dir, "..", "..");
const OUT = join(ROOT, "zig-out", "bench");

/** Paths of the built helpers and of the library under test. */
export interface Built {
  relay: string;
  tfo: string;
  library: string;
  bun: string;
  /** The callgrind client-request shim (bench/c/cgreq.c), or null when valgrind's headers are missing. */
  cgreq: string | null;
}

/** True when `output` is missing or older than any of `sources`. */
function stale(output: string, ...sources: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources.some((source) => built < statSync(source).mtimeMs);
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8" });
  if (result.error !== undefined) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
}

/** The zig to build the relay with: $ZIG, the project's pinned one (scripts/toolchain.mjs), or `zig` on PATH. */
function zig(): string {
  return process.env.ZIG ?? (existsSync(ZIG) ? ZIG : "zig");
}

/** Builds what is stale and returns the paths; throws when the library is not built. */
export function build(log: (line: string) => void): Built {
  mkdirSync(OUT, { recursive: true });
  const library = process.env.FASTOPEN_LIB ?? join(ROOT, "zig-out", "lib", "libfastopen.so");
  if (!existsSync(library)) throw new Error(`${library} not found: build the library first (npm run build)`);
  // Where build.zig's `relay` step installs it: <prefix>/bench/relay.
  const relay = join(OUT, "relay");
  if (stale(relay, join(ROOT, "bench", "relay", "relay.zig"), join(ROOT, "build.zig"))) {
    log("building the delay relay (zig build relay, once)...");
    run(zig(), ["build", "relay", "-Doptimize=ReleaseSafe", "--prefix", join(ROOT, "zig-out")]);
  }
  const tfo = join(OUT, "tfo");
  const tfoSource = join(ROOT, "bench", "c", "tfo.c");
  const include = join(ROOT, "include");
  if (stale(tfo, tfoSource, join(include, "fastopen.h"))) {
    log("building the C reference client/server (cc -O2)...");
    run(process.env.CC ?? "cc", ["-O2", "-Wall", "-Wextra", "-I", include, "-o", tfo, tfoSource, "-ldl"]);
  }
  return { relay, tfo, library, bun: process.execPath, cgreq: buildCgreq(log) };
}

/** Builds zig-out/bench/libcgreq.so when valgrind's callgrind.h is there; null otherwise. */
function buildCgreq(log: (line: string) => void): string | null {
  const output = join(OUT, "libcgreq.so");
  const source = join(ROOT, "bench", "c", "cgreq.c");
  if (!stale(output, source)) return output;
  try {
    log("building the callgrind client-request shim (cc -shared)...");
    run(process.env.CC ?? "cc", ["-O2", "-Wall", "-shared", "-fPIC", "-o", output, source]);
    return output;
  } catch (error) {
    log(`  no callgrind shim: ${(error as Error).message.split("\n")[0]}`);
    return null;
  }
}

const temporary: string[] = [];

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (temporary.length === 0)
    process.on("exit", () => {
      for (const d of temporary) rmSync(d, { recursive: true, force: true });
    });
  temporary.push(dir);
  return dir;
}

/** A self-signed P-256 certificate for the TLS servers (openssl), in a fresh temporary folder. */
export function makeCertificate(): Certificate {
  return makeTestCertificate(tempDir("fastopen-bench-"));
}
