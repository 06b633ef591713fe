/**
 * Clients run as child processes by http.scenario.ts, where what matters is
 * whether the process ends on its own: `bun child-client.ts <case> <port>`
 * prints one JSON line and exits; a socket left alive shows as a hang.
 * - `pg-factory`: pg with `stream: () => new FastOpenSocket()` (pg calls `connect(port, host)`);
 * - `pg-connecting`: pg given a socket `createConnection` already started (pg's `connect()` is the second);
 * - `ref` / `unref`: a connection to a server that never closes, `unref()` called before it is established;
 * - `connecting-ref`, `connecting-unref`, `connecting-unref-ref` (`ref()`, `unref()`, both, before `connect()`)
 *   and `connecting-started-unref` (`unref()` right after `createConnection()`): a connect to a port whose SYNs
 *   are dropped, that never completes.
 */
import pg from "pg";
import { createConnection } from "../../src/node/create-connection.ts";
import { FastOpenSocket } from "../../src/node/socket.ts";

const [where = "", portText = "0"] = process.argv.slice(2);
const port = Number(portText);

async function viaPg(stream: () => FastOpenSocket): Promise<void> {
  const client = new pg.Client({ host: "::1", port, user: "u", database: "d", stream });
  try {
    await client.connect();
    console.log(JSON.stringify({ connected: true }));
    await client.end();
  } catch (error) {
    console.log(JSON.stringify({ connected: false, code: (error as { code?: unknown }).code ?? null }));
  }
}

switch (where) {
  case "pg-factory":
    await viaPg(() => new FastOpenSocket({ connectTimeout: 5000 }));
    break;
  case "pg-connecting":
    await viaPg(() => createConnection({ host: "::1", port }));
    break;
  case "ref":
  case "unref": {
    const socket = createConnection({ host: "::1", port });
    if (where === "unref") socket.unref();
    socket.on("connect", () => {
      // Fires only while something keeps the process alive: the ref'd socket.
      setTimeout(() => {
        console.log(JSON.stringify({ alive: true }));
        process.exit(0);
      }, 200).unref();
    });
    break;
  }
  case "connecting-ref":
  case "connecting-unref":
  case "connecting-unref-ref":
  case "connecting-started-unref": {
    let socket: FastOpenSocket;
    if (where === "connecting-started-unref") socket = createConnection({ host: "127.0.0.1", port }).unref();
    else {
      socket = new FastOpenSocket();
      if (where !== "connecting-ref") socket.unref();
      if (where === "connecting-unref-ref") socket.ref();
      socket.connect(port, "127.0.0.1");
    }
    socket.on("error", (error) => console.log(JSON.stringify({ error: error.message })));
    // Fires only while something keeps the process alive: the ref'd connecting socket.
    setTimeout(() => {
      console.log(JSON.stringify({ alive: true, connecting: socket.connecting }));
      process.exit(0);
    }, 300).unref();
    break;
  }
  default:
    throw new Error(`unknown case ${where}`);
}
