import { createConnection } from "fastopen";
import mysql from "mysql2/promise";

// mysql2's `stream` option. The server speaks first: nothing to put in the SYN, but it works as over node:net.
export function connectMysql(options: mysql.ConnectionOptions & { host: string; port: number }) {
  const { host, port } = options;
  return mysql.createConnection({ ...options, stream: () => createConnection({ host, port }) as never });
}
