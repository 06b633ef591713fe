/**
 * connect()'s work per connection, counted where it is deterministic: the
 * kernel reports it reads (TCP_INFO, `fo_fastopen_status`) and connect-state
 * checks (`fo_socket_connected`) it makes, over a series of connections to a
 * `listen()` server that answers and ends; and how the user's handlers are
 * called. `bun lean.scenario.ts <loopback|local>`: `loopback` connects to
 * ::1 (the handshake is over when the connect call returns), `local` to
 * fd00::5, an address of this namespace's loopback device that is not a
 * loopback address (connect() then waits for Bun's first event).
 */
import type { Socket, SocketHandler } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { type FastOpenStatus, fastOpenStatus } from "../../src/connect/status.ts";
import { listen } from "../../src/listen.ts";
import { native } from "../../src/native/library.ts";
import { runCase } from "../support/scenario-main.ts";
import { assertPrivateNetns, fdCountBackTo, pattern, recordingServer, settledFdCount, sha256 } from "./common.ts";

const CONNECTIONS = 20;

/** What one connection's handlers saw. */
interface Seen {
  thisIsSocket: boolean[];
  events: string[];
  answer: Uint8Array[];
  closed: PromiseWithResolvers<void>;
}

const handlers: SocketHandler<Seen> = {
  open(this: unknown, socket) {
    socket.data.thisIsSocket.push(this === socket);
    socket.data.events.push("open");
  },
  data(this: unknown, socket, chunk) {
    socket.data.thisIsSocket.push(this === socket);
    socket.data.events.push("data");
    socket.data.answer.push(new Uint8Array(chunk));
  },
  end(this: unknown, socket) {
    socket.data.thisIsSocket.push(this === socket);
    socket.data.events.push("end");
    socket.end();
  },
  close(this: unknown, socket) {
    socket.data.thisIsSocket.push(this === socket);
    socket.data.events.push("close");
    socket.data.closed.resolve();
  },
};

type Counted = "fo_fastopen_status" | "fo_socket_connected";

/** Counts the calls of `names` made through the library's symbol table from now on. */
function countCalls(names: Counted[]): Record<Counted, number> {
  const counts = { fo_fastopen_status: 0, fo_socket_connected: 0 };
  const table = native() as unknown as Record<Counted, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const original = table[name];
    table[name] = (...args: unknown[]) => {
      counts[name]++;
      return original(...args);
    };
  }
  return counts;
}

/** One connection: payload in the SYN, the server's answer and end, the client's end and close. */
async function exchange(hostname: string, port: number, payload: Uint8Array): Promise<object> {
  const seen: Seen = { thisIsSocket: [], events: [], answer: [], closed: Promise.withResolvers<void>() };
  const socket: Socket<Seen> = await connect({ hostname, port, payload, socket: handlers, data: seen });
  const openedBeforeResolve = seen.events[0] === "open";
  await seen.closed.promise;
  const status: FastOpenStatus = fastOpenStatus(socket);
  return {
    openedBeforeResolve,
    events: seen.events,
    thisIsSocket: seen.thisIsSocket.every((v) => v),
    answer: new TextDecoder().decode(Buffer.concat(seen.answer)),
    status: { sent: status.sent, acked: status.acked, reason: status.reason, final: status.final },
  };
}

/** A `listen()` server that answers "pong" and ends once 64 bytes arrived (it reads no TCP_INFO). */
function pongServer(hostname: string): { port: number; next(): Promise<Uint8Array>; stop(): void } {
  const received: Array<PromiseWithResolvers<Uint8Array>> = [];
  let taken = 0;
  const slot = (i: number): PromiseWithResolvers<Uint8Array> => {
    while (received.length <= i) received.push(Promise.withResolvers<Uint8Array>());
    return received[i]!;
  };
  let accepted = 0;
  const listener = listen<{ index: number; chunks: Uint8Array[]; got: number }>({
    hostname,
    port: 0,
    fastOpen: 256,
    socket: {
      open(socket) {
        socket.data = { index: accepted++, chunks: [], got: 0 };
      },
      data(socket, chunk) {
        socket.data.chunks.push(new Uint8Array(chunk));
        const before = socket.data.got;
        socket.data.got += chunk.byteLength;
        if (before < 64 && socket.data.got >= 64) {
          socket.write("pong");
          socket.end();
        }
      },
      close(socket) {
        slot(socket.data.index).resolve(new Uint8Array(Buffer.concat(socket.data.chunks)));
      },
    },
  });
  return { port: listener.port, next: () => slot(taken++).promise, stop: () => listener.stop(true) };
}

async function series(hostname: string): Promise<object> {
  const server = pongServer(hostname);
  const payload = pattern(64, 7);
  const fdsBefore = await settledFdCount();
  // The first connection fetches the cookie: not counted.
  await exchange(hostname, server.port, payload);
  await server.next();
  const counts = countCalls(["fo_fastopen_status", "fo_socket_connected"]);
  const outcomes: object[] = [];
  const delivered: boolean[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const pending = server.next();
    outcomes.push(await exchange(hostname, server.port, payload));
    delivered.push(sha256(await pending) === sha256(payload));
  }
  const reads = { ...counts };
  const fdsAfter = await fdCountBackTo(fdsBefore);
  server.stop();
  return { connections: CONNECTIONS, reads, outcomes, delivered, fdsBefore, fdsAfter };
}

/**
 * The caller reuses its payload buffer as soon as connect() has returned (before the promise settles): what the
 * server receives is what the buffer held at the call, for a payload longer than the SYN can carry (its rest is
 * written later), to an IP literal and to a name.
 */
async function reuse(): Promise<object> {
  const server = recordingServer({ hostname: "127.0.0.1" });
  const results: Array<{ hostname: string; delivered: boolean }> = [];
  for (const hostname of ["127.0.0.1", "127.0.0.1", "localhost"]) {
    const expected = pattern(256 * 1024, results.length + 1);
    const buffer = expected.slice();
    const pending = server.next();
    const connecting = connect({ hostname, port: server.port, payload: buffer, socket: { data() {} } });
    buffer.fill(0);
    (await connecting).end();
    results.push({ hostname, delivered: sha256((await pending).bytes) === sha256(expected) });
  }
  server.stop();
  return { results };
}

await runCase(
  {
    loopback: () => series("::1"),
    local: () => series("fd00::5"),
    reuse,
  },
  assertPrivateNetns,
);
