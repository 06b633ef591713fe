/**
 * Scenario for `connectStart` (one FFI call: socket + connect): bad input,
 * then a TFO server on ::1 and 127.0.0.1 reached twice each with the payload
 * (the first connect fetches the cookie, the second carries the payload in
 * the SYN), proven by both ends' TCP_INFO and the namespace's TcpExt
 * counters. Prints one JSON report.
 */

import { connectStart, START_PLAIN, START_SYN_DATA, type StartResult } from "../../src/connect/start.ts";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { lastError, must } from "../../src/lowlevel/errors.ts";
import { counterDelta, fastOpenCounters } from "../../src/lowlevel/netstat.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { fdCountBackTo, settledFdCount } from "../support/netns.ts";

const PAYLOAD = new Uint8Array(100).map((_, i) => (i * 7) & 0xff);

function bad(ip: Uint8Array, port: number, family: 4 | 6, mode: number): unknown {
  const result: StartResult = { queued: -7, inProgress: false, refused: false };
  const fd = connectStart(ip, port, 0, family, mode, PAYLOAD, result);
  return { fd, error: lastError(), untouched: result.queued === -7 };
}

/** One connect with the payload; the server's side read back once it has it all. */
async function exchange(listener: number, ip: Uint8Array, port: number, family: 4 | 6): Promise<unknown> {
  const started: StartResult = { queued: -1, inProgress: false, refused: false };
  const fd = must(connectStart(ip, port, 0, family, START_SYN_DATA, PAYLOAD, started), "connectStart");
  const remote = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
  let server = -1;
  for (let i = 0; i < 2000 && server < 0; i++) {
    server = fo.socketAccept6(listener, remote);
    if (server < 0) await Bun.sleep(1);
  }
  must(server, "accept");
  while (fo.socketConnected(fd) !== 1) await Bun.sleep(1);
  let sentAfter = 0;
  if (started.queued < PAYLOAD.byteLength)
    sentAfter = must(fo.socketSend(fd, PAYLOAD.subarray(started.queued)), "send");
  const got = new Uint8Array(PAYLOAD.byteLength);
  let have = 0;
  while (have < got.byteLength) {
    const n = fo.socketRecv(server, got.subarray(have));
    if (n > 0) have += n;
    else await Bun.sleep(1);
  }
  const report = {
    queued: started.queued,
    inProgress: started.inProgress,
    refused: started.refused,
    sentAfter,
    exact: got.every((b, i) => b === PAYLOAD[i]),
    client: fo.socketFastopenStatus(fd),
    server: fo.socketFastopenStatus(server),
  };
  fo.socketClose(fd);
  fo.socketClose(server);
  return report;
}

async function main(): Promise<void> {
  // Settled: fds the runtime opens and closes at startup are not the library's.
  const before = await settledFdCount();
  const loop6 = parseIp6("::1").ip;
  const loop4 = parseIp6("127.0.0.1").ip;
  const badInput = {
    port0: bad(loop6, 0, 6, START_SYN_DATA),
    port65536: bad(loop6, 65536, 6, START_SYN_DATA),
    mode3: bad(loop6, 80, 6, 3),
    family5: bad(loop6, 80, 5 as 4, START_PLAIN),
    ipv6OnIpv4Socket: bad(loop6, 80, 4, START_PLAIN),
  };
  const results: Record<string, unknown[]> = {};
  for (const [name, ip, family] of [
    ["v6", loop6, 6],
    ["v4", loop4, 4],
  ] as const) {
    const listener = must(fo.socketTcp6(), "socket");
    must(fo.socketBind6(listener, family === 6 ? loop6 : parseIp6("::").ip, 0), "bind");
    must(fo.socketListen(listener, 16), "listen");
    must(fo.socketFastopen(listener, 16), "fastopen");
    const local = { ip: new Uint8Array(16), port: 0, scopeId: 0 };
    must(fo.socketLocal6(listener, local), "local");
    const c0 = fastOpenCounters();
    const first = await exchange(listener, ip, local.port, family);
    const second = await exchange(listener, ip, local.port, family);
    const c1 = fastOpenCounters();
    results[name] = [first, second, counterDelta(c0, c1)];
    fo.socketClose(listener);
  }
  console.log(JSON.stringify({ badInput, results, fdsBefore: before, fdsAfter: await fdCountBackTo(before) }));
}

await main();
