/**
 * Issue #9: where the loader takes libfastopen from (src/native/locate.ts):
 * FASTOPEN_LIB, then the checkout's zig-out build (only when running from
 * the sources), then the prebuilt library of this platform and architecture
 * (never another architecture's); where none fits, one error that names the
 * platform, the architecture, every path tried and what to do. Pure: files
 * are made in a scratch folder, nothing is loaded.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { currentContext, type LocateContext, libraryFileName, locateLibrary } from "../../src/native/locate.ts";
import { PREBUILT_TARGETS, prebuiltTarget } from "../../src/native/prebuilt.ts";

const dir = mkdtempSync(join(tmpdir(), "fastopen-locate-"));
const existing = join(dir, "libfastopen.so");
writeFileSync(existing, "");
const absent = join(dir, "absent.so");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A context for linux-x64 with an existing dev build and a prebuilt library for every target. */
function context(overrides: Partial<LocateContext> = {}): LocateContext {
  return {
    env: {},
    platform: "linux",
    arch: "x64",
    devBuild: existing,
    prebuilt: (target) => `/pkg/prebuilt/${target}/lib`,
    ...overrides,
  };
}

/** The message of the error `run` throws. */
function thrown(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("expected a throw");
}

describe("the order: FASTOPEN_LIB, the zig-out build, the prebuilt library", () => {
  test("FASTOPEN_LIB wins when the file exists", () => {
    expect(locateLibrary(context({ env: { FASTOPEN_LIB: existing } }))).toEqual({
      path: existing,
      source: "FASTOPEN_LIB",
    });
  });

  test("a FASTOPEN_LIB that does not exist is an error naming it, not silently skipped", () => {
    const message = thrown(() => locateLibrary(context({ env: { FASTOPEN_LIB: absent } })));
    expect(message).toContain(absent);
    expect(message).toContain("FASTOPEN_LIB");
  });

  test("an empty FASTOPEN_LIB counts as unset", () => {
    expect(locateLibrary(context({ env: { FASTOPEN_LIB: "" } })).source).toBe("zig-out");
  });

  test("the zig-out build when present, else the prebuilt library of platform-arch", () => {
    expect(locateLibrary(context())).toEqual({ path: existing, source: "zig-out" });
    expect(locateLibrary(context({ devBuild: absent }))).toEqual({
      path: "/pkg/prebuilt/linux-x64/lib",
      source: "prebuilt",
    });
    expect(locateLibrary(context({ devBuild: null }))).toEqual({
      path: "/pkg/prebuilt/linux-x64/lib",
      source: "prebuilt",
    });
  });

  test("each shipped platform-arch asks for its own library, and only that one", () => {
    for (const target of PREBUILT_TARGETS) {
      const [platform = "", arch = ""] = target.split("-");
      const asked: string[] = [];
      const prebuilt = (t: string) => {
        asked.push(t);
        return `/lib/${t}`;
      };
      expect(locateLibrary(context({ platform, arch, devBuild: null, prebuilt })).path).toBe(`/lib/${target}`);
      expect(asked).toEqual([target]);
    }
  });
});

describe("no library: one error with platform, arch, the paths tried and what to do", () => {
  test("an unsupported architecture (linux-ia32) tries nothing of another architecture", () => {
    let asked = false;
    const prebuilt = () => {
      asked = true;
      return "/never";
    };
    const message = thrown(() => locateLibrary(context({ arch: "ia32", devBuild: absent, prebuilt })));
    expect(asked).toBe(false);
    expect(message).toContain("linux-ia32");
    expect(message).toContain(absent);
    expect(message).toContain("linux-x64, linux-arm64, darwin-x64, darwin-arm64, freebsd-x64");
    expect(message).toContain("FASTOPEN_LIB");
    expect(message).toContain("zig build");
  });

  test("in a bundle (no dev build) on an unsupported platform, the error says no file was tried", () => {
    const message = thrown(() => locateLibrary(context({ platform: "win32", devBuild: null })));
    expect(message).toContain("win32-x64");
    expect(message).toContain("(tried: no file)");
  });

  test("a shipped target whose prebuilt library is missing names where it was looked for", () => {
    const prebuilt = () => {
      throw new Error("Cannot find module");
    };
    const message = thrown(() =>
      locateLibrary(context({ platform: "darwin", arch: "arm64", devBuild: absent, prebuilt })),
    );
    expect(message).toContain("darwin-arm64");
    expect(message).toContain(absent);
    expect(message).toContain(`prebuilt${sep}darwin-arm64${sep}libfastopen.dylib`);
    expect(message).toContain("npm pack");
    expect(message).toContain("Cannot find module");
  });
});

describe("names and this process", () => {
  test("file names per platform, and the shipped targets as process.platform-process.arch", () => {
    expect(libraryFileName("darwin")).toBe("libfastopen.dylib");
    expect(libraryFileName("linux")).toBe("libfastopen.so");
    expect(libraryFileName("freebsd")).toBe("libfastopen.so");
    expect(prebuiltTarget("linux", "arm64")).toBe("linux-arm64");
    expect(prebuiltTarget("win32", "x64")).toBeNull();
    expect(prebuiltTarget("linux", "ppc64")).toBeNull();
  });

  test("running from the sources, the dev build is the checkout's zig-out/lib", () => {
    const here = currentContext();
    expect(here.devBuild).toBe(join(import.meta.dir, "..", "..", "zig-out", "lib", libraryFileName()));
    expect(here.platform).toBe(process.platform);
    expect(here.arch).toBe(process.arch);
  });
});
