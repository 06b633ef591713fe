/**
 * A refusal of TFO is remembered for a bounded time (issue 11.6), in a
 * private network namespace started with client TFO off
 * (`net.ipv4.tcp_fastopen=2`): a connect with a payload is refused TFO and
 * `support()` says until when the refusal holds; the scenario then turns
 * client TFO on (in its own namespace), waits for that time, and connects
 * again: TFO is tried (a cookie request), then the payload rides in the SYN.
 */
import { writeFileSync } from "node:fs";
import { connect } from "../../src/connect/connect.ts";
import { type FastOpenOutcome, fastOpenStatus } from "../../src/connect/status.ts";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { support } from "../../src/support.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, counters, delta, recordingServer } from "./common.ts";

/** One connect with a payload to `port`: its TFO reason once the server has it all. */
async function once(server: ReturnType<typeof recordingServer>): Promise<FastOpenOutcome> {
  const socket = await connect({ hostname: "::1", port: server.port, payload: "hello", socket: { data() {} } });
  const pending = server.next();
  socket.end();
  await pending;
  return fastOpenStatus(socket).reason;
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  async flip() {
    const server = recordingServer();
    const refused = await once(server);
    // A refusal made and read in one go (the connect above spans event-loop turns): what support() says of it.
    const fd = fo.socketTcp6();
    fo.socketFastopenConnect6(fd, parseIp6("::1").ip, server.port, 0, "x");
    const atRefusal = { now: Date.now(), report: support() };
    fo.socketClose(fd);
    writeFileSync("/proc/sys/net/ipv4/tcp_fastopen", "3");
    // Wait out the remembered refusal (as reported; 1.1 s when nothing is reported).
    const until = atRefusal.report.refusedUntil ?? atRefusal.now + 1100;
    await Bun.sleep(Math.max(0, until - Date.now()) + 20);
    const afterWait = support();
    const before = counters();
    const again = [await once(server), await once(server)];
    const counted = delta(before);
    server.stop();
    return {
      refused,
      atRefusal: { now: atRefusal.now, refusedUntil: atRefusal.report.refusedUntil, advice: atRefusal.report.advice },
      afterWait: { refusedUntil: afterWait.refusedUntil, client: afterWait.client },
      again,
      counters: counted,
    };
  },
};

await runCase(cases, assertPrivateNetns);
