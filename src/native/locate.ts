/**
 * Where libfastopen is loaded from, in order: the file named by
 * `FASTOPEN_LIB`; the development build in the checkout's zig-out/lib (only
 * when the facade runs from its sources, never from a bundle); the prebuilt
 * library shipped for `process.platform`-`process.arch`. The architecture is
 * chosen here, not by trial: a wrong-architecture dlopen fails with a
 * misleading "No such file".
 */
import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import { PREBUILT_TARGETS, packagedPath, prebuiltPath, prebuiltTarget } from "./prebuilt.ts";

/** A library to load and which rule found it. */
export interface LibraryLocation {
  path: string;
  source: "FASTOPEN_LIB" | "zig-out" | "prebuilt";
}

/** What `locateLibrary` looks at; each defaults to this process's. */
export interface LocateContext {
  env: Record<string, string | undefined>;
  platform: string;
  arch: string;
  /** The development build's path, or null when the facade does not run from its sources. */
  devBuild: string | null;
  /** The shipped library of a target (throws where it was not built). */
  prebuilt: (target: (typeof PREBUILT_TARGETS)[number]) => string;
}

/** File name of the shared library on `platform`. */
export function libraryFileName(platform: string = process.platform): string {
  return platform === "darwin" ? "libfastopen.dylib" : "libfastopen.so";
}

/** The checkout's zig-out/lib library when this file runs from src/native (not bundled), else null. */
function devBuildPath(): string | null {
  const fromSource = import.meta.path.endsWith(`${sep}src${sep}native${sep}locate.ts`);
  return fromSource ? join(import.meta.dir, "..", "..", "zig-out", "lib", libraryFileName()) : null;
}

/** This process's context. */
export function currentContext(): LocateContext {
  return {
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    devBuild: devBuildPath(),
    prebuilt: prebuiltPath,
  };
}

/** The error for no usable library: platform, arch, every path tried, and what to do. */
function notFound(context: LocateContext, tried: string[], why: string): Error {
  const { platform, arch } = context;
  const paths = tried.length > 0 ? tried.join(", ") : "no file";
  return new Error(
    `fastopen: no native library for ${platform}-${arch}: ${why} (tried: ${paths}). ` +
      `Prebuilt libraries ship for ${PREBUILT_TARGETS.join(", ")}. Elsewhere, build libfastopen from a ` +
      "git checkout (`npm run setup`, or `zig build -Doptimize=ReleaseSafe`) and set FASTOPEN_LIB to " +
      `zig-out/lib/${libraryFileName(platform)}.`,
  );
}

/** Finds the library to load (see the module comment); throws a clear error when there is none. */
export function locateLibrary(context: LocateContext = currentContext()): LibraryLocation {
  const override = context.env.FASTOPEN_LIB;
  if (override !== undefined && override !== "") {
    if (existsSync(override)) return { path: override, source: "FASTOPEN_LIB" };
    throw new Error(`fastopen: FASTOPEN_LIB is ${override}, which does not exist: fix or unset it`);
  }
  const tried: string[] = [];
  if (context.devBuild !== null) {
    if (existsSync(context.devBuild)) return { path: context.devBuild, source: "zig-out" };
    tried.push(context.devBuild);
  }
  const target = prebuiltTarget(context.platform, context.arch);
  if (target === null) throw notFound(context, tried, "no prebuilt library is shipped for this platform");
  let path: string;
  try {
    path = context.prebuilt(target);
  } catch (error) {
    tried.push(packagedPath(target, libraryFileName(context.platform)));
    const reason = error instanceof Error ? error.message : String(error);
    throw notFound(
      context,
      tried,
      `the prebuilt library is missing (${reason}; a git checkout has none before \`npm pack\`)`,
    );
  }
  return { path, source: "prebuilt" };
}
