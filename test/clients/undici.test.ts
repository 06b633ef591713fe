/** undici (npm) against nginx through `fastOpenConnector`, over HTTP and HTTPS (see undici.scenario.ts, suite.ts). */
import { clientSuite } from "./suite.ts";

clientSuite("undici", `${import.meta.dir}/undici.scenario.ts`);
clientSuite("undici-https", `${import.meta.dir}/undici.scenario.ts`, { args: ["https"] });
