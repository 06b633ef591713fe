/**
 * fastopen/lowlevel: the libowfat-style layer on plain fds.
 *
 * One function per libowfat call with libowfat's contract (a number >= 0, or
 * -1 with the error in `lastError()`), the fd-level kernel report
 * `socketFastopenStatus(fd)`, IPv4/IPv6 address helpers, and the namespace's
 * TcpExt counters that prove TFO happened.
 */
export * from "./lowlevel/socket.ts";
export * from "./lowlevel/address.ts";
export { lastError, errnoName, errnoNumber } from "./lowlevel/errors.ts";
export type { ErrnoInfo } from "./lowlevel/errors.ts";
export type { KernelFastOpenStatus, FastOpenReason } from "./lowlevel/status.ts";
export { fastOpenCounters, counterDelta, readTcpFastopenSysctl, TFO_BITS } from "./lowlevel/netstat.ts";
export type { FastOpenCounters } from "./lowlevel/netstat.ts";
export type { BufferSource } from "./lowlevel/validate.ts";
