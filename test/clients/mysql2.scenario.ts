/**
 * mysql2 through its `stream` option (recipes/mysql2.ts, as docs/clients.md shows it), against MariaDB. The
 * server speaks first: nothing can ride in the SYN, but the client must work as over node:net.
 * `bun mysql2.scenario.ts all`.
 */
import type mysql from "mysql2/promise";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { connectMysql } from "./recipes/mysql2.ts";
import { startMariadb } from "./servers.ts";

await runClientScenario<mysql.Connection>({
  server: () => startMariadb(),
  open: (port) => connectMysql({ host: "127.0.0.1", port, user: "root", connectTimeout: CLIENT_TIMEOUT_MS }),
  async request(connection) {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("select 'mysql2 ok' as answer");
    return String(rows[0]?.answer);
  },
  expected: "mysql2 ok",
  async close(connection) {
    await connection.end().catch(() => {});
  },
  reconnects: false,
});
