/**
 * pg (node-postgres) through its `stream` option (recipes/pg.ts, as docs/clients.md shows it): an unconnected
 * `FastOpenSocket`, which pg connects with `stream.connect(port, host)`, against PostgreSQL.
 * `bun pg.scenario.ts all`.
 */
import type pg from "pg";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { pgClient } from "./recipes/pg.ts";
import { startPostgres } from "./servers.ts";

await runClientScenario<pg.Client>({
  server: () => startPostgres(),
  async open(port, log) {
    const config = { host: "127.0.0.1", port, user: "postgres", database: "postgres" };
    const client = pgClient({ ...config, connectionTimeoutMillis: CLIENT_TIMEOUT_MS });
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
