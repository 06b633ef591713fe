import https from "node:https";
import type { Duplex } from "node:stream";
import { connectTls } from "./tls.ts";

// FastOpenAgent is for http:; for https:, an https.Agent whose connections are TLS over fastopen's socket.
export class FastOpenHttpsAgent extends https.Agent {
  override createConnection(options: https.RequestOptions): Duplex {
    const { host = "localhost", port = 443 } = options;
    return connectTls({ ...options, host, port: Number(port) } as never);
  }
}
