/**
 * A client whose listener throws, run as a child process by the `uncaught`
 * case of http.scenario.ts: `bun throwing-client.ts <where>`. Each throw must
 * surface as node:net's would (printed, exit 1; or to an `'uncaughtException'`
 * handler), never vanish with the process hanging or exiting 0.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { FastOpenAgent } from "../../src/node/agent.ts";
import { createConnection } from "../../src/node/create-connection.ts";

const where = process.argv[2] ?? "";
const thrown = (): never => {
  throw new Error(`thrown in ${where}`);
};

const server = http.createServer((_req, res) => res.end("ok"));
await new Promise<void>((resolve) => server.listen(0, "::1", resolve));
const { port } = server.address() as AddressInfo;

if (where === "handled") {
  process.on("uncaughtException", (error) => {
    console.log(`handled: ${error.message}`);
    process.exit(0);
  });
}

switch (where) {
  case "response":
  case "handled":
    http.get({ host: "::1", port, path: "/", agent: new FastOpenAgent() }, thrown);
    break;
  case "response-plain-agent":
    http.get({ host: "::1", port, path: "/", agent: new http.Agent() }, thrown);
    break;
  case "connect":
    createConnection({ host: "::1", port }, thrown);
    break;
  case "data": {
    const socket = createConnection({ host: "::1", port });
    socket.on("data", thrown);
    socket.end("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    break;
  }
  case "end": {
    const socket = createConnection({ host: "::1", port });
    socket.resume();
    socket.on("end", thrown);
    socket.end("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    break;
  }
  default:
    throw new Error(`unknown case ${where}`);
}
