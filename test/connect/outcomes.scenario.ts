/**
 * Reported outcomes that must match what happened (issue 11.3 and 11.7), in
 * a private network namespace: a lazy connect whose `open` writes and ends,
 * a lazy `open` when the first address refuses, a peer that half-closes
 * during a large payload. `bun outcomes.scenario.ts <case>`.
 */
import type { Socket } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import { listen } from "../../src/listen.ts";
import { runCase } from "../support/scenario-main.ts";
import {
  assertPrivateNetns,
  dualStackLookup,
  fdCountBackTo,
  pattern,
  recordingServer,
  settledFdCount,
  sha256,
} from "./common.ts";

/** A settled connect: resolved, or rejected with the error's code and message. */
export interface Settled {
  resolved: boolean;
  code: string | null;
  message: string | null;
}

function settledError(error: unknown): Settled {
  const code = (error as { code?: unknown } | null)?.code;
  return { resolved: false, code: typeof code === "string" ? code : null, message: String(error) };
}

/** One connect to `hostname` with a payload, for the cookie. */
async function warm(hostname: string, server: ReturnType<typeof recordingServer>): Promise<void> {
  const socket = await connect({ hostname, port: server.port, payload: "warm", socket: { data() {} } });
  const pending = server.next();
  socket.end();
  await pending;
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /** Issue 11.3: lazy connects (a cookie known) whose `open` writes a request and calls end(). */
  async lazyEnd() {
    const server = recordingServer();
    await warm("::1", server);
    const before = await settledFdCount();
    const tries: Array<
      Settled & { status: FastOpenStatus | null; received: string; opens: number; requestLength: number }
    > = [];
    for (let i = 0; i < 20; i++) {
      const request = `GET /${i} HTTP/1.1\r\n\r\n`;
      let opens = 0;
      let settled: Settled;
      let status: FastOpenStatus | null = null;
      try {
        const socket = await connect({
          hostname: "::1",
          port: server.port,
          lazy: true,
          socket: {
            open(s: Socket<undefined>) {
              opens++;
              s.write(request);
              s.end();
            },
            data() {},
          },
        });
        settled = { resolved: true, code: null, message: null };
        status = fastOpenStatus(socket);
      } catch (error) {
        settled = settledError(error);
      }
      const received = new TextDecoder().decode((await server.next()).bytes);
      const heard = received === request ? "request" : received;
      tries.push({ ...settled, status, received: heard, opens, requestLength: request.length });
    }
    await Bun.sleep(100);
    // Every request arrived on its own connection: nothing more is queued.
    const extra = await Promise.race([server.next().then(() => true), Bun.sleep(100).then(() => false)]);
    const after = await fdCountBackTo(before);
    server.stop();
    return { tries, extra, fdsBefore: before, fdsAfter: after };
  },

  /**
   * Issue 11.7: a lazy connect to [::1, 127.0.0.1] (cookies for both) where
   * ::1 refuses: `open` runs once, the request reaches 127.0.0.1 once. With
   * `then = "end"`, `open` ends the socket after its write: the connection
   * to 127.0.0.1 is ended too (the server sees the client's FIN). The
   * status is 127.0.0.1's: the replayed request rode in its SYN.
   */
  async lazyOpens([then = "stay"]) {
    const six = recordingServer({ hostname: "::1" });
    const port = six.port;
    await warm("::1", six);
    six.stop();
    const four = recordingServer({ hostname: "127.0.0.1", port });
    await warm("127.0.0.1", four);
    const lookup = dualStackLookup;
    const request = "GET / HTTP/1.1\r\n\r\n";
    let opens = 0;
    const socket = await connect({
      hostname: "dual.test",
      port,
      lookup,
      lazy: true,
      socket: {
        open(s: Socket<undefined>) {
          opens++;
          s.write(request);
          if (then === "end") s.end();
        },
        data() {},
      },
    });
    const remoteAddress = socket.remoteAddress;
    const status = fastOpenStatus(socket);
    const pending = four.next();
    if (then !== "end") socket.end();
    const received = new TextDecoder().decode((await pending).bytes);
    four.stop();
    return { opens, remoteAddress, received: received === request ? "request" : received, status, request };
  },

  /**
   * Issue 11.7: a server that half-closes (shutdown of its write side, no
   * reset) as soon as it accepts, reading everything, while the client
   * writes an 8 MiB payload: with allowHalfOpen false the connect must not
   * claim a reset; with true it completes and every byte arrives.
   */
  async halfClose() {
    const chunks: Uint8Array[] = [];
    const ended = { count: 0 };
    const server = listen({
      hostname: "::1",
      port: 0,
      allowHalfOpen: true,
      socket: {
        open: (s) => void s.shutdown(),
        data: (_s, d) => void chunks.push(new Uint8Array(d)),
        end(s) {
          s.end();
        },
        close: () => void ended.count++,
        error: () => {},
      },
    });
    const payload = pattern(8 << 20, 11);
    const results: Record<string, Settled & { delivered: boolean; receivedBytes: number }> = {};
    for (const allowHalfOpen of [false, true]) {
      chunks.length = 0;
      const endedBefore = ended.count;
      let settled: Settled;
      try {
        const socket = await connect({
          hostname: "::1",
          port: server.port,
          payload,
          allowHalfOpen,
          socket: { data() {} },
        });
        settled = { resolved: true, code: null, message: null };
        socket.end();
      } catch (error) {
        settled = settledError(error);
      }
      for (let i = 0; i < 500 && ended.count === endedBefore; i++) await Bun.sleep(10);
      const received = Buffer.concat(chunks);
      results[String(allowHalfOpen)] = {
        ...settled,
        delivered: sha256(received) === sha256(payload),
        receivedBytes: received.byteLength,
      };
    }
    server.stop(true);
    return { results, payloadBytes: payload.byteLength };
  },
};

await runCase(cases, assertPrivateNetns);
