/**
 * postgres (porsager's Postgres.js) through its `socket` option (a function
 * returning the socket; Postgres.js then writes at once, without waiting for
 * 'connect'), against PostgreSQL. `bun postgres.scenario.ts all`.
 */
import postgres from "postgres";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { startPostgres } from "./servers.ts";

type Sql = ReturnType<typeof postgres>;

await runClientScenario<Sql>({
  server: () => startPostgres(),
  open: (port, log) =>
    postgres({
      host: "127.0.0.1",
      port,
      user: "postgres",
      database: "postgres",
      max: 1,
      connect_timeout: CLIENT_TIMEOUT_MS / 1000,
      fetch_types: false,
      onnotice: () => {},
      // The hook as docs/node.md shows it: `socket: () => createConnection({ host, port })` (untyped in
      // postgres' .d.ts, hence the spread).
      ...{ socket: () => log.connect({ host: "127.0.0.1", port }) },
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
