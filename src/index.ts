/**
 * fastopen: TCP Fast Open for Bun.
 *
 * `connect()`/`listen()` are Bun.connect/Bun.listen with data in the SYN;
 * `createConnection()`/`FastOpenAgent` serve node:net clients; the
 * libowfat-style layer (`socketFastopenConnect6` and siblings) works on fds
 * with libowfat's contract; `fastOpenStatus`, `fastopenStatus` and the
 * counters prove TFO happened.
 */
export * from "./lowlevel.ts";
export * from "./address.ts";
export { lastError, errnoName, errnoNumber, systemError } from "./errors.ts";
export type { ErrnoInfo, SystemError } from "./errors.ts";
export { decodeStatus } from "./status.ts";
export type { FastOpenStatus, FastOpenReason } from "./status.ts";
export { fastOpenCounters, counterDelta, readTcpFastopenSysctl, parseNetstat, TFO_BITS } from "./netstat.ts";
export type { FastOpenCounters } from "./netstat.ts";
export { libraryCandidates, libraryFileName } from "./native.ts";
export type { BufferSource } from "./validate.ts";
// The async Bun API: connect()/listen() with TFO, per-connection reports, host support.
export { connect, DEFAULT_ATTEMPT_DELAY_MS } from "./connect.ts";
export type { ConnectOptions } from "./connect.ts";
export { listen, DEFAULT_LISTEN_FASTOPEN } from "./listen.ts";
export type { ListenOptions, FastOpenListener } from "./listen.ts";
export type { FastOpenFd, FastOpenFdOptions, ConnectMode } from "./fastopen-fd.ts";
export { resolveHost, interleave, isIpLiteral } from "./resolve.ts";
export type { ResolvedAddress, LookupFunction } from "./resolve.ts";
export { fastOpenStatus } from "./fastopen-status.ts";
export type { ConnectionFastOpenStatus, FastOpenOutcome } from "./fastopen-status.ts";
export { support, linuxSupport } from "./support.ts";
export type { SupportReport } from "./support.ts";
export { createConnection, FastOpenAgent, FastOpenSocket, MAX_PAYLOAD } from "./net.ts";
export type { CreateConnectionOptions, FastOpenAgentOptions, SocketReadyState } from "./net.ts";
