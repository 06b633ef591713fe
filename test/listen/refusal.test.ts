/**
 * Where the platform has no per-listener key (macOS, FreeBSD: the native
 * call gives -EOPNOTSUPP), `listen()` with `fastOpen.keys` stops the
 * listener it started and throws a SystemError saying so, with no fd left.
 * refusal-child.ts replaces that one native call (a module mock, so in a
 * child process); the rest of the library is the real one, on loopback.
 */
import { beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";

interface Attempt {
  thrown: { name: string; code: string; errno: number; syscall: string; message: string } | null;
  fdDelta: number;
  nativeCalls: number;
  started: boolean;
}
let r: { fixed: Attempt; schedule: Attempt; none: Attempt; eopnotsupp: number };

beforeAll(() => {
  const run = spawnSync(process.execPath, [`${import.meta.dir}/refusal-child.ts`], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`refusal-child.ts failed (${run.status}): ${run.stderr}`);
  r = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
});

test("fixed keys refused: SystemError EOPNOTSUPP (syscall socket_fastopen_key), listener stopped, no fd left", () => {
  expect(r.fixed.thrown).toMatchObject({
    name: "SystemError",
    code: "EOPNOTSUPP",
    errno: r.eopnotsupp,
    syscall: "socket_fastopen_key",
  });
  expect(r.fixed.thrown?.message).toStartWith("listen: setting the TFO key of 127.0.0.1:");
  expect(r.fixed).toMatchObject({ fdDelta: 0, nativeCalls: 1, started: false });
});

test("a schedule refused at its first setting, inside listen(): the same", () => {
  expect(r.schedule.thrown).toMatchObject({ name: "SystemError", code: "EOPNOTSUPP", syscall: "socket_fastopen_key" });
  expect(r.schedule).toMatchObject({ fdDelta: 0, nativeCalls: 1, started: false });
});

test("without keys the key call is never made: the listener starts", () => {
  expect(r.none).toEqual({ thrown: null, fdDelta: 0, nativeCalls: 0, started: true });
});
