/**
 * mysql2 against MariaDB through its `stream` option (see mysql2.scenario.ts and suite.ts). The server speaks
 * first: nothing can ride in the SYN, and the tests check that the client works as over node:net.
 */
import { clientSuite } from "./suite.ts";

clientSuite("mysql2", `${import.meta.dir}/mysql2.scenario.ts`, { clientFirst: false });
