/**
 * fastopen: TCP Fast Open for Bun.
 *
 * The libowfat-style layer (`socketFastopenConnect6` and siblings) works on
 * fds with libowfat's contract; address helpers convert text to the byte
 * addresses it takes; `fastopenStatus` and the counters prove TFO happened.
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
