/**
 * `listen()` where the host's server TFO is on or off (issue 11.7), in a
 * private network namespace whose `net.ipv4.tcp_fastopen` the test sets:
 * `listener.serverFastOpen`, the one-time FASTOPEN_SERVER_OFF warning, and
 * what a TFO client then gets (no cookie when the server bit is off).
 */
import { connect } from "../../src/connect/connect.ts";
import { fastOpenStatus } from "../../src/connect/status.ts";
import { listen } from "../../src/listen.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, counters, delta } from "./common.ts";

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /** Two TFO listeners and one without TFO; the warnings emitted; two connects with a payload to the first. */
  async host() {
    const warnings: Array<{ code: unknown; message: string }> = [];
    process.on("warning", (w) => void warnings.push({ code: (w as { code?: unknown }).code, message: w.message }));
    const handlers = { data: (s: { end(): void }) => s.end() };
    const first = listen({ hostname: "::1", port: 0, socket: handlers });
    const second = listen({ hostname: "::1", port: 0, socket: handlers });
    const off = listen({ hostname: "::1", port: 0, fastOpen: 0, socket: handlers });
    const before = counters();
    const reasons: string[] = [];
    for (let i = 0; i < 2; i++) {
      const closed = Promise.withResolvers<void>();
      const socket = await connect({
        hostname: "::1",
        port: first.port,
        payload: "hello",
        socket: { data() {}, close: () => closed.resolve() },
      });
      await closed.promise;
      reasons.push(fastOpenStatus(socket).reason);
    }
    const counted = delta(before);
    await Bun.sleep(10); // warnings are delivered on a later tick
    const listeners = [first, second, off].map((l) => ({ fastOpen: l.fastOpen, serverFastOpen: l.serverFastOpen }));
    for (const l of [first, second, off]) l.stop(true);
    return { listeners, warnings, reasons, counters: counted };
  },
};

await runCase(cases, assertPrivateNetns);
