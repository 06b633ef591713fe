#!/usr/bin/env node
// Checks the shipped libraries (prebuilt/<platform>-<arch>/) by reading their
// ELF and Mach-O headers directly (no binutils needed): every target present,
// the right architecture, Linux needing only libc.so.6 with no symbol version
// above GLIBC_2.17 and no program interpreter, FreeBSD only libc.so.7, macOS
// only libSystem with a minimum of 13.0, everything stripped.
// Usage: node scripts/check-libs.mjs [DIR] [--json]   (DIR defaults to prebuilt/)
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const CPU_X86_64 = 0x01000007;
const CPU_ARM64 = 0x0100000c;

/** What each shipped target must be. */
export const TARGETS = {
  "linux-x64": { file: "libfastopen.so", format: "elf", machine: EM_X86_64, libc: ["libc.so.6"], glibc: "2.17" },
  "linux-arm64": {
    file: "libfastopen.so",
    format: "elf",
    machine: EM_AARCH64,
    libc: ["libc.so.6"],
    glibc: "2.17",
    pageAlign: 0x10000, // 64 KiB-page arm64 kernels
  },
  "darwin-x64": { file: "libfastopen.dylib", format: "macho", cpu: CPU_X86_64, minos: "13.0" },
  "darwin-arm64": { file: "libfastopen.dylib", format: "macho", cpu: CPU_ARM64, minos: "13.0" },
  "freebsd-x64": { file: "libfastopen.so", format: "elf", machine: EM_X86_64, libc: ["libc.so.7"] },
};

/** Compares dotted versions numerically: <0, 0, >0. */
export function compareVersions(a, b) {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The NUL-terminated string at `offset`. */
function cString(buf, offset) {
  const end = buf.indexOf(0, offset);
  return buf.toString("latin1", offset, end < 0 ? buf.length : end);
}

/** An ELF64 little-endian file's program headers, sections and dynamic entries. */
function elfLayout(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error("not a 64-bit little-endian ELF file");
  const phoff = Number(buf.readBigUInt64LE(32));
  const shoff = Number(buf.readBigUInt64LE(40));
  const segments = [];
  for (let i = 0; i < buf.readUInt16LE(56); i++) {
    const at = phoff + i * buf.readUInt16LE(54);
    const field = (o) => Number(buf.readBigUInt64LE(at + o));
    segments.push({
      type: buf.readUInt32LE(at),
      offset: field(8),
      vaddr: field(16),
      filesz: field(32),
      align: field(48),
    });
  }
  const sections = [];
  for (let i = 0; i < buf.readUInt16LE(60); i++) {
    const at = shoff + i * buf.readUInt16LE(58);
    const field = (o) => Number(buf.readBigUInt64LE(at + o));
    const name = buf.readUInt32LE(at);
    sections.push({ name, type: buf.readUInt32LE(at + 4), offset: field(24), size: field(32), entsize: field(56) });
  }
  const names = sections[buf.readUInt16LE(62)];
  for (const s of sections) s.name = names === undefined ? "" : cString(buf, names.offset + s.name);
  return { machine: buf.readUInt16LE(18), type: buf.readUInt16LE(16), segments, sections };
}

/** The file offset of virtual address `vaddr` (through the PT_LOAD segment holding it). */
function fileOffset(segments, vaddr) {
  const load = segments.find((s) => s.type === 1 && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
  if (load === undefined) throw new Error(`address 0x${vaddr.toString(16)} is in no PT_LOAD segment`);
  return vaddr - load.vaddr + load.offset;
}

/** DT_NEEDED names and the symbol versions the file needs (DT_VERNEED), per library. */
function elfDynamic(buf, layout) {
  const dynamic = layout.segments.find((s) => s.type === 2);
  if (dynamic === undefined) throw new Error("no PT_DYNAMIC: not a shared library");
  const tags = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = buf.readBigInt64LE(at);
    if (tag === 0n) break;
    tags.push([tag, Number(buf.readBigUInt64LE(at + 8))]);
  }
  const value = (tag) => tags.find(([t]) => t === tag)?.[1];
  const strtab = fileOffset(layout.segments, value(5n));
  const needed = tags.filter(([t]) => t === 1n).map(([, v]) => cString(buf, strtab + v));
  const versions = [];
  const verneed = value(0x6ffffffen);
  let at = verneed === undefined ? -1 : fileOffset(layout.segments, verneed);
  for (let n = value(0x6fffffffn) ?? 0; n > 0 && at >= 0; n--) {
    let aux = at + buf.readUInt32LE(at + 8);
    for (let k = buf.readUInt16LE(at + 2); k > 0; k--) {
      versions.push(cString(buf, strtab + buf.readUInt32LE(aux + 8)));
      aux += buf.readUInt32LE(aux + 12);
    }
    at += buf.readUInt32LE(at + 12);
  }
  return { needed, versions };
}

/** Undefined (imported) symbols of the ELF file's .dynsym. */
function elfImports(buf, layout) {
  const dynsym = layout.sections.find((s) => s.type === 11);
  if (dynsym === undefined) return 0;
  let count = 0;
  for (let i = 1; i < dynsym.size / dynsym.entsize; i++) {
    if (buf.readUInt16LE(dynsym.offset + i * dynsym.entsize + 6) === 0) count++;
  }
  return count;
}

/** The highest version of `family` (e.g. "GLIBC") among `versions`, or null. */
function highest(versions, family) {
  const numbers = versions.filter((v) => v.startsWith(`${family}_`)).map((v) => v.slice(family.length + 1));
  return numbers.sort(compareVersions).pop() ?? null;
}

/** Facts about an ELF library, and its violations of `spec`. */
function checkElf(buf, spec) {
  const layout = elfLayout(buf);
  const { needed, versions } = elfDynamic(buf, layout);
  const glibc = highest(versions, "GLIBC");
  const facts = {
    needed,
    maxVersion: glibc ?? highest(versions, "FBSD") ?? null,
    imports: elfImports(buf, layout),
  };
  const problems = [];
  if (layout.type !== 3) problems.push(`ELF type ${layout.type}, not a shared object (3)`);
  if (layout.machine !== spec.machine) problems.push(`machine ${layout.machine}, expected ${spec.machine}`);
  for (const name of needed) if (!spec.libc.includes(name)) problems.push(`needs ${name} (only ${spec.libc} allowed)`);
  if (layout.segments.some((s) => s.type === 3)) problems.push("has a program interpreter (PT_INTERP)");
  if (spec.glibc !== undefined && glibc !== null && compareVersions(glibc, spec.glibc) > 0) {
    problems.push(`needs GLIBC_${glibc}, above GLIBC_${spec.glibc}`);
  }
  if (spec.glibc === undefined && glibc !== null) problems.push(`needs GLIBC_${glibc} on a non-glibc target`);
  for (const s of layout.segments) {
    if (spec.pageAlign !== undefined && s.type === 1 && s.align < spec.pageAlign) {
      problems.push(`PT_LOAD aligned to 0x${s.align.toString(16)}, below 0x${spec.pageAlign.toString(16)}`);
    }
  }
  const unstripped = layout.sections.filter((s) => s.name === ".symtab" || s.name.startsWith(".debug"));
  if (unstripped.length > 0) problems.push(`not stripped (${unstripped.map((s) => s.name).join(", ")})`);
  return { facts, problems };
}

/** "X.Y" (".Z" when non-zero) of a Mach-O packed version (xxxx.yy.zz). */
function machoVersion(packed) {
  const patch = packed & 0xff;
  return `${packed >>> 16}.${(packed >>> 8) & 0xff}${patch === 0 ? "" : `.${patch}`}`;
}

/** Debugging (N_STAB) entries of the symbol table at LC_SYMTAB `at`. */
function machoStabs(buf, at) {
  const symoff = buf.readUInt32LE(at + 8);
  let count = 0;
  for (let i = 0; i < buf.readUInt32LE(at + 12); i++) if ((buf[symoff + i * 16 + 4] & 0xe0) !== 0) count++;
  return count;
}

/** A 64-bit Mach-O file's CPU, minimum macOS, dylibs, segments and symbol counts. */
function machoLayout(buf) {
  if (buf.readUInt32LE(0) !== 0xfeedfacf) throw new Error("not a 64-bit Mach-O file");
  const layout = { cpu: buf.readUInt32LE(4), type: buf.readUInt32LE(12), minos: null, dylibs: [], segments: [] };
  layout.stabs = 0;
  let at = 32;
  for (let i = 0; i < buf.readUInt32LE(16); i++) {
    const cmd = buf.readUInt32LE(at);
    if (cmd === 0x32) layout.minos = machoVersion(buf.readUInt32LE(at + 12)); // LC_BUILD_VERSION
    if (cmd === 0x24) layout.minos = machoVersion(buf.readUInt32LE(at + 8)); // LC_VERSION_MIN_MACOSX
    if (cmd === 0xc || cmd === 0x80000018 || cmd === 0x8000001f) {
      layout.dylibs.push(cString(buf, at + buf.readUInt32LE(at + 8))); // LC_(WEAK_|REEXPORT_)LOAD_DYLIB
    }
    if (cmd === 0x19) layout.segments.push(cString(buf.subarray(at + 8, at + 24), 0)); // LC_SEGMENT_64
    if (cmd === 0x2) layout.stabs = machoStabs(buf, at); // LC_SYMTAB
    if (cmd === 0xb) layout.imports = buf.readUInt32LE(at + 28); // LC_DYSYMTAB: nundefsym
    at += buf.readUInt32LE(at + 4);
  }
  return layout;
}

/** Facts about a Mach-O library, and its violations of `spec`. */
function checkMacho(buf, spec) {
  const layout = machoLayout(buf);
  const facts = { needed: layout.dylibs, maxVersion: null, imports: layout.imports ?? 0, minos: layout.minos };
  const problems = [];
  if (layout.type !== 6) problems.push(`Mach-O file type ${layout.type}, not a dylib (6)`);
  if (layout.cpu !== spec.cpu)
    problems.push(`CPU type 0x${layout.cpu.toString(16)}, expected 0x${spec.cpu.toString(16)}`);
  if (layout.minos === null) problems.push("no minimum macOS version");
  else if (compareVersions(layout.minos, spec.minos) > 0)
    problems.push(`minimum macOS ${layout.minos} > ${spec.minos}`);
  for (const name of layout.dylibs) {
    if (name !== "/usr/lib/libSystem.B.dylib") problems.push(`links ${name} (only libSystem allowed)`);
  }
  if (layout.segments.includes("__DWARF")) problems.push("not stripped (__DWARF segment)");
  if (layout.stabs > 0) problems.push(`not stripped (${layout.stabs} debugging symbols)`);
  return { facts, problems };
}

/** Checks every target under `dir`: one entry per target with its size, facts and problems. */
export function checkLibraries(dir) {
  return Object.entries(TARGETS).map(([target, spec]) => {
    const path = join(dir, target, spec.file);
    if (!existsSync(path)) return { target, path, size: null, facts: null, problems: ["missing"] };
    const buf = readFileSync(path);
    try {
      const { facts, problems } = spec.format === "elf" ? checkElf(buf, spec) : checkMacho(buf, spec);
      return { target, path, size: statSync(path).size, facts, problems };
    } catch (error) {
      return { target, path, size: buf.length, facts: null, problems: [String(error.message ?? error)] };
    }
  });
}

/** One line per target: size, needed libraries, highest symbol version or minimum OS, imports, problems. */
function describe(result) {
  const { target, size, facts, problems } = result;
  const parts = [target.padEnd(13), size === null ? "-" : `${size} B`];
  if (facts !== null) {
    parts.push(`needs ${facts.needed.join(" ") || "nothing"}`);
    if (facts.maxVersion !== null) parts.push(`max version ${facts.maxVersion}`);
    if (facts.minos !== undefined) parts.push(`minos ${facts.minos}`);
    parts.push(`${facts.imports} imported symbols`);
  }
  parts.push(problems.length === 0 ? "ok" : `FAIL: ${problems.join("; ")}`);
  return parts.join("  ");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith("--")) ?? join(fileURLToPath(new URL("..", import.meta.url)), "prebuilt");
  const results = checkLibraries(dir);
  if (args.includes("--json")) console.log(JSON.stringify(results));
  else for (const result of results) console.log(describe(result));
  const bad = results.filter((r) => r.problems.length > 0);
  if (bad.length > 0) {
    console.error(`check-libs: ${bad.length} of ${results.length} libraries in ${dir} fail the shipping rules`);
    process.exit(1);
  }
}
