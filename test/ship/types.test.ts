/**
 * Issue #9: a consumer's strict typecheck of code using the installed
 * package. The project is `bun init`'s tsconfig plus the stricter flags
 * (`exactOptionalPropertyTypes`, `noUnusedLocals`, `noUnusedParameters`,
 * `noPropertyAccessFromIndexSignature`), on the pinned TypeScript and
 * @types/bun; it checks the consumer app against the package's generated
 * declarations (the `types` export condition), never the package's .ts
 * sources. A deliberate misuse must fail, so the types are really there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, consumerProject, execute, type Outcome, ROOT } from "./common.ts";

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** `bun init`'s compiler options (Bun 1.4.5), with the stricter flags on. */
const STRICT = {
  lib: ["ESNext"],
  target: "ESNext",
  module: "Preserve",
  moduleDetection: "force",
  jsx: "react-jsx",
  allowJs: true,
  types: ["bun"],
  moduleResolution: "bundler",
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  noEmit: true,
  strict: true,
  skipLibCheck: true,
  noFallthroughCasesInSwitch: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  noPropertyAccessFromIndexSignature: true,
  exactOptionalPropertyTypes: true,
};

/** Misuses a correct declaration rejects: a number hostname, a string queue, an unknown option. */
const MISUSE = `import { connect, listen } from "fastopen";
import { socketTcp6 } from "fastopen/lowlevel";
listen({ hostname: 1, port: 0, socket: {} });
listen({ hostname: "::1", port: 0, fastOpen: "many", socket: {} });
await connect({ hostname: "::1", port: 1, payload: 5, socket: {} });
const s: string = socketTcp6();
console.log(s);
`;

let project: string;

/** tsc on `project` with `tsconfig` (a file name in it); also lists the files it read. */
function tsc(tsconfig: string): Outcome {
  return execute(["node", TSC, "--noEmit", "--listFiles", "-p", join(project, tsconfig)], { cwd: project });
}

beforeAll(() => {
  project = consumerProject();
  for (const name of ["typescript", "@types/bun", "bun-types"]) {
    mkdirSync(join(project, "node_modules", name, ".."), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), join(project, "node_modules", name));
  }
  const tsconfig = (files: string[], options: object = {}) =>
    JSON.stringify({ compilerOptions: { ...STRICT, ...options }, files });
  writeFileSync(join(project, "tsconfig.json"), tsconfig(["main.ts"]));
  writeFileSync(join(project, "tsconfig.libcheck.json"), tsconfig(["main.ts"], { skipLibCheck: false }));
  const node = { module: "NodeNext", moduleResolution: "NodeNext", allowImportingTsExtensions: false };
  writeFileSync(join(project, "tsconfig.nodenext.json"), tsconfig(["main.ts"], node));
  // The package's sources on their own (the repository's flags): they reference the Bun.connect({ fd }) overloads.
  const sources = ["node_modules/fastopen/src/index.ts", "node_modules/fastopen/src/lowlevel.ts"];
  const own = { exactOptionalPropertyTypes: false, noPropertyAccessFromIndexSignature: false };
  writeFileSync(join(project, "tsconfig.sources.json"), tsconfig(sources, own));
  writeFileSync(join(project, "misuse.ts"), MISUSE);
  writeFileSync(join(project, "tsconfig.misuse.json"), tsconfig(["misuse.ts"]));
}, 300_000);

afterAll(() => cleanup(project));

describe("a consumer's strict typecheck", () => {
  test("passes on the consumer app, reading the package's declarations and none of its .ts sources", () => {
    const outcome = tsc("tsconfig.json");
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain("error TS");
    expect(outcome.status).toBe(0);
    const read = outcome.stdout.split("\n").filter((file) => file.includes("/node_modules/fastopen/"));
    expect(read).toContain(join(project, "node_modules/fastopen/dist/index.d.ts"));
    expect(read).toContain(join(project, "node_modules/fastopen/dist/lowlevel.d.ts"));
    expect(read.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
  }, 60_000);

  test("also passes with skipLibCheck off: the declarations themselves check", () => {
    const outcome = tsc("tsconfig.libcheck.json");
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain("error TS");
    expect(outcome.status).toBe(0);
  }, 60_000);

  test("also passes under moduleResolution NodeNext, without allowImportingTsExtensions", () => {
    const outcome = tsc("tsconfig.nodenext.json");
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain("error TS");
    expect(outcome.status).toBe(0);
  }, 60_000);

  test("the package's .ts sources check on their own, Bun.connect({ fd }) overloads included", () => {
    const outcome = tsc("tsconfig.sources.json");
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain("error TS");
    expect(outcome.status).toBe(0);
    expect(outcome.stdout).toContain(join(project, "node_modules/fastopen/src/types/bun-fd.d.ts"));
  }, 60_000);

  test("rejects misuse of both entries, one error per misuse", () => {
    const outcome = tsc("tsconfig.misuse.json");
    expect(outcome.status).not.toBe(0);
    const errors = outcome.stdout.split("\n").filter((line) => line.startsWith("misuse.ts("));
    expect(errors.map((line) => line.slice(0, line.indexOf(","))).sort()).toEqual([
      "misuse.ts(3",
      "misuse.ts(4",
      "misuse.ts(5",
      "misuse.ts(6",
    ]);
  }, 60_000);
});
