/** Constants shared by the node:net interop and CLI scenarios (net-http.ts, cli-run.ts) and their tests. */

/** The port whose SYNs the test's iptables rule drops in the namespace. */
export const NET_DROP_PORT = 8098;

/** Body sizes of the POST requests: 0 B, 1 B, one MSS, 64 KiB, 1 MiB. */
export const BODY_SIZES = [0, 1, 1428, 65536, 1 << 20];

/** The port whose SYNs the CLI test's iptables rule drops in the namespace. */
export const CLI_DROP_PORT = 8097;
