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

/** Reads `--name value` from `args` (removing both); undefined when absent. Given twice: UsageError. */
export function takeOption(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  if (args.includes(name)) throw new UsageError(`${name} given more than once`);
  return value;
}

/** Reads a boolean `--flag` from `args` (removing it). Given twice: UsageError. */
export function takeFlag(args: string[], name: string): boolean {
  const at = args.indexOf(name);
  if (at < 0) return false;
  args.splice(at, 1);
  if (args.includes(name)) throw new UsageError(`${name} given more than once`);
  return true;
}

/** The first argument that looks like an option (`-x`, `--name`): left over after the known ones, it is unknown. */
export function unknownOption(args: readonly string[]): string | undefined {
  return args.find((a) => a.length > 1 && a.startsWith("-"));
}

/** A decimal integer option in `min..max` (digits only: no `1e3`, `0x10`, spaces or sign). Throws UsageError. */
export function integerOption(name: string, text: string, min: number, max: number, unit = ""): number {
  const value = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(`${name} must be ${min}..${max}${unit === "" ? "" : ` ${unit}`}, got ${JSON.stringify(text)}`);
  }
  return value;
}
