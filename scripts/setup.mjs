#!/usr/bin/env node
// One-command set-up: installs the pinned Zig (PyPI `ziglang`) and the npm
// dependencies (pinned Bun among them), the Debian tools and servers the tests
// use when run as root and the foreign runtimes of the shipping tests, builds
// the native library, then runs the demo.
// Usage: npm run setup [-- --no-demo]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { BUN, ROOT, ZIG, ZIG_HOME, ZIG_VERSION } from "./toolchain.mjs";

/** Runs a command, inheriting stdio; exits the set-up when it fails. */
function run(cmd, args, opts = {}) {
  console.log(`$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: ROOT, ...opts });
  if (r.status !== 0) {
    console.error(`set-up failed: ${cmd} exited with ${r.status ?? r.signal}`);
    process.exit(r.status || 1);
  }
}

/** Returns the version printed by the installed zig, or null. */
function installedZig() {
  if (!existsSync(ZIG)) return null;
  const r = spawnSync(ZIG, ["version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Returns true when `cmd` is on PATH. */
function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

if (installedZig() !== ZIG_VERSION) {
  run("python3", [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-warn-script-location",
    "--upgrade",
    "--target",
    ZIG_HOME,
    `ziglang==${ZIG_VERSION}`,
  ]);
}
run("npm", [existsSync(`${ROOT}/package-lock.json`) ? "ci" : "install", "--no-audit", "--no-fund"]);

// The namespace tests need iproute2 (ip netns, veth) and iptables (SYN drops); the client tests
// (test/clients/) start real servers: redis, PostgreSQL, memcached, nginx (with openssl for its
// certificate) and MariaDB. They start their own server processes inside the tests' private
// namespaces, on their own ports and temporary directories: a service the package starts on the
// host (where policy-rc.d allows it) does not interfere. The shipping tests (test/ship/) run arm64
// Bun under qemu-user (glibc from libc6-arm64-cross) and patch musl Bun with patchelf.
const APT = {
  ip: "iproute2",
  iptables: "iptables",
  "redis-server": "redis-server",
  "/usr/lib/postgresql": "postgresql",
  memcached: "memcached",
  nginx: "nginx-light",
  openssl: "openssl",
  mariadbd: "mariadb-server",
  "qemu-aarch64-static": "qemu-user-static",
  "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1": "libc6-arm64-cross",
  patchelf: "patchelf",
};
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const missing = Object.entries(APT)
  .filter(([cmd]) => !(cmd.startsWith("/") ? existsSync(cmd) : have(cmd)))
  .map(([, pkg]) => pkg);
if (process.platform === "linux" && isRoot && missing.length > 0 && have("apt-get")) {
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}
// Bun's musl and arm64 builds and musl 1.2.5 for the shipping tests (cached in .cache/ship).
if (process.platform === "linux" && process.arch === "x64" && isRoot) run("node", ["scripts/ship-deps.mjs"]);

run(ZIG, ["build", "-Doptimize=ReleaseSafe"]);
if (!process.argv.includes("--no-demo")) run(BUN, ["src/cli/main.ts", "demo"]);
