// Types of check-libs.mjs for the TypeScript tests.

/** What one shipped target's library must be. */
export interface TargetSpec {
  file: string;
  format: "elf" | "macho";
  machine?: number;
  cpu?: number;
  libc?: string[];
  glibc?: string;
  minos?: string;
  pageAlign?: number;
}

/** The shipped targets, by `platform-arch`. */
export declare const TARGETS: Record<string, TargetSpec>;

/** What the check found in one library. */
export interface LibraryFacts {
  /** DT_NEEDED (ELF) or the linked dylibs (Mach-O). */
  needed: string[];
  /** Highest GLIBC_ (or FBSD_) symbol version needed, or null. */
  maxVersion: string | null;
  /** Imported (undefined) symbols. */
  imports: number;
  /** Minimum macOS (Mach-O only). */
  minos?: string | null;
}

/** One target's result: size, facts, and every rule it breaks (empty: ok). */
export interface LibraryCheck {
  target: string;
  path: string;
  size: number | null;
  facts: LibraryFacts | null;
  problems: string[];
}

/** Compares dotted versions numerically: <0, 0, >0. */
export declare function compareVersions(a: string, b: string): number;

/** Checks every target under `dir`. */
export declare function checkLibraries(dir: string): LibraryCheck[];
