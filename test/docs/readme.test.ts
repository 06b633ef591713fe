/**
 * The README's examples are claims: each ```ts block that ends with
 * "// With net.ipv4.tcp_fastopen=X ... this prints:" and the printed lines as
 * comments is run as printed, importing "fastopen" like a user would, in a
 * private network namespace with that setting, and its output must be
 * exactly those lines.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNamespace } from "../../src/cli/netns.ts";
import { namespaceSuite } from "../support/netns-suite.ts";

const REPO = join(import.meta.dir, "..", "..");
const CLAIM = /^\/\/ With net\.ipv4\.tcp_fastopen=(\w+)\b.* this prints:$/;

interface Example {
  line: number;
  code: string;
  setting: string;
  prints: string[];
}

/** The README's ts blocks that say what they print. */
function examples(markdown: string): Example[] {
  const out: Example[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```ts") continue;
    const end = lines.indexOf("```", i + 1);
    const block = lines.slice(i + 1, end);
    const at = block.findIndex((line) => CLAIM.test(line));
    if (at >= 0) {
      out.push({
        line: i + 1,
        code: block.join("\n"),
        setting: CLAIM.exec(block[at]!)![1]!,
        prints: block.slice(at + 1).map((line) => line.replace(/^\/\/ ?/, "")),
      });
    }
    i = end;
  }
  return out;
}

const found = examples(readFileSync(join(REPO, "README.md"), "utf8"));

test("the README has its connect/listen and node:http examples, each saying what it prints", () => {
  expect(found.length).toBeGreaterThanOrEqual(2);
  for (const example of found) {
    expect(example.code).toContain('from "fastopen"');
    expect(example.prints.length).toBeGreaterThan(0);
  }
});

// A folder where `import ... from "fastopen"` resolves to this checkout, as it would for a user of the package.
const home = mkdtempSync(join(tmpdir(), "fastopen-readme-"));
mkdirSync(join(home, "node_modules"));
symlinkSync(REPO, join(home, "node_modules", "fastopen"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

namespaceSuite("README examples")("README examples run as printed", () => {
  for (const example of found) {
    test(`README.md:${example.line}: prints what it says (net.ipv4.tcp_fastopen=${example.setting})`, () => {
      const script = join(home, `example-${example.line}.ts`);
      writeFileSync(script, example.code);
      const sysctl = { tcp_fastopen: example.setting };
      const run = runInNamespace([process.execPath, script], { sysctl }, { cwd: home, timeout: 20_000 });
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
      expect(run.stdout.trimEnd().split("\n")).toEqual(example.prints);
    });
  }
});
