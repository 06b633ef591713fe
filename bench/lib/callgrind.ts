/**
 * Running a program under callgrind and reading its per-window counts: the
 * program dumps the instructions counted since its previous dump with a
 * client request (bench/c/cgreq.c), so each window's count is an absolute
 * number of user-space instructions (all threads), never a difference of
 * two runs.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./build.ts";

/** One dump: the name the program gave it and the instructions counted in it. */
export interface Window {
  name: string;
  instructions: number;
}

/** Options of `callgrindWindows`. */
export interface CallgrindRun {
  /** Network namespace to run in (`ip netns exec`), or none. */
  ns?: string;
  /** Extra valgrind options (for example `--instr-atstart=no`). */
  valgrind?: string[];
  env?: Record<string, string>;
}

/** The windows of one callgrind output folder, in dump order (the final "Program termination" dump left out). */
export function readWindows(dir: string): Window[] {
  const windows: Array<Window & { part: number }> = [];
  for (const file of readdirSync(dir)) {
    const part = /^out\.(\d+)$/.exec(file);
    if (part === null) continue;
    const text = readFileSync(join(dir, file), "utf8");
    const name = /^desc: Trigger: Client Request: (.*)$/m.exec(text);
    const total = /^(?:summary|totals): (\d+)/m.exec(text);
    if (name === null || total === null) continue;
    windows.push({ name: name[1]!.trim(), instructions: Number(total[1]), part: Number(part[1]) });
  }
  return windows.sort((a, b) => a.part - b.part).map(({ name, instructions }) => ({ name, instructions }));
}

/** Runs `command` under callgrind (asynchronously: several may run side by side) and returns its windows. */
export function callgrindWindows(command: string[], options: CallgrindRun = {}): Promise<Window[]> {
  const dir = tempDir("fastopen-cg-");
  const valgrind = [
    "valgrind",
    "--tool=callgrind",
    "--dump-instr=no",
    "--dump-line=no",
    `--callgrind-out-file=${join(dir, "out")}`,
    ...(options.valgrind ?? []),
    ...command,
  ];
  const argv = options.ns === undefined ? valgrind : ["ip", "netns", "exec", options.ns, ...valgrind];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.stdout.resume();
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`valgrind ${command.join(" ")} failed (${code}):\n${stderr}`));
      else resolve(readWindows(dir));
    });
  });
}
