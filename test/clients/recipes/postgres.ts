import { createConnection } from "fastopen";
import postgres from "postgres";

// Postgres.js' `socket` option (a function returning the socket; missing from its types, hence the spread).
export function connectPostgres(options: postgres.Options<Record<string, never>> & { host: string; port: number }) {
  const { host, port } = options;
  return postgres({ ...options, ...{ socket: () => createConnection({ host, port }) } });
}
