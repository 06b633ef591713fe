/** Command-line flags of the bench scripts. */

/** The positive number after `name` in the command line (`--rounds 5`), or `fallback` when the flag is absent. */
export function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} needs a positive number`);
  return value;
}
