/**
 * node-redis (`redis` on npm) has no socket hook: recipes/node-redis.ts (as docs/clients.md shows it) diverts the
 * `net.createConnection` calls whose options carry `fastOpen: true` (node-redis passes its `socket` options
 * through) to fastopen's `createConnection`, every other call unchanged. Against redis-server.
 * `bun node-redis.scenario.ts all`.
 */
import { createClient, type RedisClientType } from "redis";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { divertNodeRedis } from "./recipes/node-redis.ts";
import { startRedis } from "./servers.ts";

divertNodeRedis();

await runClientScenario<RedisClientType>({
  server: () => startRedis(),
  async open(port, log) {
    const socket = {
      host: "127.0.0.1",
      port,
      fastOpen: true,
      connectTimeout: CLIENT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => (retries > 3 ? false : 50),
    };
    const client = createClient({ socket } as never) as RedisClientType;
    client.on("error", (e) => log.clientErrors.push(e));
    await client.connect();
    return client;
  },
  async request(client) {
    await client.set("fastopen", "node-redis ok");
    return String(await client.get("fastopen"));
  },
  expected: "node-redis ok",
  async close(client) {
    if (client.isOpen) client.destroy();
  },
});
