/**
 * Finds and loads libfastopen through `bun:ffi`. The library is loaded once,
 * on first use, so that pure helpers (address parsing, status decoding) work
 * without it.
 */
import { dlopen, FFIType } from "bun:ffi";
import { existsSync } from "node:fs";
import { join } from "node:path";

const { i32, u32, ptr } = FFIType;

/** The C ABI of libfastopen (see zig/root.zig). Every result is `>= 0` or `-errno`. */
export const symbols = {
  fo_abi_version: { args: [], returns: i32 },
  fo_socket_tcp6: { args: [], returns: i32 },
  fo_socket_tcp6b: { args: [], returns: i32 },
  fo_socket_tcp4: { args: [], returns: i32 },
  fo_socket_tcp4b: { args: [], returns: i32 },
  fo_socket_bind6: { args: [i32, ptr, u32, u32], returns: i32 },
  fo_socket_bind4: { args: [i32, ptr, u32], returns: i32 },
  fo_socket_connect6: { args: [i32, ptr, u32, u32], returns: i32 },
  fo_socket_connect4: { args: [i32, ptr, u32], returns: i32 },
  fo_socket_fastopen_connect6: { args: [i32, ptr, u32, u32, ptr, u32], returns: i32 },
  fo_socket_fastopen_connect4: { args: [i32, ptr, u32, ptr, u32], returns: i32 },
  fo_socket_fastopen_lazy6: { args: [i32, ptr, u32, u32], returns: i32 },
  fo_socket_connected: { args: [i32], returns: i32 },
  fo_socket_fastopen: { args: [i32, u32], returns: i32 },
  fo_socket_fastopen_no_cookie: { args: [i32], returns: i32 },
  fo_socket_listen: { args: [i32, u32], returns: i32 },
  fo_socket_accept6: { args: [i32, ptr, ptr], returns: i32 },
  fo_socket_local6: { args: [i32, ptr, ptr], returns: i32 },
  fo_socket_remote6: { args: [i32, ptr, ptr], returns: i32 },
  fo_socket_send: { args: [i32, ptr, u32], returns: i32 },
  fo_socket_recv: { args: [i32, ptr, u32], returns: i32 },
  fo_socket_poll: { args: [i32, u32, i32], returns: i32 },
  fo_socket_shutdown_write: { args: [i32], returns: i32 },
  fo_socket_close: { args: [i32], returns: i32 },
  fo_fastopen_status: { args: [i32], returns: i32 },
  fo_connect_start: { args: [ptr, u32, u32, u32, u32, ptr, u32, ptr], returns: i32 },
  fo_fastopen_refused: { args: [], returns: i32 },
  fo_fastopen_refused_ms: { args: [], returns: i32 },
  fo_fastopen_reset: { args: [], returns: i32 },
} as const;

/** The loaded library's functions. */
export type NativeLibrary = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** The ABI revision this facade was written against (`fo_abi_version`). */
export const ABI_VERSION = 1;

/** File name of the shared library on this platform. */
export function libraryFileName(platform: NodeJS.Platform = process.platform): string {
  return platform === "darwin" ? "libfastopen.dylib" : "libfastopen.so";
}

/** Where the library is looked for: `FASTOPEN_LIB`, then the local build output. */
export function libraryCandidates(): string[] {
  const candidates: string[] = [];
  const override = process.env.FASTOPEN_LIB;
  if (override !== undefined && override !== "") candidates.push(override);
  candidates.push(join(import.meta.dir, "..", "..", "zig-out", "lib", libraryFileName()));
  return candidates;
}

let loaded: NativeLibrary | undefined;

/** Returns the library, loading it on first call; throws a clear error when it is missing. */
export function native(): NativeLibrary {
  if (loaded !== undefined) return loaded;
  const candidates = libraryCandidates();
  const path = candidates.find((candidate) => existsSync(candidate));
  if (path === undefined) {
    throw new Error(
      `fastopen: native library not found (looked in: ${candidates.join(", ")}). ` +
        "Build it with `npm run setup` (installs Zig and builds) or `npm run build`, " +
        "or point FASTOPEN_LIB at a built libfastopen.",
    );
  }
  const lib = dlopen(path, symbols).symbols;
  const abi = lib.fo_abi_version();
  if (abi !== ABI_VERSION) {
    throw new Error(`fastopen: ${path} has ABI ${abi}, this facade needs ${ABI_VERSION}: rebuild it`);
  }
  loaded = lib;
  return lib;
}
