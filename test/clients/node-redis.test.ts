/** node-redis against its real server through its fastopen hook (see node-redis.scenario.ts and suite.ts). */
import { clientSuite } from "./suite.ts";

clientSuite("node-redis", `${import.meta.dir}/node-redis.scenario.ts`);
