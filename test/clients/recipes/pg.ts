import { FastOpenSocket } from "fastopen";
import pg from "pg";

// pg's `stream` option: pg connects the socket itself (socket.connect(port, host)).
export function pgClient(config: pg.ClientConfig): pg.Client {
  return new pg.Client({ ...config, stream: () => new FastOpenSocket() as never });
}
