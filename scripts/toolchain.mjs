// Pinned toolchain locations shared by the set-up and wrapper scripts.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Zig version from PyPI's `ziglang` package that the project builds with. */
export const ZIG_VERSION = "0.17.1";
/** Root of the repository. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Folder the `ziglang` wheel is installed into (kept out of git). */
export const ZIG_HOME = join(ROOT, ".toolchain", "zig");
/** The pinned zig executable. */
export const ZIG = join(ZIG_HOME, "ziglang", process.platform === "win32" ? "zig.exe" : "zig");
/** The pinned bun executable, installed by npm from the `bun` package. */
export const BUN = join(ROOT, "node_modules", ".bin", "bun");
