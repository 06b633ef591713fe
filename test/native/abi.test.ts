/**
 * The C ABI's argument checks, called straight through bun:ffi (no
 * TypeScript validation in between): with two bad arguments the result is
 * the first check's errno (the fd's EBADF), never the sum of two negated
 * errnos (-EBADF + -EINVAL = -31, EMLINK on Linux). Each function whose
 * checks used to be added up is here. In-process: nothing reaches the kernel.
 */
import { describe, expect, test } from "bun:test";
import { constants } from "node:os";
import { native } from "../../src/native/library.ts";

const { EBADF, EINVAL } = constants.errno;
const lib = native();
const ip6 = new Uint8Array(16);
const ip4 = new Uint8Array(4);
const buf = new Uint8Array(1);
/** A port beyond 65535 and a length beyond the i32 result range: both -EINVAL alone. */
const BAD_PORT = 70_000;
const BAD_LEN = 0x8000_0000;

/** Each function with an fd check followed by a port and/or length check. */
const calls: Record<string, (fd: number) => number> = {
  fo_socket_bind6: (fd) => lib.fo_socket_bind6(fd, ip6, BAD_PORT, 0),
  fo_socket_bind4: (fd) => lib.fo_socket_bind4(fd, ip4, BAD_PORT),
  fo_socket_connect6: (fd) => lib.fo_socket_connect6(fd, ip6, BAD_PORT, 0),
  fo_socket_connect4: (fd) => lib.fo_socket_connect4(fd, ip4, BAD_PORT),
  fo_socket_fastopen_connect6: (fd) => lib.fo_socket_fastopen_connect6(fd, ip6, BAD_PORT, 0, buf, BAD_LEN),
  fo_socket_fastopen_connect4: (fd) => lib.fo_socket_fastopen_connect4(fd, ip4, BAD_PORT, buf, BAD_LEN),
  fo_socket_fastopen_lazy6: (fd) => lib.fo_socket_fastopen_lazy6(fd, ip6, BAD_PORT, 0),
  fo_socket_send: (fd) => lib.fo_socket_send(fd, buf, BAD_LEN),
  fo_socket_recv: (fd) => lib.fo_socket_recv(fd, buf, BAD_LEN),
};

describe("C ABI: arguments are checked one after the other", () => {
  for (const [name, call] of Object.entries(calls)) {
    test(`${name}: bad fd and bad port/length give exactly -EBADF`, () => {
      expect(call(-1)).toBe(-EBADF!);
      expect(call(-2_147_483_648)).toBe(-EBADF!);
    });

    test(`${name}: a good fd and a bad port/length give exactly -EINVAL`, () => {
      // fd 0 is never touched: the port/length check fails before any syscall.
      expect(call(0)).toBe(-EINVAL!);
    });
  }
});
