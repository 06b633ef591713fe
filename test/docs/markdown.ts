/**
 * What the documentation tests read: the headings and links of Markdown files
 * (outside fenced code blocks), GitHub's heading anchors, and the exports of
 * a TypeScript entry file (runtime names from the loaded module, type names
 * from its source text).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The lines of `markdown` outside fenced code blocks, with their 1-based numbers. */
export function proseLines(markdown: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let fence: string | null = null;
  markdown.split("\n").forEach((text, i) => {
    const marker = /^\s*(```+|~~~+)/.exec(text)?.[1];
    if (marker !== undefined) {
      if (fence === null) fence = marker[0]!;
      else if (marker[0] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text });
  });
  return out;
}

/** A heading's text without code and emphasis marks (`` ` `` and `*`; `_` stays, names contain it). */
function headingText(raw: string): string {
  return raw.replace(/[`*]/g, "").trim();
}

/** The `#`..`######` headings of `markdown`, in order. */
export function headings(markdown: string): Array<{ level: number; text: string; line: number }> {
  const out: Array<{ level: number; text: string; line: number }> = [];
  for (const { line, text } of proseLines(markdown)) {
    const match = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(text);
    if (match !== null) out.push({ level: match[1]!.length, text: headingText(match[2]!), line });
  }
  return out;
}

/**
 * The `###` headings under the `## section` heading (up to the next `##` or
 * `#`), each with the text up to the next heading of any level.
 */
export function entries(markdown: string, section: string): Array<{ name: string; body: string }> {
  const lines = markdown.split("\n");
  const all = headings(markdown);
  const start = all.findIndex((h) => h.level === 2 && h.text === section);
  if (start < 0) return [];
  const out: Array<{ name: string; body: string }> = [];
  for (let i = start + 1; i < all.length && all[i]!.level > 2; i++) {
    const heading = all[i]!;
    if (heading.level !== 3) continue;
    const end = all[i + 1]?.line ?? lines.length + 1;
    out.push({ name: heading.text, body: lines.slice(heading.line, end - 1).join("\n") });
  }
  return out;
}

/** GitHub's anchor for a heading text: lower case, punctuation dropped, spaces as hyphens. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor of `markdown`, as GitHub makes them (a repeated slug gets `-1`, `-2`, ...). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text } of headings(markdown)) {
    const base = slug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

/** The link targets of `markdown`'s prose (`[text](target)`, `![alt](target)`), with their line numbers. */
export function links(markdown: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  for (const { line, text } of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, "");
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ line, target: match[1]! });
    }
  }
  return out;
}

/** True for a link that leaves the repository (a URL with a scheme, or protocol-relative). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/**
 * What is wrong with a relative link from `file`, or null when it points to
 * an existing file or folder (and, for a Markdown file, an existing anchor).
 */
export function brokenLink(file: string, target: string): string | null {
  const [path, fragment] = target.split("#", 2) as [string, string | undefined];
  const destination = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
  if (!existsSync(destination)) return `${target}: no such file`;
  if (fragment === undefined || fragment === "") return null;
  if (statSync(destination).isDirectory() || !destination.endsWith(".md")) return null;
  const known = anchors(readFileSync(destination, "utf8"));
  return known.has(fragment) ? null : `${target}: no heading with anchor #${fragment}`;
}

/** Source text without comments (line comments only where `//` starts the line or follows a blank). */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
}

/** The names a `{ a, b as c, type d }` export list makes public; unless `allTypes`, only its `type` items. */
function listNames(list: string, allTypes: boolean): string[] {
  const names: string[] = [];
  for (const item of list
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    const isType = allTypes || /^type\s/.test(item);
    if (!isType) continue;
    const bare = item.replace(/^type\s+/, "");
    const renamed = /\bas\s+([\w$]+)$/.exec(bare);
    names.push(renamed?.[1] ?? bare);
  }
  return names;
}

/**
 * The type-only names a TypeScript file exports, read from its text:
 * `export type { ... }`, `export { type ... }`, `export interface X`,
 * `export type X =`, and those of files re-exported with `export *`.
 */
export function typeExports(file: string, visited: Set<string> = new Set()): Set<string> {
  const out = new Set<string>();
  if (visited.has(file)) return out;
  visited.add(file);
  const source = withoutComments(readFileSync(file, "utf8"));
  for (const match of source.matchAll(/export\s+type\s*\{([^}]*)\}/g)) {
    for (const name of listNames(match[1]!, true)) out.add(name);
  }
  for (const match of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const name of listNames(match[1]!, false)) out.add(name);
  }
  for (const match of source.matchAll(/export\s+(?:declare\s+)?interface\s+([\w$]+)/g)) out.add(match[1]!);
  for (const match of source.matchAll(/export\s+(?:declare\s+)?type\s+([\w$]+)/g)) out.add(match[1]!);
  for (const match of source.matchAll(/export\s+(?:type\s+)?\*\s+from\s+["']([^"']+)["']/g)) {
    const target = join(dirname(file), match[1]!);
    if (existsSync(target)) for (const n of typeExports(target, visited)) out.add(n);
  }
  return out;
}

/** Every name an entry exports: the module's runtime names and the type names of its source. */
export function exportsOf(module: object, file: string): Set<string> {
  return new Set([...Object.keys(module), ...typeExports(file)]);
}

/** The names in `expected` but not in `actual` (missing) and the other way round (extra), sorted. */
export function difference(
  expected: Iterable<string>,
  actual: Iterable<string>,
): { missing: string[]; extra: string[] } {
  const want = new Set(expected);
  const have = new Set(actual);
  return {
    missing: [...want].filter((name) => !have.has(name)).sort(),
    extra: [...have].filter((name) => !want.has(name)).sort(),
  };
}
