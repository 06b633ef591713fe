/**
 * errno names where two share a number: Linux has ENOTSUP = EOPNOTSUPP = 95
 * (FreeBSD both 45); the library reports EOPNOTSUPP, the name its C ABI and
 * docs use (macOS keeps them apart: ENOTSUP 45, EOPNOTSUPP 102).
 */
import { expect, test } from "bun:test";
import { constants } from "node:os";
import { errnoName, errnoNumber, fromNative, lastError } from "../../src/lowlevel/errors.ts";

test("the number of EOPNOTSUPP is named EOPNOTSUPP, in errnoName and lastError()", () => {
  const number = errnoNumber("EOPNOTSUPP");
  expect(errnoName(number)).toBe("EOPNOTSUPP");
  expect(fromNative(-number, "socket_fastopen_key")).toBe(-1);
  expect(lastError()).toEqual({ code: "EOPNOTSUPP", errno: number, syscall: "socket_fastopen_key" });
});

test("other numbers keep their names; EAGAIN stays EAGAIN", () => {
  expect(errnoName(constants.errno.EAGAIN!)).toBe("EAGAIN");
  expect(errnoName(constants.errno.ECONNREFUSED!)).toBe("ECONNREFUSED");
  expect(errnoName(99_999)).toBe("E99999");
});
