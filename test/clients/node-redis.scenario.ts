/**
 * node-redis (`redis` on npm) has no socket hook: its `socket` options go to
 * `net.createConnection`. The least invasive way, tested here: divert the
 * calls that carry `fastOpen: true` (node-redis passes its `socket` options
 * through) to fastopen's `createConnection`, every other call unchanged.
 * Against redis-server. `bun node-redis.scenario.ts all`.
 */
import net from "node:net";
import { createClient, type RedisClientType } from "redis";
import { CLIENT_TIMEOUT_MS, runClientScenario, type SocketLog } from "./common.ts";
import { startRedis } from "./servers.ts";

let log: SocketLog | null = null;
const plain = net.createConnection;
// The recipe of docs/node.md, with the sockets recorded (`log.connect` is fastopen's `createConnection`).
net.createConnection = ((options: net.NetConnectOpts & { fastOpen?: boolean }, listener?: () => void) =>
  options?.fastOpen === true && log !== null
    ? log.connect(options as never).once("connect", listener ?? (() => {}))
    : plain(options, listener)) as typeof net.createConnection;

await runClientScenario<RedisClientType>({
  server: () => startRedis(),
  async open(port, current) {
    log = current;
    const socket = {
      host: "127.0.0.1",
      port,
      fastOpen: true,
      connectTimeout: CLIENT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => (retries > 3 ? false : 50),
    };
    const client = createClient({ socket } as never) as RedisClientType;
    client.on("error", (e) => current.clientErrors.push(e));
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
