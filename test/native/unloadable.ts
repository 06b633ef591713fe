/**
 * Child of unloadable.test.ts, run with a FASTOPEN_LIB that cannot be
 * loaded: `listen()` on a port known to be free must throw without leaving
 * Bun's listener open (the port binds again at once, no fd is left), and
 * with `fastOpen: 0` it needs no library at all. Prints one JSON report.
 */
import { readdirSync } from "node:fs";
import { listen } from "../../src/index.ts";

const handlers = { data(): void {} };
const fds = () => readdirSync("/proc/self/fd").length;

const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: handlers });
const port = probe.port;
probe.stop(true);
await Bun.sleep(50);
const before = fds();
let error = "";
try {
  listen({ hostname: "127.0.0.1", port, socket: handlers }).stop(true);
} catch (thrown) {
  error = thrown instanceof Error ? thrown.message : String(thrown);
}
await Bun.sleep(50);
const after = fds();
let rebound = "";
try {
  Bun.listen({ hostname: "127.0.0.1", port, socket: handlers }).stop(true);
  rebound = "ok";
} catch (thrown) {
  rebound = thrown instanceof Error ? thrown.message : String(thrown);
}
const plain = listen({ hostname: "127.0.0.1", port: 0, fastOpen: 0, socket: handlers });
const plainQueue = plain.fastOpen;
plain.stop(true);
console.log(JSON.stringify({ error, rebound, before, after, plainQueue }));
process.exit(0); // a listener left open must not keep the child alive
