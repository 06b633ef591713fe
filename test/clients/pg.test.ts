/** pg against its real server through its fastopen hook (see pg.scenario.ts and suite.ts). */
import { clientSuite } from "./suite.ts";

clientSuite("pg", `${import.meta.dir}/pg.scenario.ts`);
