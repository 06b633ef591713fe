/**
 * node:http through `FastOpenAgent` (recipes/node-http.ts), or node:https through an https.Agent whose
 * connections are `tls.connect({ socket: createConnection() })` (recipes/node-https.ts and recipes/tls.ts), as
 * docs/clients.md shows them, against nginx. `bun node-http.scenario.ts all [https]`.
 */
import https from "node:https";
import { CLIENT_TIMEOUT_MS, runClientScenario } from "./common.ts";
import { agent, get } from "./recipes/node-http.ts";
import { FastOpenHttpsAgent } from "./recipes/node-https.ts";
import { type NginxServer, startNginx } from "./servers.ts";

const secure = process.argv[3] === "https";
let nginx: NginxServer | null = null;

/** One GET over the HTTPS agent (the recipe's `get` is the http one). */
function getSecure(url: string, through: FastOpenHttpsAgent): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent: through, timeout: CLIENT_TIMEOUT_MS }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve(`${res.statusCode} ${body.trim()}`));
      })
      .on("error", reject);
  });
}

interface HttpClient {
  origin: string;
  secureAgent: FastOpenHttpsAgent | null;
}

await runClientScenario<HttpClient>({
  async server() {
    nginx = await startNginx();
    return secure ? { ...nginx, port: nginx.tlsPort } : nginx;
  },
  open(port) {
    const tls = { ca: nginx!.cert, servername: "localhost", ecdhCurve: "X25519" };
    const secureAgent = secure ? new FastOpenHttpsAgent({ keepAlive: true, ...tls }) : null;
    return { origin: `${secure ? "https" : "http"}://127.0.0.1:${port}`, secureAgent };
  },
  request: ({ origin, secureAgent }) =>
    secureAgent === null ? get(`${origin}/`) : getSecure(`${origin}/`, secureAgent),
  expected: "200 hello",
  async close({ secureAgent }) {
    // A new connection per round: the keep-alive sockets are closed.
    (secureAgent ?? agent).destroy();
  },
});
