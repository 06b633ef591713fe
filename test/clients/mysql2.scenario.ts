/**
 * mysql2 through its `stream` option (a function returning the socket),
 * against MariaDB. The server speaks first: nothing can ride in the SYN, but
 * the client must work as over node:net. `bun mysql2.scenario.ts all`.
 */
import mysql from "mysql2/promise";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { startMariadb } from "./servers.ts";

await runClientScenario<mysql.Connection>({
  server: () => startMariadb(),
  open: (port, log) =>
    mysql.createConnection({
      host: "127.0.0.1",
      port,
      user: "root",
      connectTimeout: CLIENT_TIMEOUT_MS,
      // The hook as docs/node.md shows it: `stream: () => createConnection({ host, port })`.
      stream: () => log.connect({ host: "127.0.0.1", port }) as never,
    }),
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
