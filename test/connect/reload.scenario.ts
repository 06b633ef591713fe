/**
 * `fastOpenStatus(socket)` of a `connect()` socket whose handlers were
 * replaced with `socket.reload()` (so `connect()`'s own close handler never
 * runs): after close it must say `final: true` and keep what it knew, not
 * read the fd number that a later connection now holds.
 */
import type { Socket } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { fastOpenStatus } from "../../src/connect/status.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, recordingServer } from "./common.ts";

/** A `connect()` with `payload`, established. */
function open(port: number, payload: string): Promise<Socket<undefined>> {
  return connect({ hostname: "::1", port, payload, socket: { data() {} } });
}

const cases = {
  /** The first connection fetches the cookie, is reloaded and closed; the second rides in the SYN on its fd number. */
  async reload() {
    const server = recordingServer();
    const first = await open(server.port, "one");
    const firstFd = (first as unknown as { fd: number }).fd;
    const atOpen = fastOpenStatus(first);
    const closed = Promise.withResolvers<void>();
    first.reload({ socket: { data() {}, close: () => closed.resolve() } } as never);
    first.end();
    await closed.promise;
    await server.next();
    const second = await open(server.port, "two");
    const secondFd = (second as unknown as { fd: number }).fd;
    const afterClose = fastOpenStatus(first);
    const secondStatus = fastOpenStatus(second);
    second.end();
    await server.next();
    server.stop();
    return { sameFd: firstFd === secondFd, atOpen, afterClose, second: secondStatus };
  },
};

await runCase(cases, assertPrivateNetns);
