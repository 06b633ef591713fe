/**
 * A child of optimistic.scenario.ts, where what matters is whether the
 * process ends on its own: `bun optimistic-child.ts <how> <port>` connects
 * to 127.0.0.1:`port` (cookie known, SYNs dropped), writes on `'connect'`
 * and prints one JSON line when it exits.
 * - `after`: `unref()` inside the `'connect'` listener (optimistic: before the handshake);
 * - `before`: `unref()` right after `createConnection`;
 * - `timeout`: as `after`, with a `connectTimeout` of 8 s (its timer must not hold the process either);
 * - `ref`: never unref'd (the socket keeps the process alive until its handshake timeout).
 */
import { createConnection } from "../../src/node/create-connection.ts";

const [how = "", portText = "0"] = process.argv.slice(2);
const seen = { connected: false, connecting: null as boolean | null, error: null as string | null };
process.on("exit", () => console.log(JSON.stringify(seen)));

const socket = createConnection({
  host: "127.0.0.1",
  port: Number(portText),
  ...(how === "timeout" ? { connectTimeout: 8000 } : {}),
});
if (how === "before") socket.unref();
socket.on("connect", () => {
  seen.connected = true;
  seen.connecting = socket.connecting;
  socket.write("request");
  if (how === "after" || how === "timeout") socket.unref();
});
socket.on("error", (error) => (seen.error = (error as { code?: string }).code ?? error.message));
