/**
 * undici (the npm package, not Bun's built-in `undici` stub) through `new Agent({ connect: fastOpenConnector() })`
 * (recipes/undici.ts, as docs/clients.md shows it) against nginx, over HTTP, or HTTPS with `https` as the
 * argument. `bun undici.scenario.ts all [https]`.
 */
import { type Agent, request } from "undici/index.js";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { fastOpenDispatcher } from "./recipes/undici.ts";
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
    const tls = { ca: nginx!.cert, servername: "localhost", ecdhCurve: "X25519" };
    const agent = fastOpenDispatcher({ timeout: CLIENT_TIMEOUT_MS, ...(secure ? tls : {}) });
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
