// Types of toolchain.mjs (plain JavaScript for node), for TypeScript importers such as bench/lib/build.ts.

/** Zig version from PyPI's `ziglang` package that the project builds with. */
export declare const ZIG_VERSION: string;
/** Root of the repository. */
export declare const ROOT: string;
/** Folder the `ziglang` wheel is installed into (kept out of git). */
export declare const ZIG_HOME: string;
/** The pinned zig executable. */
export declare const ZIG: string;
/** The pinned bun executable, installed by npm from the `bun` package. */
export declare const BUN: string;
