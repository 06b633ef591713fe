/**
 * memjs has no socket hook: each server connects with `net.connect(port,
 * host, listener)`. The least invasive way, tested here: divert the calls to
 * the memcached servers named (host and port) to fastopen's
 * `createConnection`, every other call unchanged. `bun memjs.scenario.ts all`.
 */
import net from "node:net";
import memjs from "memjs";
import { CLIENT_TIMEOUT_MS, runClientScenario, type SocketLog } from "./common.ts";
import { startMemcached } from "./servers.ts";

let log: SocketLog | null = null;
const targets = new Set<string>();
const plain = net.connect;
// The recipe of docs/node.md, with the sockets recorded (`log.connect` is fastopen's `createConnection`).
net.connect = ((...args: unknown[]) => {
  const [port, host, listener] = args as [number, string, (() => void) | undefined];
  if (log === null || !targets.has(`${host}:${port}`)) return (plain as (...a: unknown[]) => net.Socket)(...args);
  return log.connect({ host, port }).once("connect", listener ?? (() => {}));
}) as typeof net.connect;

await runClientScenario<memjs.Client>({
  server: () => startMemcached(),
  open(port, current) {
    log = current;
    targets.add(`127.0.0.1:${port}`);
    const timeout = CLIENT_TIMEOUT_MS / 1000;
    return memjs.Client.create(`127.0.0.1:${port}`, { timeout, conntimeout: timeout, retries: 0 });
  },
  async request(client) {
    await client.set("fastopen", "memjs ok", {});
    const { value } = await client.get("fastopen");
    return String(value);
  },
  expected: "memjs ok",
  async close(client) {
    client.close();
  },
});
