/**
 * Exceptions thrown in user handlers (issue 11.2), in a private network
 * namespace: each case runs handlers-child.ts as a child process and
 * reports its exit code, whether the error was printed, and what it printed
 * last, for Bun.connect (the reference) and fastopen's connect.
 */
import { join } from "node:path";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns } from "./common.ts";

const CHILD = join(import.meta.dir, "handlers-child.ts");

/** One child run. */
export interface ThrowRun {
  exitCode: number;
  printed: boolean;
  report: { saw: string[]; survived: boolean } | null;
}

async function run(which: string, impl: string, mode: string, withError: string): Promise<ThrowRun> {
  const child = Bun.spawn([process.execPath, CHILD, which, impl, mode, withError], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const last = stdout.trim().split("\n").pop() ?? "";
  return {
    exitCode,
    printed: stderr.includes(`boom in ${which}`),
    report: last.startsWith("{") ? (JSON.parse(last) as ThrowRun["report"]) : null,
  };
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /** Every handler × implementation × mode × error handler or not; runs key `which/impl/mode/withError`. */
  async throws() {
    const runs: Record<string, ThrowRun> = {};
    for (const which of ["open", "data", "end", "close"])
      for (const impl of ["bun", "fastopen"])
        for (const mode of impl === "bun" ? ["plain"] : ["plain", "lazy"])
          for (const withError of ["no", "yes"])
            runs[`${which}/${impl}/${mode}/${withError}`] = await run(which, impl, mode, withError);
    runs.connectError = await run("connectError", "fastopen", "plain", "no");
    return { runs };
  },
};

await runCase(cases, assertPrivateNetns);
