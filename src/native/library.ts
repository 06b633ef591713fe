/**
 * Loads libfastopen through `bun:ffi` (where from: ./locate.ts). The library
 * is loaded once, on first use, so that pure helpers (address parsing, status
 * decoding) work without it.
 */
import { dlopen, FFIType } from "bun:ffi";
import { locateLibrary } from "./locate.ts";

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
  fo_socket_fastopen_key: { args: [i32, ptr, u32], returns: i32 },
  fo_socket_fastopen_key_get: { args: [i32, ptr], returns: i32 },
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
  fo_fastopen_sent: { args: [i32, ptr], returns: i32 },
  fo_connect_start: { args: [ptr, u32, u32, u32, u32, ptr, u32, ptr], returns: i32 },
  fo_fastopen_refused: { args: [], returns: i32 },
  fo_fastopen_refused_ms: { args: [], returns: i32 },
  fo_fastopen_reset: { args: [], returns: i32 },
} as const;

/** The loaded library's functions. */
export type NativeLibrary = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** The ABI revision this facade was written against (`fo_abi_version`). */
export const ABI_VERSION = 2;

let loaded: NativeLibrary | undefined;

/** Where a compiled executable's embedded files live (Bun extracts them to $TMPDIR for dlopen). */
const EMBEDDED_PREFIX = "/$bunfs/";

/** A dlopen failure over a symbol the library lacks (Bun's message). */
const SYMBOL_MISSING = /^Symbol ".*" not found/;

/** What to do about a failed dlopen: the $TMPDIR rule for an embedded library, a rebuild for an older one. */
function loadHint(path: string, reason: string): string {
  if (path.startsWith(EMBEDDED_PREFIX)) {
    return (
      " A compiled executable extracts the library into $TMPDIR (default /tmp) before loading it: " +
      "$TMPDIR must allow exec (not mounted noexec)."
    );
  }
  if (SYMBOL_MISSING.test(reason)) return ` ${OLDER}.`;
  return "";
}

/** The failure of loading `path`, restated with the path and what to do about it. */
function loadError(path: string, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`fastopen: cannot load ${path}: ${reason}.${loadHint(path, reason)}`, { cause: error });
}

const OLDER =
  "The library is older than this facade: rebuild it (npm run build) or point FASTOPEN_LIB at a current one";

/** The message for a library of another ABI revision (`abi`, or null when it has no `fo_abi_version`). */
export function abiMismatch(path: string, abi: number | null): string {
  if (abi === null) return `fastopen: ${path} has no fo_abi_version. ${OLDER}.`;
  const has = `fastopen: ${path} has ABI ${abi}, this facade needs ABI ${ABI_VERSION}.`;
  return abi > ABI_VERSION ? `${has} The library is newer than this facade: update fastopen.` : `${has} ${OLDER}.`;
}

/**
 * The ABI revision of the library at `path`, read before the full symbol
 * table is bound: an older library lacks newer symbols, and binding them
 * would fail with a bare "Symbol not found".
 */
function abiOf(path: string): number | null {
  let probe: ReturnType<typeof dlopen<{ fo_abi_version: { args: []; returns: typeof i32 } }>>;
  try {
    probe = dlopen(path, { fo_abi_version: symbols.fo_abi_version });
  } catch (error) {
    if (error instanceof Error && SYMBOL_MISSING.test(error.message)) return null;
    throw loadError(path, error);
  }
  try {
    return probe.symbols.fo_abi_version();
  } finally {
    probe.close();
  }
}

/** dlopen of `path` with the whole ABI, once its revision is known to match. */
function open(path: string): NativeLibrary {
  const abi = abiOf(path);
  if (abi !== ABI_VERSION) throw new Error(abiMismatch(path, abi));
  try {
    return dlopen(path, symbols).symbols;
  } catch (error) {
    throw loadError(path, error);
  }
}

/** Returns the library, loading it on first call; throws a clear error when it is missing or unusable. */
export function native(): NativeLibrary {
  if (loaded !== undefined) return loaded;
  const { path } = locateLibrary();
  const lib = open(path);
  loaded = lib;
  return lib;
}
