#!/usr/bin/env node
// `npm pack` / `npm publish` step (package.json "prepack"): builds what the
// tarball ships and git never holds. 1. `zig build cross` (the pinned Zig),
// its libraries copied to prebuilt/<platform>-<arch>/ and checked by
// check-libs.mjs; 2. the declarations of the two entries, in dist/ (the
// `types` export condition; Bun itself runs the .ts sources).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkLibraries, TARGETS } from "./check-libs.mjs";
import { ROOT, ZIG } from "./toolchain.mjs";

/** Runs a command in the repository, inheriting stdio; exits when it fails. */
function run(cmd, args) {
  console.error(`$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: ROOT });
  if (r.status !== 0) {
    console.error(`prepack failed: ${cmd} exited with ${r.status ?? r.signal}`);
    process.exit(r.status || 1);
  }
}

if (!existsSync(ZIG)) {
  console.error(`prepack: zig not found at ${ZIG}: run \`npm run setup\` first`);
  process.exit(127);
}
run(ZIG, ["build", "cross", "-Doptimize=ReleaseSafe"]);
const prebuilt = join(ROOT, "prebuilt");
rmSync(prebuilt, { recursive: true, force: true });
for (const [target, { file }] of Object.entries(TARGETS)) {
  mkdirSync(join(prebuilt, target), { recursive: true });
  cpSync(join(ROOT, "zig-out", "cross", target, file), join(prebuilt, target, file));
}
const bad = checkLibraries(prebuilt).filter((r) => r.problems.length > 0);
for (const r of bad) console.error(`prepack: ${r.target}: ${r.problems.join("; ")}`);
if (bad.length > 0) process.exit(1);

rmSync(join(ROOT, "dist"), { recursive: true, force: true });
run(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.types.json"]);
