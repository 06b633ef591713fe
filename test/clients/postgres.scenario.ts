/**
 * postgres (porsager's Postgres.js) through its `socket` option (recipes/postgres.ts, as docs/clients.md shows
 * it; Postgres.js writes a `setImmediate` after making the socket, without waiting for 'connect'), against
 * PostgreSQL. `bun postgres.scenario.ts all`.
 */
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { connectPostgres } from "./recipes/postgres.ts";
import { startPostgres } from "./servers.ts";

type Sql = ReturnType<typeof connectPostgres>;

await runClientScenario<Sql>({
  server: () => startPostgres(),
  open: (port) =>
    connectPostgres({
      host: "127.0.0.1",
      port,
      user: "postgres",
      database: "postgres",
      max: 1,
      connect_timeout: CLIENT_TIMEOUT_MS / 1000,
      fetch_types: false,
      onnotice: () => {},
    }),
  async request(sql) {
    const [row] = await sql`select 'postgres ok' as answer`;
    return String(row?.answer);
  },
  expected: "postgres ok",
  async close(sql) {
    await sql.end({ timeout: 1 });
  },
});
