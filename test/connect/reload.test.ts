/**
 * `fastOpenStatus(socket)` after `socket.reload()`: the report of a closed
 * connection is final and its own, even when a later connection reuses the
 * fd number (run in a private network namespace, `reload.scenario.ts`).
 */
import { expect, test } from "bun:test";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";

const suite = namespaceSuite("connect.reload");

suite("fastOpenStatus after socket.reload()", () => {
  test("after close: final, the first connection's facts (no cookie), never the fd's next owner's", () => {
    const r = runScenarioCase<{
      sameFd: boolean;
      atOpen: FastOpenStatus;
      afterClose: FastOpenStatus;
      second: FastOpenStatus;
    }>(`${import.meta.dir}/reload.scenario.ts`, ["reload"]);
    // The case only proves something when the second connection took the first one's fd number.
    expect(r.sameFd).toBe(true);
    expect(r.second).toMatchObject({ sent: true, acked: true, reason: "none", bytesInSyn: 3 });
    expect(r.atOpen).toMatchObject({ sent: false, reason: "no-cookie", final: false });
    expect(r.afterClose).toMatchObject({ sent: false, acked: false, reason: "no-cookie", bytesInSyn: 0, final: true });
    expect(r.afterClose.kernel).toEqual(r.atOpen.kernel);
  });
});
