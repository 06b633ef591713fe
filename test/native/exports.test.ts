/**
 * The C ABI is declared three times: the `export fn`s of zig/root.zig (the
 * library), the prototypes of include/fastopen.h (C callers) and the Bun
 * loader's symbol table (src/native/library.ts). They name the same functions, with
 * the same arguments (kind by kind: i32, u32 or pointer) and an i32 result.
 * Pure text checks: the library is not loaded.
 */

import { FFIType } from "bun:ffi";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { symbols } from "../../src/native/library.ts";

type Kind = "i32" | "u32" | "ptr";

interface Signature {
  args: Kind[];
  returns: Kind;
}

const ROOT = join(import.meta.dir, "..", "..");

/** Splits a parameter list on commas, without empty entries (a trailing comma). */
function params(list: string): string[] {
  return list
    .split(",")
    .map((param) => param.trim())
    .filter((param) => param !== "");
}

/** The kind of a Zig parameter or result type: `i32`, `u32`, or any pointer. */
function zigKind(type: string): Kind {
  if (type.startsWith("*") || type.startsWith("[*]")) return "ptr";
  if (type === "i32" || type === "u32") return type;
  throw new Error(`zig/root.zig: no C ABI kind for type ${type}`);
}

/** The kind of a C parameter (with its name) or result type. */
function cKind(declaration: string): Kind {
  if (declaration.includes("*") || declaration.includes("[")) return "ptr";
  if (/^(const\s+)?int32_t\b/.test(declaration)) return "i32";
  if (/^(const\s+)?uint32_t\b/.test(declaration)) return "u32";
  throw new Error(`include/fastopen.h: no C ABI kind for ${declaration}`);
}

/** `export fn NAME(params) RESULT {` of zig/root.zig. */
function zigExports(): Map<string, Signature> {
  const source = readFileSync(join(ROOT, "zig", "root.zig"), "utf8");
  const found = new Map<string, Signature>();
  for (const match of source.matchAll(/^export fn (\w+)\(([^)]*)\)\s*(\S+)\s*\{/gm)) {
    const [, name, list, returns] = match as unknown as [string, string, string, string];
    const args = params(list).map((param) => zigKind(param.slice(param.indexOf(":") + 1).trim()));
    found.set(name, { args, returns: zigKind(returns) });
  }
  return found;
}

/** The `fo_*` prototypes of include/fastopen.h (comments removed first). */
function headerDeclarations(): Map<string, Signature> {
  const source = readFileSync(join(ROOT, "include", "fastopen.h"), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
  const found = new Map<string, Signature>();
  for (const match of source.matchAll(/(\w+)\s+(fo_\w+)\s*\(([^)]*)\)\s*;/g)) {
    const [, returns, name, list] = match as unknown as [string, string, string, string];
    const args = list.trim() === "void" ? [] : params(list).map(cKind);
    found.set(name, { args, returns: cKind(returns) });
  }
  return found;
}

/** Every identifier `fo_...` the header mentions outside comments: only the declared functions. */
function headerNames(): Set<string> {
  const source = readFileSync(join(ROOT, "include", "fastopen.h"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  return new Set(source.match(/\bfo_\w+/g) ?? []);
}

const ffiKind = new Map<number, Kind>([
  [FFIType.i32, "i32"],
  [FFIType.u32, "u32"],
  [FFIType.ptr, "ptr"],
]);

/** The loader's table, as kinds. */
function loaderSymbols(): Map<string, Signature> {
  const found = new Map<string, Signature>();
  for (const [name, { args, returns }] of Object.entries(symbols)) {
    const kind = (type: number): Kind => {
      const value = ffiKind.get(type);
      if (value === undefined) throw new Error(`src/native/library.ts: ${name} uses FFI type ${type}`);
      return value;
    };
    found.set(name, { args: (args as readonly number[]).map(kind), returns: kind(returns) });
  }
  return found;
}

const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe("C ABI declarations agree", () => {
  const zig = zigExports();
  const header = headerDeclarations();
  const loader = loaderSymbols();

  test("the parsers found the whole ABI", () => {
    expect(zig.size).toBeGreaterThanOrEqual(28);
    expect(zig.get("fo_connect_start")?.args).toEqual(["ptr", "u32", "u32", "u32", "u32", "ptr", "u32", "ptr"]);
    expect(header.get("fo_abi_version")).toEqual({ args: [], returns: "i32" });
  });

  test("zig/root.zig, include/fastopen.h and the loader name the same functions", () => {
    expect(sorted(header.keys())).toEqual(sorted(zig.keys()));
    expect(sorted(loader.keys())).toEqual(sorted(zig.keys()));
    expect(sorted(headerNames())).toEqual(sorted(zig.keys()));
  });

  test("every function has the same argument kinds and an i32 result in all three", () => {
    for (const [name, signature] of zig) {
      expect({ name, ...signature }).toEqual({ name, args: signature.args, returns: "i32" });
      expect({ name, ...header.get(name) }).toEqual({ name, ...signature });
      expect({ name, ...loader.get(name) }).toEqual({ name, ...signature });
    }
  });
});
