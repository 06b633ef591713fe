#!/usr/bin/env node
// Fetches (once; cached in .cache/ship, or $FASTOPEN_SHIP_CACHE) the foreign
// runtimes the shipping tests (test/ship/) run the packed package on, and
// writes their commands to runtimes.json there:
// - Bun's musl build for x86_64, on musl 1.2.5 (Debian trixie's package,
//   fetched by apt with a private source list; bookworm's 1.2.3 makes Bun
//   segfault) and the musl libstdc++/libgcc_s carried by a musllinux wheel
//   (PyPI greenlet); its interpreter and rpath are patched to that copy, so
//   it runs, and starts itself, like any program;
// - Bun's arm64 glibc and musl builds under qemu-user (Debian qemu-user-static,
//   glibc from libc6-arm64-cross, musl as above).
// Every Bun build is the npm package of the pinned Bun version.
// Needs Debian's apt-get, dpkg-deb, patchelf and qemu-user-static (npm run setup installs them).
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ROOT } from "./toolchain.mjs";

/** The wheel whose musllinux builds carry libstdc++.so.6 and libgcc_s.so.1 (auditwheel copies). */
const LIBSTDCXX_WHEEL = "greenlet==3.5.6";
/** Debian suite with musl >= 1.2.4. */
const MUSL_SUITE = "trixie";
const BUN_VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies.bun;
const CACHE = process.env.FASTOPEN_SHIP_CACHE || join(ROOT, ".cache", "ship");
const QEMU = "/usr/bin/qemu-aarch64-static";
const ARM64_GLIBC = "/usr/aarch64-linux-gnu";

/** The two architectures: Debian's name, musl's, Bun's npm suffix, the wheel platform. */
const ARCHES = {
  x64: { deb: "amd64", musl: "x86_64", bun: "x64", wheel: "musllinux_1_2_x86_64" },
  arm64: { deb: "arm64", musl: "aarch64", bun: "aarch64", wheel: "musllinux_1_2_aarch64" },
};

/** Runs a command; returns its stdout; exits the script with its output when it fails. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) {
    console.error(
      `ship-deps: ${cmd} ${args.join(" ")} failed (${r.status ?? r.error?.message}):\n${r.stdout}${r.stderr}`,
    );
    process.exit(1);
  }
  return r.stdout;
}

/** Bun's npm package `@oven/bun-linux-<suffix>` at the pinned version: the path of its `bun`. */
function bunBuild(suffix) {
  const dir = join(CACHE, `bun-linux-${suffix}-${BUN_VERSION}`);
  const bun = join(dir, "package", "bin", "bun");
  if (existsSync(bun)) return bun;
  mkdirSync(dir, { recursive: true });
  const name = `@oven/bun-linux-${suffix}@${BUN_VERSION}`;
  const tgz = run("npm", ["pack", name, "--silent", "--pack-destination", dir]).trim().split("\n").pop();
  run("tar", ["xzf", join(dir, tgz), "-C", dir]);
  rmSync(join(dir, tgz));
  return bun;
}

/** Whether dotted version `a` is `b` or later. */
function atLeast(a, b) {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < y.length; i++) if ((x[i] ?? 0) !== y[i]) return (x[i] ?? 0) > y[i];
  return true;
}

/** Options making apt-get use a private trixie source list and state under the cache. */
function aptOptions() {
  const dir = join(CACHE, "apt");
  for (const sub of ["sources", "lists/partial", "cache/archives/partial"])
    mkdirSync(join(dir, sub), { recursive: true });
  const arches = Object.values(ARCHES).map((a) => a.deb);
  const sources = [
    "Types: deb",
    "URIs: http://deb.debian.org/debian",
    `Suites: ${MUSL_SUITE}`,
    "Components: main",
    `Architectures: ${arches.join(" ")}`,
    "Targets: Packages",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
  ];
  writeFileSync(join(dir, "sources", "musl.sources"), `${sources.join("\n")}\n`);
  const options = {
    "Dir::Etc::SourceList": "/dev/null",
    "Dir::Etc::SourceParts": join(dir, "sources"),
    "Dir::State::Lists": join(dir, "lists"),
    "Dir::Cache": join(dir, "cache"),
    "APT::Sandbox::User": "root",
  };
  const args = Object.entries(options).flatMap(([k, v]) => ["-o", `${k}=${v}`]);
  for (const arch of arches) args.push("-o", `APT::Architectures::=${arch}`);
  return args;
}

/** musl's libc.so (also its dynamic loader) for every architecture, from Debian's `musl` package. */
function muslLibraries() {
  const out = Object.fromEntries(
    Object.entries(ARCHES).map(([key, a]) => [
      key,
      join(CACHE, `musl-${a.deb}`, "usr", "lib", `${a.musl}-linux-musl`, "libc.so"),
    ]),
  );
  if (Object.values(out).every((path) => existsSync(path))) return out;
  const apt = aptOptions();
  run("apt-get", [...apt, "-qq", "update"]);
  const debs = join(CACHE, "apt", "debs");
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  run("apt-get", [...apt, "-qq", "download", ...Object.values(ARCHES).map((a) => `musl:${a.deb}`)], { cwd: debs });
  for (const a of Object.values(ARCHES)) {
    const deb = readdirSync(debs).find((f) => f.startsWith("musl_") && f.endsWith(`_${a.deb}.deb`));
    const version = run("dpkg-deb", ["-f", join(debs, deb), "Version"]).trim();
    if (!atLeast(version.split("-")[0], "1.2.4")) {
      console.error(`ship-deps: ${MUSL_SUITE}'s musl is ${version}; Bun's musl build needs 1.2.4 or later`);
      process.exit(1);
    }
    run("dpkg-deb", ["-x", join(debs, deb), join(CACHE, `musl-${a.deb}`)]);
  }
  rmSync(join(CACHE, "apt"), { recursive: true, force: true }); // the suite's index: used once
  return out;
}

/** libstdc++.so.6 and libgcc_s.so.1 for musl on `arch`, from the wheel, into `lib`. */
function muslCxx(arch, lib) {
  const dir = join(CACHE, `wheel-${arch.wheel}`);
  if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith(".whl"))) {
    const pip = ["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:"];
    run("python3", [...pip, "--platform", arch.wheel, "--python-version", "3.12", "-d", dir, LIBSTDCXX_WHEEL]);
  }
  const wheel = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith(".whl")),
  );
  const extract = [
    "import sys, zipfile",
    "z = zipfile.ZipFile(sys.argv[1])",
    "for n in z.namelist():",
    "    if '.libs/' in n and not n.endswith('/'):",
    "        open(sys.argv[2] + '/' + n.split('/')[-1], 'wb').write(z.read(n))",
  ].join("\n");
  run("python3", ["-c", extract, wheel, lib]);
  for (const [prefix, link] of [
    ["libstdc++-", "libstdc++.so.6"],
    ["libgcc_s-", "libgcc_s.so.1"],
  ]) {
    const file = readdirSync(lib).find((f) => f.startsWith(prefix));
    if (file === undefined) {
      console.error(`ship-deps: ${LIBSTDCXX_WHEEL} (${arch.wheel}) carries no ${prefix}*`);
      process.exit(1);
    }
    rmSync(join(lib, link), { force: true });
    symlinkSync(file, join(lib, link));
  }
}

/** A root with musl's loader and libstdc++ in lib/ (qemu's -L root, or the patched interpreter's home). */
function muslRoot(key, libc) {
  const arch = ARCHES[key];
  const root = join(CACHE, `root-${arch.bun}-musl`);
  const loader = join(root, "lib", `ld-musl-${arch.musl}.so.1`);
  if (existsSync(join(root, "lib", "libstdc++.so.6")) && existsSync(loader)) return root;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, "lib"), { recursive: true });
  copyFileSync(libc, loader);
  muslCxx(arch, join(root, "lib"));
  return root;
}

/** The x64 musl Bun with its interpreter and rpath patched to `root` (so it can spawn itself). */
function patchedMuslBun(root) {
  const bun = join(root, "bun");
  if (existsSync(bun)) return bun;
  const original = bunBuild("x64-musl");
  copyFileSync(original, `${bun}.tmp`);
  rmSync(join(original, "..", "..", ".."), { recursive: true }); // only the patched copy is used
  const lib = join(root, "lib");
  run("patchelf", ["--set-interpreter", join(lib, "ld-musl-x86_64.so.1"), "--set-rpath", lib, `${bun}.tmp`]);
  run("chmod", ["+x", `${bun}.tmp`]);
  run("mv", [`${bun}.tmp`, bun]);
  return bun;
}

for (const [tool, pkg] of [
  [QEMU, "qemu-user-static"],
  [`${ARM64_GLIBC}/lib/ld-linux-aarch64.so.1`, "libc6-arm64-cross"],
]) {
  if (!existsSync(tool)) {
    console.error(`ship-deps: ${tool} is missing: apt-get install ${pkg} (npm run setup does)`);
    process.exit(1);
  }
}
mkdirSync(CACHE, { recursive: true });
const libc = muslLibraries();
const x64Musl = muslRoot("x64", libc.x64);
const arm64Musl = muslRoot("arm64", libc.arm64);
const runtimes = {
  "linux-x64-musl": { command: [patchedMuslBun(x64Musl)], libc: "musl" },
  "linux-arm64-glibc": { command: [QEMU, "-L", ARM64_GLIBC, bunBuild("aarch64")], libc: "glibc" },
  "linux-arm64-musl": { command: [QEMU, "-L", arm64Musl, bunBuild("aarch64-musl")], libc: "musl" },
};
writeFileSync(join(CACHE, "runtimes.json"), `${JSON.stringify(runtimes, null, 2)}\n`);
console.log(join(CACHE, "runtimes.json"));
