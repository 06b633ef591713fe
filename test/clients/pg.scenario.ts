/**
 * pg (node-postgres) through its `stream` option: a function returning an
 * unconnected `FastOpenSocket`, which pg then connects with
 * `stream.connect(port, host)`, against PostgreSQL. `bun pg.scenario.ts all`.
 */
import pg from "pg";
import { FastOpenSocket } from "../../src/node/socket.ts";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { startPostgres } from "./servers.ts";

await runClientScenario<pg.Client>({
  server: () => startPostgres(),
  async open(port, log) {
    const client = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "postgres",
      database: "postgres",
      connectionTimeoutMillis: CLIENT_TIMEOUT_MS,
      // The hook as docs/node.md shows it: `stream: () => new FastOpenSocket()`.
      stream: () => log.track(new FastOpenSocket(log.extra)) as never,
    });
    client.on("error", (e) => log.clientErrors.push(e));
    await client.connect();
    return client;
  },
  async request(client) {
    const result = await client.query<{ answer: string }>("select 'pg ok' as answer");
    return String(result.rows[0]?.answer);
  },
  expected: "pg ok",
  async close(client) {
    await client.end().catch(() => {});
  },
  reconnects: false,
});
