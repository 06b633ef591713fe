/**
 * One connection whose handler `which` throws, made with `Bun.connect` or
 * fastopen's `connect` (`impl`), plain or lazy (`mode`; lazy after a warm-up
 * connect that fetched the cookie, so `open` runs before the handshake), with
 * or without an `error` handler (`withError`). Run by handlers.scenario.ts in
 * a private namespace, which reads its exit code and output: it prints
 * `{ saw, survived }` when it gets to the end.
 */
import type { Socket, SocketHandler } from "bun";
import { connect } from "../../src/connect/connect.ts";
import { listen } from "../../src/listen.ts";
import { assertPrivateNetns } from "../support/netns.ts";

assertPrivateNetns();
const [which = "", impl = "fastopen", mode = "plain", withError = "no"] = process.argv.slice(2);

/** A TFO server: greets on open (so `data` runs), ends after the client's first bytes (so `end` and `close` run). */
const server = listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open: (s) => void s.write("hi"),
    data: (s) => void s.end(),
  },
});

const saw: string[] = [];
if (which === "connectError") {
  // A closed port: connect() rejects, after a connectError handler that throws.
  const closedPort = listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = closedPort.port;
  closedPort.stop(true);
  const thrower = () => {
    throw new Error("boom in connectError");
  };
  await connect({ hostname: "127.0.0.1", port, socket: { data() {}, connectError: thrower } }).catch((error) =>
    saw.push((error as { code?: string }).code ?? String(error)),
  );
  await Bun.sleep(0);
  console.log(JSON.stringify({ saw, survived: true }));
  process.exit();
}
const closed = Promise.withResolvers<void>();
const handlers: SocketHandler<undefined> = {
  open(s: Socket<undefined>) {
    s.write("x");
    if (which === "open") throw new Error("boom in open");
  },
  data() {
    if (which === "data") throw new Error("boom in data");
  },
  end() {
    if (which === "end") throw new Error("boom in end");
  },
  close() {
    closed.resolve();
    if (which === "close") throw new Error("boom in close");
  },
};
if (withError === "yes") handlers.error = (_s, error) => void saw.push(error.message);

const lazy = mode === "lazy";
if (lazy) {
  // Fetch the cookie (with a quiet handler set), so the tested lazy connect defers its SYN.
  const closed = Promise.withResolvers<void>();
  await connect({
    hostname: "127.0.0.1",
    port: server.port,
    payload: "x",
    socket: { data() {}, close: () => closed.resolve() },
  });
  await closed.promise;
}
const options = { hostname: "127.0.0.1", port: server.port, socket: handlers };
if (impl === "bun") await Bun.connect(options);
else await connect({ ...options, lazy });
// The server ends after the client's first bytes: every handler has run once `close` has.
await closed.promise;
await Bun.sleep(0);
server.stop(true);
console.log(JSON.stringify({ saw, survived: true }));
