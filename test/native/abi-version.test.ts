/**
 * A library of another ABI revision (an old build left in zig-out, a newer
 * one) is refused with an error that says what to do, read from
 * `fo_abi_version` before the symbol table is bound: an older library lacks
 * the newer symbols, and binding them first failed with a bare
 * "Symbol not found". The fake libraries are compiled here (zig cc); each
 * load runs in its own process (the loader caches a success).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ABI_VERSION } from "../../src/native/library.ts";

const ROOT = join(import.meta.dir, "..", "..");
const OLDER =
  "The library is older than this facade: rebuild it (npm run build) or point FASTOPEN_LIB at a current one.";
const dir = mkdtempSync(join(tmpdir(), "fastopen-abi-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shared library whose only export is `fo_abi_version` returning `abi` (or none at all: null). */
function fakeLibrary(name: string, abi: number | null): string {
  const source = join(dir, `${name}.c`);
  const body = abi === null ? "int fo_other(void) { return 0; }\n" : `int fo_abi_version(void) { return ${abi}; }\n`;
  writeFileSync(source, body);
  const out = join(dir, `${name}.so`);
  const build = spawnSync("node", [join(ROOT, "scripts", "zig.mjs"), "cc", "-shared", "-o", out, source], {
    encoding: "utf8",
    timeout: 280_000,
  });
  if (build.status !== 0) throw new Error(`zig cc failed: ${build.stderr}`);
  return out;
}

/** The loader's error (or "loaded") in a child process with FASTOPEN_LIB=`lib`. */
function loadIn(lib: string): string {
  const script = `import { native } from ${JSON.stringify(join(ROOT, "src/native/library.ts"))};
try { native(); console.log("loaded"); } catch (e) { console.log(e instanceof Error ? e.message : String(e)); }`;
  const child = spawnSync(process.execPath, ["-e", script], {
    encoding: "utf8",
    env: { ...process.env, FASTOPEN_LIB: lib },
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`child failed:\n${child.stdout}\n${child.stderr}`);
  return child.stdout.trim().split("\n").pop() ?? "";
}

describe.skipIf(process.platform !== "linux")("a library of another ABI revision", () => {
  let old = "";
  let newer = "";
  let none = "";
  // zig cc's first run builds its libc pieces: minutes on a cold cache.
  beforeAll(() => {
    old = fakeLibrary("old", ABI_VERSION - 1);
    newer = fakeLibrary("newer", ABI_VERSION + 1);
    none = fakeLibrary("none", null);
  }, 300_000);

  test("an older library: says its revision and to rebuild, not 'Symbol not found'", () => {
    const message = loadIn(old);
    const needs = `this facade needs ABI ${ABI_VERSION}`;
    expect(message).toBe(`fastopen: ${old} has ABI ${ABI_VERSION - 1}, ${needs}. ${OLDER}`);
    expect(message).not.toContain("Symbol");
  });

  test("a newer library: says to update fastopen", () => {
    expect(loadIn(newer)).toBe(
      `fastopen: ${newer} has ABI ${ABI_VERSION + 1}, this facade needs ABI ${ABI_VERSION}. ` +
        "The library is newer than this facade: update fastopen.",
    );
  });

  test("a library without fo_abi_version: says so and to rebuild", () => {
    expect(loadIn(none)).toBe(`fastopen: ${none} has no fo_abi_version. ${OLDER}`);
  });

  test("the library built here loads", () => {
    expect(loadIn(join(ROOT, "zig-out", "lib", "libfastopen.so"))).toBe("loaded");
  });
});
