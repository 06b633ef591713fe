/**
 * Issue #9: when libfastopen cannot be loaded, `listen()` throws the
 * loader's error before Bun opens a listener, so none is left bound (it used
 * to load the library after `Bun.listen`, leaving the port taken and the fd
 * open). Each case runs in its own process (the loader caches a success).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "fastopen-unloadable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const garbage = join(dir, "libfastopen.so");
writeFileSync(garbage, "not a shared library\n");

/** A library older than the facade: it has `fo_abi_version` and none of the symbols added since. */
function olderLibrary(): string {
  const source = join(dir, "older.c");
  const library = join(dir, "libolder.so");
  writeFileSync(source, "int fo_abi_version(void) { return 1; }\n");
  const cc = spawnSync("cc", ["-shared", "-fPIC", "-o", library, source], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
  return library;
}

interface Report {
  error: string;
  rebound: string;
  before: number;
  after: number;
  plainQueue: number;
}

/** Runs the child with FASTOPEN_LIB set to `lib`. */
function run(lib: string): Report {
  const child = spawnSync(process.execPath, [join(import.meta.dir, "unloadable.ts")], {
    encoding: "utf8",
    env: { ...process.env, FASTOPEN_LIB: lib },
    timeout: 30_000,
  });
  const last = (child.stdout ?? "").trim().split("\n").pop() ?? "";
  if (child.status !== 0 || !last.startsWith("{")) throw new Error(`child failed:\n${child.stdout}\n${child.stderr}`);
  return JSON.parse(last) as Report;
}

describe("listen() with a library that cannot be loaded", () => {
  test("a file that is no library: the loader's error, the port free again, no fd left", () => {
    const report = run(garbage);
    expect(report.error).toContain(`fastopen: cannot load ${garbage}`);
    expect(report.rebound).toBe("ok");
    expect(report.after).toBe(report.before);
  });

  test("a FASTOPEN_LIB that does not exist: the error names it, the port free again, no fd left", () => {
    const missing = join(dir, "missing.so");
    const report = run(missing);
    expect(report.error).toContain(missing);
    expect(report.rebound).toBe("ok");
    expect(report.after).toBe(report.before);
  });

  test("a library older than the facade (ABI 1, symbols missing): the error says to rebuild it, no fd left", () => {
    const older = olderLibrary();
    const report = run(older);
    expect(report.error).toContain(`fastopen: ${older} has ABI 1, this facade needs ABI `);
    expect(report.error).toContain("older than this facade: rebuild it (npm run build)");
    expect(report.error).not.toContain("Symbol");
    expect(report.rebound).toBe("ok");
    expect(report.after).toBe(report.before);
  });

  test("fastOpen: 0 needs no library: a plain listener", () => {
    expect(run(garbage).plainQueue).toBe(0);
  });
});
