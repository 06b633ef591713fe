/** postgres against its real server through its fastopen hook (see postgres.scenario.ts and suite.ts). */
import { clientSuite } from "./suite.ts";

clientSuite("postgres", `${import.meta.dir}/postgres.scenario.ts`);
