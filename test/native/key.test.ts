/**
 * fo_socket_fastopen_key / fo_socket_fastopen_key_get at the C ABI, called
 * straight through bun:ffi (no TypeScript checks in between): the fd is
 * checked first, then the length (16 or 32), then the kernel takes the key;
 * what was set is what getsockopt(TCP_FASTOPEN_KEY) reads back. A
 * per-socket option on an unconnected socket: nothing reaches the network.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { constants } from "node:os";
import { native } from "../../src/native/library.ts";

const { EBADF, EINVAL, ENOTSOCK, EOPNOTSUPP } = constants.errno as Record<string, number>;
const lib = native();
const key32 = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const linux = process.platform === "linux";

describe("fo_socket_fastopen_key: arguments checked one after the other", () => {
  test("a bad fd gives -EBADF whatever the length", () => {
    for (const len of [0, 15, 16, 17, 32, 33, 0xffff_ffff])
      expect(lib.fo_socket_fastopen_key(-1, key32, len)).toBe(-EBADF!);
    expect(lib.fo_socket_fastopen_key_get(-1, new Uint8Array(32))).toBe(-EBADF!);
  });

  test("a good fd and a length other than 16 or 32 give -EINVAL before any syscall", () => {
    // fd 0 is never touched: the length check fails first.
    for (const len of [0, 1, 15, 17, 31, 33, 64, 0x8000_0000])
      expect(lib.fo_socket_fastopen_key(0, key32, len)).toBe(-EINVAL!);
  });

  test("an fd that is not a socket: -ENOTSOCK (Linux)", () => {
    const file = openSync(import.meta.path, "r");
    try {
      expect(lib.fo_socket_fastopen_key(file, key32, 16)).toBe(linux ? -ENOTSOCK! : -EOPNOTSUPP!);
      expect(lib.fo_socket_fastopen_key_get(file, new Uint8Array(32))).toBe(linux ? -ENOTSOCK! : -EOPNOTSUPP!);
    } finally {
      closeSync(file);
    }
  });
});

describe("fo_socket_fastopen_key: the kernel keeps what was set", () => {
  const fd = lib.fo_socket_tcp6();
  afterAll(() => lib.fo_socket_close(fd));

  test("32 bytes: primary and backup read back in order (macOS, FreeBSD: -EOPNOTSUPP)", () => {
    expect(fd).toBeGreaterThanOrEqual(0);
    const out = new Uint8Array(32);
    if (!linux) {
      expect([lib.fo_socket_fastopen_key(fd, key32, 32), lib.fo_socket_fastopen_key_get(fd, out)]).toEqual([
        -EOPNOTSUPP!,
        -EOPNOTSUPP!,
      ]);
      return;
    }
    expect(lib.fo_socket_fastopen_key(fd, key32, 32)).toBe(0);
    expect(lib.fo_socket_fastopen_key_get(fd, out)).toBe(32);
    expect([...out]).toEqual([...key32]);
  });

  test("16 bytes replace the pair: the primary alone (Linux)", () => {
    const primary = key32.subarray(16);
    const out = new Uint8Array(32);
    expect(lib.fo_socket_fastopen_key(fd, primary, 16)).toBe(linux ? 0 : -EOPNOTSUPP!);
    expect(lib.fo_socket_fastopen_key_get(fd, out)).toBe(linux ? 16 : -EOPNOTSUPP!);
    if (linux) expect([...out.subarray(0, 16)]).toEqual([...primary]);
  });
});
