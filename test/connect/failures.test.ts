/**
 * `connect()` failure paths in private network namespaces:
 * ECONNREFUSED, a peer that drops SYNs (iptables DROP in the namespace) with
 * `timeout` and `signal`, and fd accounting over 1000 connections.
 */
import { beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import { DROP_PORT } from "./common.ts";
import type { Rejection } from "./failures.scenario.ts";

const suite = namespaceSuite("async.failures");

interface FdReport {
  fdsBefore: number;
  fdsAfter: number;
}

const MODES = ["plain", "payload", "lazy", "tls", "noTfo"];

/** The rule that makes `127.0.0.1:DROP_PORT` a peer that never answers a SYN. */
function dropRule(): string[] {
  const iptables = spawnSync("sh", ["-c", "command -v iptables"], { encoding: "utf8" });
  if (iptables.status !== 0)
    throw new Error("iptables is needed for the SYN-drop tests: apt-get install -y iptables (npm run setup does)");
  return [`iptables -A INPUT -p tcp --dport ${DROP_PORT} --syn -j DROP`];
}

suite("ECONNREFUSED", () => {
  let result: { port: number; results: Record<string, Rejection[]> } & FdReport;
  beforeAll(() => {
    result = runScenarioCase<typeof result>(`${import.meta.dir}/failures.scenario.ts`, ["refused"]);
  });

  test("every mode rejects with a SystemError carrying code, errno, syscall, address and port", () => {
    for (const mode of MODES) {
      for (const r of result.results[mode]!) {
        expect(r).toMatchObject({
          isError: true,
          name: "SystemError",
          code: "ECONNREFUSED",
          errno: -111,
          syscall: "connect",
          address: "::1",
          port: result.port,
        });
      }
    }
  });

  test("no fd is leaked", () => {
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});

suite("a peer that drops SYNs", () => {
  let timeouts: { results: Record<string, Rejection> } & FdReport;
  let aborts: { results: Record<string, Rejection> } & FdReport;
  beforeAll(() => {
    const setup = dropRule();
    timeouts = runScenarioCase<typeof timeouts>(`${import.meta.dir}/failures.scenario.ts`, ["timeout"], 3, setup);
    aborts = runScenarioCase<typeof aborts>(`${import.meta.dir}/failures.scenario.ts`, ["abort"], 3, setup);
  });

  test("timeout rejects with ETIMEDOUT in every mode", () => {
    for (const mode of MODES) {
      expect(timeouts.results[mode]).toMatchObject({
        isError: true,
        code: "ETIMEDOUT",
        errno: -110,
        syscall: "connect",
        address: "127.0.0.1",
        port: DROP_PORT,
      });
    }
  });

  test("aborting the signal rejects with ABORT_ERR in every mode, and an aborted signal at once", () => {
    for (const mode of [...MODES, "preAborted"]) {
      expect(aborts.results[mode]).toMatchObject({
        isError: true,
        name: "AbortError",
        code: "ABORT_ERR",
        syscall: "connect",
        address: "127.0.0.1",
        port: DROP_PORT,
      });
    }
  });

  test("the fds of the abandoned connects are closed", () => {
    expect(timeouts.fdsAfter).toBe(timeouts.fdsBefore);
    expect(aborts.fdsAfter).toBe(aborts.fdsBefore);
  });
});

suite("1000 sequential connections", () => {
  test("all delivered, the process's fd count unchanged", () => {
    const result = runScenarioCase<{ delivered: number } & FdReport>(`${import.meta.dir}/failures.scenario.ts`, [
      "manyConnections",
    ]);
    expect(result.delivered).toBe(1000);
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});
