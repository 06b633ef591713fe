/**
 * ioredis through its `Connector` option (recipes/ioredis.ts, as docs/clients.md shows it), against
 * redis-server. `bun ioredis.scenario.ts all`.
 */
import { Redis } from "ioredis";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { FastOpenConnector } from "./recipes/ioredis.ts";
import { startRedis } from "./servers.ts";

await runClientScenario<Redis>({
  server: () => startRedis(),
  open(port, log) {
    const client = new Redis({
      host: "127.0.0.1",
      port,
      Connector: FastOpenConnector,
      connectTimeout: CLIENT_TIMEOUT_MS,
      commandTimeout: CLIENT_TIMEOUT_MS * 2,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => (times > 3 ? null : 50),
    });
    client.on("error", (e) => log.clientErrors.push(e));
    return client;
  },
  async request(client) {
    await client.set("fastopen", "ioredis ok");
    return String(await client.get("fastopen"));
  },
  expected: "ioredis ok",
  async close(client) {
    client.disconnect();
  },
});
