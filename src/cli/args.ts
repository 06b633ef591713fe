/**
 * What every `fastopen` CLI command shares: the `Command` shape, the usage
 * error (exit code 2) and the option readers. Kept apart from main.ts so that
 * command modules can use them without importing the command table.
 */

/** A CLI command: a one-line summary, its usage text and the function that runs it. */
export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): number | Promise<number>;
}

/** Thrown for bad usage: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Reads `--name value` from `args` (removing both); undefined when absent. */
export function takeOption(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

/** Reads a boolean `--flag` from `args` (removing it). */
export function takeFlag(args: string[], name: string): boolean {
  const at = args.indexOf(name);
  if (at < 0) return false;
  args.splice(at, 1);
  return true;
}
