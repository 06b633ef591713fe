/**
 * The prebuilt libraries the package ships, one per platform, each behind a
 * static `with { type: "file" }` import (src/native/prebuilt/), so that
 * `bun build` copies every one next to a bundle and `bun build --compile`
 * embeds them, for any `--target`. Each is required only when asked for: a
 * git checkout has none until `npm pack` (scripts/prepack.mjs) builds them.
 */
import { isAbsolute, join } from "node:path";

/** The platforms a library is shipped for, as `${process.platform}-${process.arch}`. */
export const PREBUILT_TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "freebsd-x64"] as const;

/** One of `PREBUILT_TARGETS`. */
export type PrebuiltTarget = (typeof PREBUILT_TARGETS)[number];

/** The shape of a src/native/prebuilt/ module. */
interface FileModule {
  default: string;
}

/** `platform-arch` when a library is shipped for it, else null. */
export function prebuiltTarget(platform: string, arch: string): PrebuiltTarget | null {
  const name = `${platform}-${arch}`;
  return (PREBUILT_TARGETS as readonly string[]).includes(name) ? (name as PrebuiltTarget) : null;
}

/** The file import of `target`'s library; throws (module not found) where it was not built. */
function fileImport(target: PrebuiltTarget): string {
  // One literal require per platform: the bundler follows each, and only the
  // one asked for runs.
  switch (target) {
    case "linux-x64":
      return (require("./prebuilt/linux-x64.ts") as FileModule).default;
    case "linux-arm64":
      return (require("./prebuilt/linux-arm64.ts") as FileModule).default;
    case "darwin-x64":
      return (require("./prebuilt/darwin-x64.ts") as FileModule).default;
    case "darwin-arm64":
      return (require("./prebuilt/darwin-arm64.ts") as FileModule).default;
    case "freebsd-x64":
      return (require("./prebuilt/freebsd-x64.ts") as FileModule).default;
  }
}

/**
 * The path of `target`'s shipped library: absolute in an installed package,
 * `/$bunfs/...` in a compiled executable (dlopen extracts it), and, in a
 * `bun build` bundle, the copied file next to the bundle (the import gives it
 * relative to the bundle's folder). Throws where the library was not built.
 */
export function prebuiltPath(target: PrebuiltTarget): string {
  const path = fileImport(target);
  return isAbsolute(path) ? path : join(import.meta.dir, path);
}

/** Where `target`'s library sits in the package (for messages). */
export function packagedPath(target: PrebuiltTarget, fileName: string): string {
  return join(import.meta.dir, "..", "..", "prebuilt", target, fileName);
}
