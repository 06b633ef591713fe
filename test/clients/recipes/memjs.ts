import net from "node:net";
import { createConnection } from "fastopen";

// memjs has no socket hook: it calls net.connect(port, host, listener). Divert the calls to the servers named
// ("host:port", as given to memjs) to fastopen; every other call is unchanged.
export function divertMemjs(servers: string[]): void {
  const targets = new Set(servers);
  const plain = net.connect as (...args: unknown[]) => net.Socket;
  net.connect = ((...args: unknown[]) => {
    const [port, host, listener] = args as [number, string, (() => void) | undefined];
    return targets.has(`${host}:${port}`) ? createConnection({ host, port }, listener) : plain(...args);
  }) as never;
}
