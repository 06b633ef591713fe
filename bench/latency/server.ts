/**
 * The server side of the latency benchmark, run in the server namespace.
 * Three `listen()` servers with TFO, each answering 64 bytes once it has
 * read a 64-byte request: plain TCP, TLS, and HTTP (answering after the
 * request head, `Connection: close`). Prints `{"ports":...}` when ready and
 * exits when stdin closes.
 *
 *   bun bench/latency/server.ts <host> <cert.pem> <key.pem>
 */

import { readFileSync } from "node:fs";
import type { Socket, SocketHandler } from "bun";
import { listen } from "../../src/listen.ts";
import { eachStdinLine, reply } from "../lib/proc.ts";
import { MESSAGE_BYTES } from "./protocol.ts";

const [host, certPath, keyPath] = process.argv.slice(2);
if (host === undefined || certPath === undefined || keyPath === undefined) {
  throw new TypeError("usage: server.ts <host> <cert.pem> <key.pem>");
}

const RESPONSE = new Uint8Array(MESSAGE_BYTES).fill(0x72);
const HTTP_RESPONSE = Buffer.concat([
  Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Length: ${MESSAGE_BYTES}\r\nContent-Type: ` +
      `application/octet-stream\r\nConnection: close\r\n\r\n`,
  ),
  RESPONSE,
]);

interface Conn {
  got: number;
  head: string;
  answered: boolean;
}

/** Answers 64 bytes after 64 bytes in; the client closes. */
const echo: SocketHandler<Conn> = {
  open(socket) {
    socket.data = { got: 0, head: "", answered: false };
  },
  data(socket, data) {
    const conn = socket.data;
    conn.got += data.byteLength;
    if (!conn.answered && conn.got >= MESSAGE_BYTES) {
      conn.answered = true;
      socket.write(RESPONSE);
    }
  },
  end(socket) {
    socket.end();
  },
};

/** Answers once the request head is complete, then closes (Connection: close). */
const http: SocketHandler<Conn> = {
  open(socket: Socket<Conn>) {
    socket.data = { got: 0, head: "", answered: false };
  },
  data(socket, data) {
    const conn = socket.data;
    conn.head += data.toString("latin1");
    if (!conn.answered && conn.head.includes("\r\n\r\n")) {
      conn.answered = true;
      socket.end(HTTP_RESPONSE);
    }
  },
};

const tls = { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
const servers = [
  listen<Conn>({ hostname: host, port: 0, socket: echo }),
  listen<Conn>({ hostname: host, port: 0, socket: echo, tls }),
  listen<Conn>({ hostname: host, port: 0, socket: http }),
];
const [plain, secure, web] = servers.map((server) => server.port);
reply({ ports: { plain, tls: secure, http: web } });
await eachStdinLine(() => {});
for (const server of servers) server.stop(true);
