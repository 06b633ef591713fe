/**
 * Faults on the wire at the low-level layer, in the private network namespace
 * `runScenario` made (client and server on its loopback, driven from this
 * thread). Usage: `bun rel-wire.ts <mode> [v4|v6]`; prints one JSON report.
 *
 * Modes:
 *   middlebox       a firewall drops every SYN carrying data (after the cookie fetch)
 *   blackhole       SYN data and then the data retransmissions are dropped until
 *                   Linux's blackhole detection trips (needs the sysctl set)
 *   no-tfo-server   the listener never enables TFO: no cookie is ever granted
 *   key-rotation    the server's TFO key changes after the client got its cookie
 *   server-disabled TFO is switched off on the server after the cookie was fetched
 *   reset           the server resets (SO_LINGER 0 close) right after accepting
 *   close           the server closes right after accepting
 *   half-close      the server shuts its sending side at once, then reads
 */

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { counterDelta, fastOpenCounters } from "../../src/lowlevel/netstat.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { fdDiff, Rng, settledFdTable, tfoListener } from "../support/raw.ts";
import { type Exchange, exchange, type ServerBehaviour } from "./exchange.ts";

const mode = process.argv[2] ?? "";
const family = process.argv[3] === "v4" ? "v4" : "v6";
const ip = parseIp6(family === "v4" ? "127.0.0.1" : "::1").ip;
const rng = new Rng(0x5eed);
const DEADLINE_MS = 20_000;

function sysctl(name: string, value?: string): string {
  const path = `/proc/sys/net/ipv4/${name}`;
  if (value !== undefined) writeFileSync(path, value);
  return readFileSync(path, "utf8").trim();
}

function randomKey(): string {
  const hex = Array.from(rng.bytes(16), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{8}/g)!.join("-");
}

// spawnSync (used for iptables) opens the runtime's event loop fds on first
// use: open them now, and let its stdio sockets close, so that the fd tables
// compare the library alone.
spawnSync("true");
const fdsBefore = settledFdTable();
const totalsBefore = fastOpenCounters();
const listener = tfoListener(ip, { fastopen: mode !== "no-tfo-server" });
const exchanges: (Exchange & { label: string })[] = [];
const notes: Record<string, string> = {};

function run(label: string, size: number, behaviour: ServerBehaviour = "echo-sum", onTick?: () => void): void {
  const payload = rng.bytes(size);
  const options = {
    ip,
    port: listener.port,
    listener: listener.fd,
    payload,
    behaviour,
    deadlineMs: DEADLINE_MS,
    onTick,
  };
  exchanges.push({ label, ...exchange(options) });
}

/** Adds (`-A`) or deletes (`-D`) a filter rule in this namespace. */
function firewall(action: "-A" | "-D", rule: string): void {
  const tool = family === "v4" ? "iptables" : "ip6tables";
  const run = spawnSync(tool, [action, "INPUT", ...rule.split(" ")], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${tool} ${action} ${rule}: ${run.stderr}`);
}

/** Every packet too long to be a bare TCP header: SYN data (and, for `data`, any segment with 1000+ bytes). */
function dropRule(what: "syn-data" | "data"): string {
  const headers = family === "v4" ? 80 : 100;
  if (what === "syn-data") return `-p tcp --tcp-flags SYN,ACK SYN -m length --length ${headers + 1}:65535 -j DROP`;
  return `-p tcp -m length --length ${headers + 1000}:65535 -j DROP`;
}

switch (mode) {
  case "middlebox":
    notes.blackholeTimeoutSec = sysctl("tcp_fastopen_blackhole_timeout_sec");
    run("cookie", 1000);
    firewall("-A", dropRule("syn-data"));
    for (let i = 1; i <= 3; i++) run(`syn-data-${i}`, 1000 + i * 7000);
    break;
  case "blackhole": {
    notes.blackholeTimeoutSec = sysctl("tcp_fastopen_blackhole_timeout_sec");
    run("cookie", 500);
    firewall("-A", dropRule("syn-data"));
    firewall("-A", dropRule("data"));
    let tripped = false;
    run("blackholed", 5000, "echo-sum", () => {
      if (tripped || fastOpenCounters().TCPFastOpenBlackhole === totalsBefore.TCPFastOpenBlackhole) return;
      tripped = true;
      firewall("-D", dropRule("data"));
    });
    notes.tripped = String(tripped);
    run("after-1", 5000);
    run("after-2", 5000);
    break;
  }
  case "no-tfo-server":
    for (let i = 1; i <= 3; i++) run(`attempt-${i}`, 3000 * i);
    break;
  case "key-rotation":
    notes.keyBefore = sysctl("tcp_fastopen_key", randomKey());
    run("cookie", 500);
    run("with-cookie", 5000);
    notes.keyAfter = sysctl("tcp_fastopen_key", randomKey());
    run("stale-cookie", 5000);
    run("new-cookie", 5000);
    break;
  case "server-disabled":
    run("cookie", 500);
    run("with-cookie", 5000);
    notes.tcpFastopen = sysctl("tcp_fastopen", "1");
    run("server-off-1", 5000);
    run("server-off-2", 20000);
    break;
  case "reset":
  case "close":
  case "half-close":
    run("no-cookie", 4000, mode);
    run("cookie", 300);
    run("small-in-syn", 4000, mode);
    run("large", 300_000, mode);
    run("empty", 0, mode);
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}

fo.socketClose(listener.fd);
const report = {
  mode,
  family,
  exchanges,
  notes,
  totals: counterDelta(totalsBefore, fastOpenCounters()),
  fdLeaks: fdDiff(fdsBefore, settledFdTable()),
  fastopenRefused: fo.fastopenRefused(),
};
console.log(JSON.stringify(report));
