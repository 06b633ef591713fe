#!/usr/bin/env node
// Runs the pinned zig (installed by `npm run setup`) with the given arguments.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ROOT, ZIG } from "./toolchain.mjs";

if (!existsSync(ZIG)) {
  console.error(`zig not found at ${ZIG}: run \`npm run setup\` first`);
  process.exit(127);
}
const run = spawnSync(ZIG, process.argv.slice(2), { stdio: "inherit", cwd: ROOT });
process.exit(run.status ?? 1);
