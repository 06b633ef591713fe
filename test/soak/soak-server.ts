/**
 * The soak's server, a child process in the soak's namespace: a TFO listener
 * (`listen()`) that reads one message per connection (a 4-byte big-endian
 * length, then that many bytes), answers `"<length> <checksum>"` and closes.
 * Prints `{"port": N}` when listening; on a `report` line on stdin prints its
 * counts as JSON and exits.
 */
import type { Socket } from "bun";
import { listen } from "../../src/listen.ts";
import { checksum, fdTable } from "../support/raw.ts";

const MAX = 65536 + 4;

interface Conn {
  buf: Uint8Array;
  got: number;
}

const conns = new WeakMap<Socket<undefined>, Conn>();
const stats = { served: 0, protocolErrors: 0, socketErrors: 0, bytes: 0 };

const server = listen({
  hostname: "::1",
  port: 0,
  fastOpen: 4096,
  socket: {
    open(socket) {
      conns.set(socket, { buf: new Uint8Array(MAX), got: 0 });
    },
    data(socket, chunk) {
      const conn = conns.get(socket);
      if (conn === undefined) return;
      if (conn.got + chunk.byteLength > MAX) {
        stats.protocolErrors++;
        socket.terminate();
        return;
      }
      conn.buf.set(chunk, conn.got);
      conn.got += chunk.byteLength;
      if (conn.got < 4) return;
      const need = 4 + new DataView(conn.buf.buffer).getUint32(0);
      if (conn.got > need || need > MAX) {
        stats.protocolErrors++;
        socket.terminate();
        return;
      }
      if (conn.got < need) return;
      const body = conn.buf.subarray(4, need);
      stats.served++;
      stats.bytes += body.byteLength;
      socket.end(`${body.byteLength} ${checksum(body)}`);
      conns.delete(socket);
    },
    error() {
      stats.socketErrors++;
    },
  },
});

console.log(JSON.stringify({ port: server.port }));

const decoder = new TextDecoder();
for await (const chunk of Bun.stdin.stream()) {
  if (!decoder.decode(chunk).includes("report")) continue;
  console.log(
    JSON.stringify({ ...stats, fds: fdTable().size, rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20) }),
  );
  server.stop(true);
  process.exit(0);
}
