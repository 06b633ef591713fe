/**
 * When does the library decide that the platform refuses TFO (and skip it
 * for FASTOPEN_REFUSAL_MS)? Only when TFO itself is refused, never because
 * the TFO call was made on a socket in the wrong state. Run in a private
 * namespace; `net.ipv4.tcp_fastopen` is whatever the test set.
 * Prints `{ sysctl, cases: { label: { result, code, refused } } }`.
 */
import { readFileSync } from "node:fs";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { must } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { lastCode, tfoListener, waitFor } from "../support/raw.ts";

const LOOPBACK = parseIp6("::1").ip;
const listener = tfoListener(LOOPBACK);
const cases: Record<string, { result: number; code: string; refused: boolean }> = {};

/** A non-blocking socket whose plain connect to `port` has completed (never connect()ed again). */
function established(port = listener.port): number {
  const fd = must(fo.socketTcp6(), "socket");
  const rc = fo.socketConnect6(fd, LOOPBACK, port);
  if (rc < 0 && lastCode() !== "EINPROGRESS") must(rc, "connect");
  if (!waitFor(fd, fo.POLLOUT, 5000)) throw new Error("connect timed out");
  return fd;
}

function connecting(): number {
  const fd = must(fo.socketTcp6(), "socket");
  const port = tfoListener(LOOPBACK).port; // listening, never accepting: fine, the handshake still completes
  fo.socketConnect6(fd, LOOPBACK, port);
  return fd;
}

/** A socket whose connection the peer reset: its state is closed again, with EPIPE pending. */
function reset(): number {
  const own = tfoListener(LOOPBACK);
  const fd = established(own.port);
  if (!waitFor(own.fd, fo.POLLIN, 5000)) throw new Error("accept timed out");
  fo.socketClose(must(fo.socketAccept6(own.fd), "accept"));
  fo.socketClose(own.fd);
  if (!waitFor(fd, fo.POLLIN, 5000)) throw new Error("no FIN");
  must(fo.socketSend(fd, "after the peer closed"), "send"); // answered with a RST
  for (let i = 0; i < 100 && fo.socketFastopenStatus(fd)?.state !== 7; i++) Bun.sleepSync(10);
  return fd;
}

function listening(): number {
  return tfoListener(LOOPBACK).fd;
}

function run(label: string, make: () => number, call: (fd: number) => number): void {
  fo.fastopenReset();
  const fd = make();
  const result = call(fd);
  cases[label] = { result, code: result < 0 ? lastCode() : "", refused: fo.fastopenRefused() };
  fo.socketClose(fd);
}

const lazy = (fd: number): number => fo.socketFastopenLazy6(fd, LOOPBACK, listener.port);
const synData = (fd: number): number => fo.socketFastopenConnect6(fd, LOOPBACK, listener.port, 0, "hello");

run("lazy on an established socket", established, lazy);
run("syn-data on an established socket", established, synData);
run("lazy on a reset socket", reset, lazy);
run("syn-data on a reset socket", reset, synData);
run("lazy on a listening socket", listening, lazy);
run("syn-data on a listening socket", listening, synData);
run("lazy on a connecting socket", connecting, lazy);
run("lazy on a fresh socket", () => must(fo.socketTcp6(), "socket"), lazy);
run("syn-data on a fresh socket", () => must(fo.socketTcp6(), "socket"), synData);

const sysctl = readFileSync("/proc/sys/net/ipv4/tcp_fastopen", "utf8").trim();
console.log(JSON.stringify({ sysctl, cases }));
