/**
 * Issue #9: the dependency check of the shipped libraries
 * (scripts/check-libs.mjs, also run by prepack and .ci/run). The packed
 * tarball's five libraries pass it; copies broken one way each (a library
 * other than libc, a GLIBC version above 2.17, a macOS minimum above 13.0,
 * the wrong architecture, an unstripped build, a missing target) fail it,
 * so the check can fail.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkLibraries } from "../../scripts/check-libs.mjs";
import { cleanup, execute, must, packedTarball, ROOT, scratch } from "./common.ts";

const check = checkLibraries;
let shipped: string;
const made: string[] = [];

beforeAll(() => {
  const dir = scratch("libs");
  made.push(dir);
  must(["tar", "xzf", packedTarball(), "-C", dir, "package/prebuilt"]);
  shipped = join(dir, "package", "prebuilt");
}, 300_000);

afterAll(() => cleanup(...made));

/** A copy of the shipped libraries with `file` (under it) rewritten by `edit`. */
function broken(file: string, edit: (bytes: Buffer) => Buffer): string {
  const dir = scratch("broken");
  made.push(dir);
  cpSync(shipped, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file))));
  return dir;
}

/** `bytes` with the first `from` replaced by `to` (NUL-padded to the same length). */
function replace(bytes: Buffer, from: string, to: string): Buffer {
  const at = bytes.indexOf(`${from}\0`, 0, "latin1");
  if (at < 0) throw new Error(`${from} not in the file`);
  const copy = Buffer.from(bytes);
  copy.fill(0, at, at + from.length);
  copy.write(to, at, "latin1");
  return copy;
}

/** The problems `check` finds for `target` in `dir`. */
function problems(dir: string, target: string): string[] {
  return check(dir).find((r) => r.target === target)?.problems ?? ["no result"];
}

/** Offset of the `minos` field of a Mach-O file's LC_BUILD_VERSION. */
function minosOffset(bytes: Buffer): number {
  let at = 32;
  for (let i = 0; i < bytes.readUInt32LE(16); i++) {
    if (bytes.readUInt32LE(at) === 0x32) return at + 12;
    at += bytes.readUInt32LE(at + 4);
  }
  throw new Error("no LC_BUILD_VERSION");
}

describe("the shipped libraries", () => {
  test("all five pass: Linux needs libc.so.6 only, to GLIBC_2.17; macOS 13.0 and libSystem; FreeBSD libc.so.7", () => {
    const results = check(shipped);
    expect(results.map((r) => [r.target, r.problems])).toEqual([
      ["linux-x64", []],
      ["linux-arm64", []],
      ["darwin-x64", []],
      ["darwin-arm64", []],
      ["freebsd-x64", []],
    ]);
    const byTarget = Object.fromEntries(results.map((r) => [r.target, r.facts]));
    expect(byTarget["linux-x64"]?.needed).toEqual(["libc.so.6"]);
    expect(byTarget["linux-arm64"]?.needed).toEqual(["libc.so.6"]);
    expect(byTarget["linux-arm64"]?.maxVersion).toBe("2.17");
    expect(byTarget["freebsd-x64"]?.needed).toEqual(["libc.so.7"]);
    expect(byTarget["darwin-arm64"]?.minos).toBe("13.0");
    expect(byTarget["darwin-x64"]?.needed).toEqual(["/usr/lib/libSystem.B.dylib"]);
  });

  test("the command exits 0 on them and prints one line per target", () => {
    const outcome = execute(["node", join(ROOT, "scripts", "check-libs.mjs"), shipped]);
    expect(outcome.status).toBe(0);
    expect(outcome.stdout.trim().split("\n").length).toBe(5);
  });
});

describe("a broken library fails the check", () => {
  test("a DT_NEEDED other than libc.so.6", () => {
    const dir = broken("linux-x64/libfastopen.so", (b) => replace(b, "libc.so.6", "libm.so.6"));
    expect(problems(dir, "linux-x64")).toContain("needs libm.so.6 (only libc.so.6 allowed)");
    expect(execute(["node", join(ROOT, "scripts", "check-libs.mjs"), dir]).status).toBe(1);
  });

  test("a GLIBC version above 2.17", () => {
    const dir = broken("linux-arm64/libfastopen.so", (b) => replace(b, "GLIBC_2.17", "GLIBC_2.34"));
    expect(problems(dir, "linux-arm64")).toContain("needs GLIBC_2.34, above GLIBC_2.17");
  });

  test("a macOS minimum above 13.0", () => {
    const dir = broken("darwin-arm64/libfastopen.dylib", (b) => {
      const copy = Buffer.from(b);
      copy.writeUInt32LE(15 << 16, minosOffset(copy));
      return copy;
    });
    expect(problems(dir, "darwin-arm64")).toContain("minimum macOS 15.0 > 13.0");
  });

  test("the wrong architecture (the x64 library as linux-arm64)", () => {
    const dir = broken("linux-arm64/libfastopen.so", () => readFileSync(join(shipped, "linux-x64", "libfastopen.so")));
    expect(problems(dir, "linux-arm64")).toContain("machine 62, expected 183");
  });

  test("an unstripped build (the development build in zig-out/lib)", () => {
    const dev = join(ROOT, "zig-out", "lib", "libfastopen.so");
    expect(existsSync(dev)).toBe(true);
    const dir = broken("linux-x64/libfastopen.so", () => readFileSync(dev));
    expect(problems(dir, "linux-x64").some((p) => p.startsWith("not stripped (") && p.includes(".symtab"))).toBe(true);
  });

  test("a missing target", () => {
    const dir = broken("linux-x64/libfastopen.so", (b) => b);
    rmSync(join(dir, "freebsd-x64"), { recursive: true });
    expect(problems(dir, "freebsd-x64")).toEqual(["missing"]);
    expect(execute(["node", join(ROOT, "scripts", "check-libs.mjs"), dir]).status).toBe(1);
  });
});
