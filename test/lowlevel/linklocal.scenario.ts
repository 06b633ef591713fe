/**
 * TFO to a link-local peer (`fe80::...%iface`) across a veth pair between two
 * network namespaces. Two roles, each run with `ip netns exec` in its own
 * namespace, so that `parseIp6` resolves the interface name there:
 *
 *   server ADDR%IFACE COUNT      prints {"ready":true,"port":N} once listening,
 *                                then accepts COUNT connections, reads each to
 *                                end of stream and prints its report;
 *   client ADDR%IFACE PORT SIZE...  one TFO connection per SIZE, each waiting
 *                                for the server to finish before the next.
 */

import { must } from "../../src/lowlevel/errors.ts";
import {
  counterDelta,
  type Endpoint6,
  fastOpenCounters,
  formatIp6,
  lastError,
  POLLIN,
  POLLOUT,
  parseIp6,
  socketAccept6,
  socketClose,
  socketConnected,
  socketFastopenConnect6,
  socketFastopenStatus,
  socketLocal6,
  socketPoll,
  socketRecv,
  socketRemote6,
  socketSend,
  socketShutdownWrite,
  socketTcp6,
} from "../../src/lowlevel.ts";
import { assertPrivateNetns, listen6, pattern, report, sha256 } from "./common.ts";

/** Hang guard only, never asserted. */
const STALL_MS = 10_000;

/** Reads `fd` to end of stream, waiting with poll; returns every byte. */
function readToEnd(fd: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const scratch = new Uint8Array(1 << 16);
  const deadline = Date.now() + STALL_MS;
  for (;;) {
    const n = socketRecv(fd, scratch);
    if (n === 0) break;
    if (n > 0) {
      chunks.push(scratch.slice(0, n));
      continue;
    }
    if (lastError()?.code !== "EAGAIN") throw new Error(`recv failed: ${JSON.stringify(lastError())}`);
    if (Date.now() > deadline) throw new Error("read stalled");
    socketPoll(fd, POLLIN, 50);
  }
  return Uint8Array.from(chunks.flatMap((chunk) => Array.from(chunk)));
}

function server(address: string, count: number): object {
  const { ip, scopeId } = parseIp6(address);
  const listener = listen6(ip, { scopeId });
  console.log(JSON.stringify({ ready: true, port: listener.port, scopeId }));
  const connections = [];
  // The client starts connection i+1 only once the server has closed
  // connection i, so a snapshot taken before that close separates them.
  let before = fastOpenCounters();
  for (let i = 0; i < count; i++) {
    if (must(socketPoll(listener.fd, POLLIN, STALL_MS), "socketPoll(listener)") === 0)
      throw new Error("no client came");
    const peer = {} as Endpoint6;
    const fd = must(socketAccept6(listener.fd, peer), "socketAccept6");
    const received = readToEnd(fd);
    const after = fastOpenCounters();
    connections.push({
      peer: formatIp6(peer.ip, peer.scopeId),
      status: socketFastopenStatus(fd),
      received: received.byteLength,
      sha256: sha256(received),
      delta: counterDelta(before, after),
    });
    before = after;
    must(socketClose(fd), "socketClose");
  }
  must(socketClose(listener.fd), "socketClose(listener)");
  return { role: "server", scopeId, connections };
}

function connectOnce(ip: Uint8Array, scopeId: number, port: number, payload: Uint8Array): object {
  const before = fastOpenCounters();
  const fd = must(socketTcp6(), "socketTcp6");
  const returned = socketFastopenConnect6(fd, ip, port, scopeId, payload);
  const error = returned < 0 ? (lastError()?.code ?? null) : null;
  if (returned < 0 && error !== "EINPROGRESS") throw new Error(`socketFastopenConnect6: ${error}`);
  const pollEvents = must(socketPoll(fd, POLLOUT, STALL_MS), "socketPoll(POLLOUT)");
  const connected = socketConnected(fd);
  if (connected !== 1) throw new Error(`not connected: ${JSON.stringify(lastError())}`);
  let sent = Math.max(returned, 0);
  while (sent < payload.byteLength) {
    const n = socketSend(fd, payload.subarray(sent));
    if (n > 0) sent += n;
    else if (lastError()?.code === "EAGAIN") socketPoll(fd, POLLOUT, 50);
    else throw new Error(`socketSend: ${JSON.stringify(lastError())}`);
  }
  const local = {} as Endpoint6;
  const remote = {} as Endpoint6;
  must(socketLocal6(fd, local), "socketLocal6");
  must(socketRemote6(fd, remote), "socketRemote6");
  must(socketShutdownWrite(fd), "socketShutdownWrite");
  const echoed = readToEnd(fd); // the server closes once it has read everything
  const result = {
    length: payload.byteLength,
    returned,
    error,
    pollEvents,
    connected,
    status: socketFastopenStatus(fd),
    delta: counterDelta(before, fastOpenCounters()),
    local: formatIp6(local.ip, local.scopeId),
    remote: formatIp6(remote.ip, remote.scopeId),
    echoed: echoed.byteLength,
  };
  must(socketClose(fd), "socketClose");
  return result;
}

function client(address: string, port: number, sizes: number[]): object {
  const { ip, scopeId } = parseIp6(address);
  const connections = sizes.map((size, i) => connectOnce(ip, scopeId, port, pattern(size, i + 1)));
  return { role: "client", scopeId, connections };
}

assertPrivateNetns();
const [role, address, third, ...rest] = process.argv.slice(2);
if (address === undefined || third === undefined)
  throw new Error("usage: server ADDR COUNT | client ADDR PORT SIZE...");
if (role === "server") report(server(address, Number(third)));
else if (role === "client") report(client(address, Number(third), rest.map(Number)));
else throw new Error(`unknown role ${role}`);
