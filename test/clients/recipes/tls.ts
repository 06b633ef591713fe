import tls from "node:tls";
import { createConnection } from "fastopen";

// Any TLS client that takes a socket: TLS over fastopen's socket, the ClientHello in the SYN (when it fits).
export function connectTls(options: tls.ConnectionOptions & { host: string; port: number }): tls.TLSSocket {
  return tls.connect({ ...options, socket: createConnection({ host: options.host, port: options.port }) });
}
