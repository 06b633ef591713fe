import net from "node:net";
import { createConnection } from "fastopen";

// node-redis has no socket hook: it hands its `socket` options to net.createConnection. Divert the calls whose
// options say `fastOpen: true` to fastopen; every other call is unchanged.
// createClient({ socket: { host, port, fastOpen: true } as never })
export function divertNodeRedis(): void {
  const plain = net.createConnection;
  net.createConnection = ((options: net.NetConnectOpts & { fastOpen?: boolean }, listener?: () => void) =>
    options?.fastOpen === true ? createConnection(options as never, listener) : plain(options, listener)) as never;
}
