/**
 * fastopen: TCP Fast Open for Bun.
 *
 * `connect()`/`listen()` are Bun.connect/Bun.listen with data in the SYN;
 * `createConnection()`/`FastOpenAgent`/`FastOpenSocket` serve node:net and
 * node:http clients; `fastOpenStatus(socket)` says whether a connection's
 * first bytes rode in the SYN; `support()` says whether this host allows it;
 * `fastOpenKeys()` derives a fleet's shared listener keys from a secret.
 * The libowfat-style fd layer is the separate entry `fastopen/lowlevel`.
 */

export type { ConnectOptions } from "./connect/connect.ts";
export { connect, DEFAULT_ATTEMPT_DELAY_MS } from "./connect/connect.ts";
export type { LookupFunction } from "./connect/resolve.ts";
export type { ConnectMode, FastOpenOutcome, FastOpenStatus } from "./connect/status.ts";
export { fastOpenStatus } from "./connect/status.ts";
export type { FastOpenKey, FastOpenKeys, FastOpenKeysOptions } from "./keys.ts";
export { fastOpenKeys } from "./keys.ts";
export type {
  FastOpenKeySchedule,
  FastOpenListener,
  FastOpenListenOptions,
  FastOpenServerCounters,
  ListenOptions,
} from "./listen.ts";
export { listen } from "./listen.ts";
export type { SystemError } from "./lowlevel/errors.ts";
export { DEFAULT_FASTOPEN_QUEUE } from "./lowlevel/socket.ts";
export type { FastOpenAgentOptions } from "./node/agent.ts";
export { FastOpenAgent } from "./node/agent.ts";
export { createConnection } from "./node/create-connection.ts";
export type { CreateConnectionOptions, FastOpenSocketOptions, SocketReadyState } from "./node/socket.ts";
export { FastOpenSocket, HANDSHAKE_TIMEOUT_MS, MAX_PAYLOAD } from "./node/socket.ts";
export type { FastOpenConnectorOptions, UndiciConnector } from "./node/undici.ts";
export { fastOpenConnector } from "./node/undici.ts";
export type { SupportReport } from "./support.ts";
export { support } from "./support.ts";
