/**
 * undici (the npm package, not Bun's built-in `undici` stub) through
 * `new Agent({ connect: fastOpenConnector() })` against nginx, over HTTP, or
 * HTTPS with `https` as the argument. `bun undici.scenario.ts all [https]`.
 */
import { Agent, request } from "undici/index.js";
import { fastOpenConnector } from "../../src/node/undici.ts";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { type NginxServer, startNginx } from "./servers.ts";

const secure = process.argv[3] === "https";
let nginx: NginxServer | null = null;

interface UndiciClient {
  agent: Agent;
  origin: string;
}

await runClientScenario<UndiciClient>({
  async server() {
    nginx = await startNginx();
    // The HTTPS cases talk to the TLS port; restart and dispose act on the one nginx process.
    return secure ? { ...nginx, port: nginx.tlsPort } : nginx;
  },
  open(port, log) {
    const connect = fastOpenConnector({
      timeout: log.extra.connectTimeout ?? CLIENT_TIMEOUT_MS,
      onSocket: (socket) => log.track(socket),
      ...(secure ? { ca: nginx!.cert, servername: "localhost", ecdhCurve: "X25519" } : {}),
    });
    const agent = new Agent({ connect, connectTimeout: CLIENT_TIMEOUT_MS });
    agent.on("connectionError", (_origin, _targets, error) => log.clientErrors.push(error));
    return { agent, origin: `${secure ? "https" : "http"}://127.0.0.1:${port}` };
  },
  async request({ agent, origin }) {
    const response = await request(`${origin}/`, { dispatcher: agent });
    return `${response.statusCode} ${(await response.body.text()).trim()}`;
  },
  expected: "200 hello",
  async close({ agent }) {
    await agent.close();
  },
});
