/**
 * ioredis through its `Connector` option: a connector whose stream is
 * fastopen's `createConnection`, against redis-server. `bun ioredis.scenario.ts all`.
 */
import type { Socket } from "node:net";
import { AbstractConnector, Redis, type RedisOptions } from "ioredis";
import { CLIENT_TIMEOUT_MS, runClientScenario, type SocketLog } from "./common.ts";
import { startRedis } from "./servers.ts";

/** The hook as docs/node.md shows it, with the sockets recorded (`log.connect` is `createConnection`). */
function fastOpenConnector(log: SocketLog) {
  return class FastOpenConnector extends AbstractConnector {
    readonly #options: RedisOptions;
    constructor(options: unknown) {
      super((options as RedisOptions).disconnectTimeout ?? 2000);
      this.#options = options as RedisOptions;
    }
    override connect(): Promise<Socket> {
      this.connecting = true;
      const { host = "localhost", port = 6379 } = this.#options;
      this.stream = log.connect({ host, port }) as unknown as Socket;
      return Promise.resolve(this.stream);
    }
  };
}

await runClientScenario<Redis>({
  server: () => startRedis(),
  open(port, log) {
    const client = new Redis({
      host: "127.0.0.1",
      port,
      Connector: fastOpenConnector(log),
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
