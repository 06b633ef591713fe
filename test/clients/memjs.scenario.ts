/**
 * memjs has no socket hook: recipes/memjs.ts (as docs/clients.md shows it) diverts its `net.connect` calls to the
 * memcached servers named to fastopen's `createConnection`, every other call unchanged. Against memcached.
 * `bun memjs.scenario.ts all`.
 */
import memjs from "memjs";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { divertMemjs } from "./recipes/memjs.ts";
import { startMemcached } from "./servers.ts";

const diverted = new Set<string>();

await runClientScenario<memjs.Client>({
  server: () => startMemcached(),
  open(port) {
    const server = `127.0.0.1:${port}`;
    if (!diverted.has(server)) divertMemjs([server]);
    diverted.add(server);
    const timeout = CLIENT_TIMEOUT_MS / 1000;
    return memjs.Client.create(server, { timeout, conntimeout: timeout, retries: 0 });
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
