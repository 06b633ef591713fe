/**
 * connect()/listen() scenarios over loopback, one case per private network
 * namespace: `bun async-connect.ts <case> [args...]` prints `{ case, ... }`.
 */
import type { Socket } from "bun";
import { type ConnectOptions, connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import type { FastOpenCounters } from "../../src/lowlevel/netstat.ts";
import { EYEBALLS_PORT } from "../support/run.ts";
import { runCase } from "../support/scenario-main.ts";
import {
  assertPrivateNetns,
  counters,
  delta,
  dropIpv6Syns,
  dualStackLookup,
  fdCountBackTo,
  pattern,
  type RecordingServer,
  recordingServer,
  settledFdCount,
  sha256,
} from "./common.ts";

/** One client connection's outcome. */
export interface Outcome {
  size: number;
  delivered: boolean;
  receivedBytes: number;
  client: FastOpenStatus;
  server: FastOpenStatus | null;
  counters: FastOpenCounters;
  ms: number;
}

/** Connects with `payload`, ends, and compares what the server received. */
async function sendPayload(
  server: RecordingServer,
  hostname: string,
  payload: Uint8Array,
  extra: Partial<ConnectOptions> = {},
): Promise<Outcome> {
  const before = counters();
  const t0 = performance.now();
  const socket = await connect({ hostname, port: server.port, payload, socket: { data() {} }, ...extra });
  const ms = performance.now() - t0;
  const pending = server.next();
  socket.end();
  const received = await pending;
  const client = fastOpenStatus(socket);
  return {
    size: payload.byteLength,
    delivered: sha256(received.bytes) === sha256(payload),
    receivedBytes: received.bytes.byteLength,
    client,
    server: received.status,
    counters: delta(before),
    ms,
  };
}

/** Connects lazily and writes `payload` in `open` (a Bun-style first write), then ends once all is written. */
async function lazyWrite(server: RecordingServer, payload: Uint8Array): Promise<Outcome> {
  const before = counters();
  const t0 = performance.now();
  let offset = 0;
  let opened!: (value: Socket<undefined>) => void;
  const flushed = new Promise<Socket<undefined>>((resolve) => (opened = resolve));
  const pump = (socket: Socket<undefined>): void => {
    while (offset < payload.byteLength) {
      const n = socket.write(payload.subarray(offset));
      if (n <= 0) return;
      offset += n;
    }
    opened(socket);
  };
  await connect({ hostname: "::1", port: server.port, lazy: true, socket: { open: pump, drain: pump, data() {} } });
  const socket = await flushed;
  const ms = performance.now() - t0;
  const pending = server.next();
  socket.end();
  const received = await pending;
  return {
    size: payload.byteLength,
    delivered: sha256(received.bytes) === sha256(payload),
    receivedBytes: received.bytes.byteLength,
    client: fastOpenStatus(socket),
    server: received.status,
    counters: delta(before),
    ms,
  };
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /**
   * "localhost" through Bun's DNS (the namespace's /etc/hosts), to a server
   * on 127.0.0.1 only: with a payload the addresses are tried in turn (::1
   * refuses), without one they race; both reach 127.0.0.1.
   */
  async localhost() {
    const server = recordingServer({ hostname: "127.0.0.1" });
    const results: Array<{ remoteAddress: string; delivered: boolean }> = [];
    for (const payload of ["hello", undefined, "hello"]) {
      const socket = await connect({
        hostname: "localhost",
        port: server.port,
        ...(payload === undefined ? {} : { payload }),
        socket: { data() {} },
      });
      const pending = server.next();
      socket.end();
      const received = new TextDecoder().decode((await pending).bytes);
      results.push({ remoteAddress: socket.remoteAddress, delivered: received === (payload ?? "") });
    }
    server.stop();
    return { results };
  },

  /**
   * Happy Eyeballs: ::1 drops SYNs (ip6tables), 127.0.0.1 answers; the race picks 127.0.0.1 and closes the other
   * attempt's fd.
   */
  async happyEyeballs() {
    const server = recordingServer({ hostname: "127.0.0.1", port: EYEBALLS_PORT });
    const lookup = dualStackLookup;
    // Counted while the server listens, before and after: only the client's fds differ.
    const before = await settledFdCount();
    const t0 = performance.now();
    const socket = await connect({
      hostname: "dual.test",
      port: EYEBALLS_PORT,
      lookup,
      attemptDelay: 50,
      socket: { data() {} },
    });
    const ms = performance.now() - t0;
    const remoteAddress = socket.remoteAddress;
    const pending = server.next();
    socket.end();
    await pending;
    const after = await fdCountBackTo(before);
    server.stop();
    return { remoteAddress, ms, fdsBefore: before, fdsAfter: after };
  },

  /**
   * Issue 11: Happy Eyeballs when data rides in the SYN. Cookies for ::1 (a
   * server there for a moment) and 127.0.0.1 are fetched first; then ::1
   * drops SYNs to the port and a lookup gives [::1, 127.0.0.1]: the race
   * (default attemptDelay) reaches 127.0.0.1 with the same first flight in
   * its SYN, which the server gets exactly once, `open` runs once, no fd is left.
   */
  async raceFirstFlight([mode = "payload"]) {
    const port = EYEBALLS_PORT;
    const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: dual.test\r\n\r\n");
    const six = recordingServer({ hostname: "::1", port });
    await sendPayload(six, "::1", request);
    six.stop();
    const server = recordingServer({ hostname: "127.0.0.1", port });
    await sendPayload(server, "127.0.0.1", request);
    dropIpv6Syns(port);
    const lookup = dualStackLookup;
    const before = await settledFdCount();
    const counted = counters();
    let opens = 0;
    const t0 = performance.now();
    const socket = await connect({
      hostname: "dual.test",
      port,
      lookup,
      ...(mode === "payload" ? { payload: request } : { lazy: true }),
      socket: {
        open(s) {
          opens++;
          if (mode === "lazy") s.write(request);
        },
        data() {},
      },
    });
    const ms = performance.now() - t0;
    const remoteAddress = socket.remoteAddress;
    const client = fastOpenStatus(socket);
    const pending = server.next();
    socket.end();
    const received = await pending;
    await Bun.sleep(300);
    // A second connection to the server would be queued by now.
    const extra = await Promise.race([server.next().then(() => true), Bun.sleep(100).then(() => false)]);
    const after = await fdCountBackTo(before);
    server.stop();
    return {
      ms,
      opens,
      remoteAddress,
      client,
      counters: delta(counted),
      exactlyOnce: sha256(received.bytes) === sha256(request) && !extra,
      fdsBefore: before,
      fdsAfter: after,
    };
  },

  /** Two connects with a payload: the first fetches a cookie, the second carries the payload in the SYN. */
  async payload([hostname = "::1"]) {
    const server = recordingServer({ hostname });
    const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const outcomes = [await sendPayload(server, hostname, request), await sendPayload(server, hostname, request)];
    server.stop();
    return { outcomes };
  },

  /** Lazy connects whose first write (in `open`) rides in the SYN once a cookie is known. */
  async lazy() {
    const server = recordingServer();
    const request = new TextEncoder().encode("PING lazy\r\n");
    const outcomes = [await lazyWrite(server, request), await lazyWrite(server, request)];
    server.stop();
    return { outcomes };
  },

  /** Lazy connect, server speaks first, client never writes: the greeting must still arrive. */
  async serverFirst() {
    const server = recordingServer({ greeting: "220 hello\r\n" });
    const greetings: string[] = [];
    const statuses: FastOpenStatus[] = [];
    for (let i = 0; i < 2; i++) {
      const got = Promise.withResolvers<string>();
      const socket = await connect({
        hostname: "::1",
        port: server.port,
        lazy: true,
        socket: { data: (_s, d) => got.resolve(String(d)) },
      });
      greetings.push(await got.promise);
      statuses.push(fastOpenStatus(socket));
      const pending = server.next();
      socket.end();
      await pending;
    }
    server.stop();
    return { greetings, statuses };
  },

  /** Byte-exact delivery of each size; args: server TFO queue ("256" or "0"), client fastOpen ("on"/"off"). */
  async sizes([queue = "256", client = "on", ...sizes]) {
    const server = recordingServer({ fastOpen: Number(queue) });
    const fastOpen = client === "on";
    const outcomes: Outcome[] = [];
    // A first connection fetches the cookie, so every size below may ride in the SYN.
    await sendPayload(server, "::1", pattern(1, 99), { fastOpen });
    for (const size of sizes.map(Number))
      outcomes.push(await sendPayload(server, "::1", pattern(size, size + 1), { fastOpen }));
    server.stop();
    return { outcomes };
  },
};

await runCase(cases, assertPrivateNetns);
