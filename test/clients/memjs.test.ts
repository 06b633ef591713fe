/** memjs against its real server through its fastopen hook (see memjs.scenario.ts and suite.ts). */
import { clientSuite } from "./suite.ts";

clientSuite("memjs", `${import.meta.dir}/memjs.scenario.ts`);
