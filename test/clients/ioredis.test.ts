/** ioredis against its real server through its fastopen hook (see ioredis.scenario.ts and suite.ts). */
import { clientSuite } from "./suite.ts";

clientSuite("ioredis", `${import.meta.dir}/ioredis.scenario.ts`);
