// Fails when a tracked source line is longer than 120 columns: Biome wraps
// code at 120 but leaves long strings and comments alone.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const LIMIT = 120;
const files = execFileSync("git", ["ls-files", "*.ts", "*.mjs", "*.zig", "*.h", "*.c"], { encoding: "utf8" })
  .split("\n")
  .filter((f) => f !== "");
const long = [];
for (const file of files) {
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if ([...line].length > LIMIT) long.push(`${file}:${i + 1}: ${[...line].length} columns`);
    });
}
if (long.length > 0) {
  console.error(`${long.length} lines over ${LIMIT} columns:\n${long.join("\n")}`);
  process.exit(1);
}
console.log(`line length: ${files.length} files, none over ${LIMIT} columns`);
