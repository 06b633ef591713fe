/**
 * fastopen/lowlevel: the libowfat-style layer on plain fds.
 *
 * One function per libowfat call with libowfat's contract (a number >= 0, or
 * -1 with the error in `lastError()`), the fd-level kernel report
 * `socketFastopenStatus(fd)`, the listener's cookie key (`socketFastopenKey`),
 * IPv4/IPv6 address helpers, and the namespace's
 * TcpExt counters that prove TFO happened.
 */

export * from "./lowlevel/address.ts";
export type { ErrnoInfo } from "./lowlevel/errors.ts";
export { errnoName, errnoNumber, lastError } from "./lowlevel/errors.ts";
export { socketFastopenKey, socketFastopenKeyGet } from "./lowlevel/key.ts";
export type { FastOpenCounters } from "./lowlevel/netstat.ts";
export { counterDelta, fastOpenCounters, readTcpFastopenSysctl, TFO_BITS } from "./lowlevel/netstat.ts";
export * from "./lowlevel/socket.ts";
export type { FastOpenReason, KernelFastOpenStatus } from "./lowlevel/status.ts";
export type { BufferSource } from "./lowlevel/validate.ts";
