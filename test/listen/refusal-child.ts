/**
 * Run by refusal.test.ts in a child process (the module mock must not leak
 * into other test files): `listen()` where the native key call refuses with
 * -EOPNOTSUPP, as on macOS and FreeBSD. Prints one JSON report.
 */
import { mock } from "bun:test";
import { constants } from "node:os";
import * as library from "../../src/native/library.ts";
import { openFdCount } from "../support/netns.ts";

const real = library.native();
const EOPNOTSUPP = constants.errno.EOPNOTSUPP!;
let calls = 0;
mock.module("../../src/native/library.ts", () => ({
  ...library,
  native: () => ({
    ...real,
    fo_socket_fastopen_key: () => {
      calls++;
      return -EOPNOTSUPP;
    },
  }),
}));
const { listen } = await import("../../src/listen.ts");

/** What `listen(fastOpen)` threw, the fd count change, and whether its port is free again. */
function attempt(fastOpen: object): object {
  const before = openFdCount();
  const callsBefore = calls;
  let port = 0;
  let thrown: Record<string, unknown> | null = null;
  try {
    const l = listen({ hostname: "127.0.0.1", port: 0, fastOpen, socket: { data() {} } });
    port = l.port;
    l.stop(true);
  } catch (error) {
    const e = error as Error & Record<string, unknown>;
    thrown = { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message };
  }
  return { thrown, fdDelta: openFdCount() - before, nativeCalls: calls - callsBefore, started: port !== 0 };
}

const key = "000102030405060708090a0b0c0d0e0f";
console.log(
  JSON.stringify({
    fixed: attempt({ keys: [key] }),
    schedule: attempt({ keys: { secret: "a fleet secret of at least 16 bytes", interval: 60_000 } }),
    none: attempt({ queue: 16 }),
    eopnotsupp: -EOPNOTSUPP,
  }),
);
