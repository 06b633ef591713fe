/**
 * The consumer app of the shipping tests (test/ship/): copied into a
 * temporary project that installs the packed package, then run as it is,
 * as a `bun build` bundle and as a `bun build --compile` executable. It
 * uses only the package's public entries. One TFO exchange over loopback:
 * the first connection fetches the server's cookie, the second carries its
 * payload in the SYN. Prints one JSON report as its last stdout line.
 */

import { readFileSync } from "node:fs";
import type { Socket } from "bun";
import { connect, type FastOpenStatus, fastOpenStatus, listen } from "fastopen";
import { counterDelta, fastOpenCounters } from "fastopen/lowlevel";

/** Per-connection state of the shared client handlers. */
interface Exchange {
  received: string;
  closed: PromiseWithResolvers<string>;
}

/** The server's handlers: echo the request, then close. */
const serverHandlers = {
  data(socket: Socket<undefined>, data: Buffer): void {
    socket.end(`echo ${data.toString()}`);
  },
};

/** The clients' handlers, shared by every connection (state in socket.data). */
const clientHandlers = {
  data(socket: Socket<Exchange>, data: Buffer): void {
    socket.data.received += data.toString();
  },
  close(socket: Socket<Exchange>): void {
    socket.data.closed.resolve(socket.data.received);
  },
};

/** The files mapped into this process (/proc/self/maps) whose names match `pattern`. */
function mapped(pattern: RegExp): string[] {
  const lines = readFileSync("/proc/self/maps", "utf8").split("\n");
  return [...new Set(lines.map((line) => line.split(/\s+/).slice(5).join(" ")).filter((path) => pattern.test(path)))];
}

/** One connection to `port` with `payload`; its TFO status once established, and the reply. */
async function exchange(port: number, payload: string): Promise<{ status: FastOpenStatus; reply: string }> {
  const data: Exchange = { received: "", closed: Promise.withResolvers<string>() };
  const socket = await connect<Exchange>({ hostname: "127.0.0.1", port, payload, data, socket: clientHandlers });
  const status = fastOpenStatus(socket);
  return { status, reply: await data.closed.promise };
}

const before = fastOpenCounters();
const server = listen({ hostname: "127.0.0.1", port: 0, socket: serverHandlers });
const first = await exchange(server.port, "first");
const second = await exchange(server.port, "second");
server.stop(true);
const pick = ({ sent, acked, reason, bytesInSyn }: FastOpenStatus) => ({ sent, acked, reason, bytesInSyn });
console.log(
  JSON.stringify({
    platform: process.platform,
    arch: process.arch,
    // The library loaded: the package's, the bundle's copy, or a compiled executable's extraction (.bun-*.so).
    libraries: mapped(/libfastopen|\/\.bun-[^/]*\.so$/),
    libc: mapped(/\/(libc[.-][^/]*|ld-musl-[^/]*|ld-linux-[^/]*)$/),
    replies: [first.reply, second.reply],
    statuses: [pick(first.status), pick(second.status)],
    delta: counterDelta(before, fastOpenCounters()),
  }),
);
