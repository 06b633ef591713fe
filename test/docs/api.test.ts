/**
 * docs/api.md documents exactly what the two package entries export: under
 * `## fastopen` one `###` heading per export of src/index.ts ("."), under
 * `## fastopen/lowlevel` one per export of src/lowlevel.ts ("./lowlevel"),
 * runtime values (the module's keys) and types (read from the entry's source)
 * alike, each with its signature in a code block. A missing or extra heading
 * fails with its name.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as root from "../../src/index.ts";
import * as lowlevel from "../../src/lowlevel.ts";
import { difference, entries, exportsOf } from "./markdown.ts";

const REPO = join(import.meta.dir, "..", "..");
const API = readFileSync(join(REPO, "docs", "api.md"), "utf8");

const SECTIONS = [
  { section: "fastopen", module: root as object, file: join(REPO, "src", "index.ts") },
  { section: "fastopen/lowlevel", module: lowlevel as object, file: join(REPO, "src", "lowlevel.ts") },
];

describe("docs/api.md matches the package's exports", () => {
  for (const { section, module, file } of SECTIONS) {
    test(`## ${section}: one ### heading per export of ${file.slice(REPO.length + 1)}, no other`, () => {
      const documented = entries(API, section).map((entry) => entry.name);
      expect(documented.length).toBeGreaterThan(0);
      const repeated = documented.filter((name, i) => documented.indexOf(name) !== i);
      // missing: exported but not documented; extra: documented but not exported.
      expect({ section, repeated, ...difference(exportsOf(module, file), documented) }).toEqual({
        section,
        repeated: [],
        missing: [],
        extra: [],
      });
    });

    test(`## ${section}: every entry shows its signature in a ts code block`, () => {
      const unsigned = entries(API, section)
        .filter((entry) => !/```ts\n[\s\S]*?\n```/.test(entry.body))
        .map((entry) => entry.name);
      expect({ section, unsigned }).toEqual({ section, unsigned: [] });
    });
  }
});
