/**
 * docs/clients.md's recipes are the files the client tests run: each ```ts
 * block right after a "From [test/clients/recipes/X.ts](...)" line must be
 * that file, byte for byte, and every recipe file must be shown.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const REPO = join(import.meta.dir, "..", "..");
const RECIPES = join(REPO, "test", "clients", "recipes");
const FROM = /^From \[test\/clients\/recipes\/([\w.-]+\.ts)\]\(\.\.\/test\/clients\/recipes\/\1\):$/;

/** The recipe blocks of `markdown`: the file each names, and the block's text. */
function recipeBlocks(markdown: string): Array<{ file: string; code: string; line: number }> {
  const lines = markdown.split("\n");
  const out: Array<{ file: string; code: string; line: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const file = FROM.exec(lines[i]!)?.[1];
    if (file === undefined) continue;
    expect(lines[i + 1]).toBe("");
    expect(lines[i + 2]).toBe("```ts");
    const end = lines.indexOf("```", i + 3);
    out.push({ file, code: `${lines.slice(i + 3, end).join("\n")}\n`, line: i + 1 });
    i = end;
  }
  return out;
}

const blocks = recipeBlocks(readFileSync(join(REPO, "docs", "clients.md"), "utf8"));

test("every recipe file is shown in docs/clients.md, once", () => {
  const files = readdirSync(RECIPES).filter((f) => f.endsWith(".ts"));
  expect(blocks.map((b) => b.file).sort()).toEqual(files.sort());
});

for (const block of blocks) {
  test(`docs/clients.md:${block.line}: the block is test/clients/recipes/${block.file}`, () => {
    expect(block.code).toBe(readFileSync(join(RECIPES, block.file), "utf8"));
  });
}
