/**
 * `fastopen key`: a fresh random TFO key to give a fleet's listeners
 * (`listen({ fastOpen: { keys: [key] } })`), or, with `--secret-file`, the
 * pair `fastOpenKeys()` derives now from a fleet's shared secret. `--sysctl`
 * prints the `net.ipv4.tcp_fastopen_key` form instead of hex.
 */
import { readFileSync } from "node:fs";
import { deriveKeys, parseInterval, parseSecret, randomKey } from "../keys.ts";
import { keyHex, keySysctl } from "../lowlevel/key.ts";
import { type Command, takeFlag, takeOption, UsageError, unknownOption } from "./args.ts";

/** What `fastopen key --json` prints. */
export interface KeyReport {
  /** The keys, primary first, in the chosen form. */
  keys: string[];
  /** `"random"`, or `"derived"` from a secret (then `epoch` and `changesAt` too). */
  source: "random" | "derived";
  epoch?: number;
  changesAt?: number;
}

/** Reads a number option (an integer in min..max, in decimal digits: no `1e3`, `0x10`, spaces) or undefined. */
function numberOption(args: string[], name: string, min: number, max: number): number | undefined {
  const text = takeOption(args, name);
  if (text === undefined) return undefined;
  const value = DIGITS.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${text}`);
  return value;
}

/** A whole number in decimal digits (at most 16: past Number.MAX_SAFE_INTEGER the range checks refuse it). */
const DIGITS = /^\d{1,16}$/;

/** The secret in `path`, without one trailing newline (as `echo` and editors leave it). */
function readSecret(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new UsageError(`--secret-file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let end = bytes.byteLength;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  try {
    return parseSecret(bytes.subarray(0, end), "the secret");
  } catch (error) {
    throw new UsageError(`--secret-file ${path}: ${(error as Error).message}`);
  }
}

/** The report for the parsed options. */
function keyReport(args: string[]): { report: KeyReport; json: boolean; sysctl: boolean } {
  const json = takeFlag(args, "--json");
  const sysctl = takeFlag(args, "--sysctl");
  const secretFile = takeOption(args, "--secret-file");
  const intervalText = takeOption(args, "--interval");
  const now = numberOption(args, "--now", 0, Number.MAX_SAFE_INTEGER) ?? Date.now();
  const count = numberOption(args, "--count", 1, 100);
  const unknown = unknownOption(args);
  if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}`);
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
  const form = sysctl ? keySysctl : keyHex;
  if (secretFile === undefined) {
    if (intervalText !== undefined) throw new UsageError("--interval needs --secret-file");
    const keys = Array.from({ length: count ?? 1 }, () => form(randomKey()));
    return { report: { keys, source: "random" }, json, sysctl };
  }
  if (intervalText === undefined) throw new UsageError("--secret-file needs --interval MS");
  if (count !== undefined) throw new UsageError("--count is for random keys, not with --secret-file");
  if (!DIGITS.test(intervalText))
    throw new UsageError(`--interval must be an integer in decimal digits, got ${JSON.stringify(intervalText)}`);
  let interval: number;
  try {
    interval = parseInterval(Number(intervalText), "--interval");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const derived = deriveKeys(readSecret(secretFile), interval, now);
  const keys = [form(derived.primary), form(derived.backup)];
  return { report: { keys, source: "derived", epoch: derived.epoch, changesAt: derived.changesAt }, json, sysctl };
}

/** The `key` command. */
export const key: Command = {
  summary: "print a fresh random TFO key, or the pair a fleet's secret gives now",
  usage: [
    "fastopen key [--count N] [--sysctl] [--json]",
    "fastopen key --secret-file PATH --interval MS [--now MS] [--sysctl] [--json]",
    "  --count N        random keys to print (default 1), one per line",
    "  --secret-file    the fleet's shared secret (>= 16 bytes; one trailing newline ignored):",
    "                   print fastOpenKeys(secret, { interval }): primary, then backup",
    "  --interval MS    ms between key changes, the same on every server (1000 .. 2^40)",
    "  --now MS         the time to derive for, in ms since the epoch (default: now)",
    "  --sysctl         the net.ipv4.tcp_fastopen_key form (xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx,",
    "                   a pair comma-separated) instead of 32 hex digits",
    "  --json           print { keys, source, epoch?, changesAt? }",
  ].join("\n"),
  run(args) {
    const { report, json, sysctl } = keyReport(args);
    if (json) console.log(JSON.stringify(report));
    else if (sysctl && report.source === "derived") console.log(report.keys.join(","));
    else console.log(report.keys.join("\n"));
    return 0;
  },
};
