/**
 * Every relative link in the package page, docs/ and the other Markdown files
 * written beside the code points to a file or folder that exists, and a link
 * to a heading of a Markdown file names an anchor that file has.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brokenLink, isExternal, links } from "./markdown.ts";

const REPO = join(import.meta.dir, "..", "..");

/** README.md, docs/*.md, and the Markdown files beside the code that exist in this checkout. */
function documents(): string[] {
  const docs = readdirSync(join(REPO, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join("docs", name));
  const beside = ["CHANGELOG.md", join("bench", "README.md"), join("test", "README.md")];
  return ["README.md", ...docs, ...beside.filter((path) => existsSync(join(REPO, path)))];
}

test("the documents to check include README.md and docs/api.md", () => {
  expect(documents()).toContain("README.md");
  expect(documents()).toContain(join("docs", "api.md"));
});

for (const document of documents()) {
  test(`${document}: every relative link points to an existing file (and anchor)`, () => {
    const file = join(REPO, document);
    const broken = links(readFileSync(file, "utf8"))
      .filter((link) => !isExternal(link.target))
      .map((link) => ({ line: link.line, problem: brokenLink(file, link.target) }))
      .filter((link) => link.problem !== null)
      .map((link) => `${document}:${link.line}: ${link.problem}`);
    expect(broken).toEqual([]);
  });
}
