/**
 * The entry point shared by the scenario scripts: runs the case named on the
 * command line and prints its report as the last stdout line (the line
 * `runScenario` parses).
 */

/** One case of a scenario script: the arguments after its name, to the fields of its report. */
export type ScenarioCase = (args: string[]) => object | Promise<object>;

/** Prints a scenario's report as the last stdout line. */
export function report(value: object): void {
  console.log(JSON.stringify(value));
}

/**
 * Runs `guard` (which refuses to run outside a private network namespace),
 * then the case named by `process.argv[2]` with the remaining arguments,
 * prints `{ case, ...report }` and exits 0. An unknown name throws.
 */
export async function runCase(cases: Record<string, ScenarioCase>, guard: () => void): Promise<void> {
  guard();
  const [name = "", ...args] = process.argv.slice(2);
  const run = cases[name];
  if (run === undefined)
    throw new Error(`unknown case ${JSON.stringify(name)}; known: ${Object.keys(cases).join(", ")}`);
  report({ case: name, ...(await run(args)) });
  process.exit(0);
}
