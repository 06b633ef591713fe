/**
 * node:http through `FastOpenAgent`, and node:https through TLS over `createConnection`, against nginx (see
 * node-http.scenario.ts and suite.ts).
 */
import { clientSuite } from "./suite.ts";

clientSuite("node-http", `${import.meta.dir}/node-http.scenario.ts`);
clientSuite("node-https", `${import.meta.dir}/node-http.scenario.ts`, { args: ["https"] });
