/**
 * Optimistic connect of `createConnection` (the default): with a cookie
 * known and nothing written yet, the socket reports `'connect'` before the
 * SYN-ACK (the kernel holds the SYN: `reason: "pending"`, TCP state
 * SYN_SENT) and the request written on `'connect'` rides in the SYN (client
 * TCP_INFO, TcpExt Active/Passive +1). Failures after that `'connect'` are
 * the connection's error, then `'close'`. Each case runs in its own private
 * network namespace (optimistic.scenario.ts). Every test here fails with
 * optimism off (see the report of the change that added them).
 */
import { expect, test } from "bun:test";
import type { FastOpenStatus } from "../../src/connect/status.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../../src/node/socket.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { ONE_MSS, runScenarioCase } from "../support/run.ts";
import type { Observed } from "./optimistic.scenario.ts";

const suite = namespaceSuite("node.optimistic");
const SCENARIO = `${import.meta.dir}/optimistic.scenario.ts`;

function run<T>(name: string): T {
  return runScenarioCase<T>(SCENARIO, [name]);
}

/** 'connect' came before the handshake: not connecting, the kernel still holding the SYN. */
function expectOptimistic(o: Observed): void {
  expect(o.connecting).toBe(false);
  expect(o.atConnect).toMatchObject({ reason: "pending", mode: "lazy", kernel: { established: false, state: 2 } });
}

/** 'connect' came once the handshake was done. */
function expectEstablishedAtConnect(o: Observed): void {
  expect(o.connecting).toBe(false);
  expect(o.atConnect?.kernel?.established).toBe(true);
}

suite("optimistic connect (createConnection's default)", () => {
  test("with a cookie: 'connect' before the SYN-ACK, the request written then rides in the SYN", () => {
    const r = run<{ warm: Observed; optimistic: Observed; received: boolean; plain: Observed }>("cookie");
    // No cookie yet: nothing to defer, 'connect' once established (as without optimism); the SYN asks for one.
    expectEstablishedAtConnect(r.warm);
    expect(r.warm.atConnect).toMatchObject({ reason: "no-cookie", mode: "lazy" });
    expect(r.warm.counters).toMatchObject({ TCPFastOpenCookieReqd: 1, TCPFastOpenActive: 0 });
    expectOptimistic(r.optimistic);
    expect(r.optimistic.events).toEqual(["connect", "ready", "data", "close false"]);
    expect(r.optimistic.final).toMatchObject({ sent: true, acked: true, reason: "none", bytesInSyn: 300 });
    expect(r.optimistic.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
    expect(r.received).toBe(true);
    // optimistic: false, cookie known: 'connect' after the handshake, the request after it too.
    expectEstablishedAtConnect(r.plain);
    expect(r.plain.final).toMatchObject({ sent: false, reason: "not-attempted", mode: "plain", bytesInSyn: 0 });
    expect(r.plain.counters).toMatchObject({ TCPFastOpenActive: 0, TCPFastOpenPassive: 0 });
  });

  test("end(data) and end() on an optimistic 'connect': the data rides in the SYN, the FIN after the handshake", () => {
    type Ended = { atConnect: FastOpenStatus; final: FastOpenStatus; delivered: boolean; length: number };
    type Run = Record<"small" | "large" | "empty", Ended & { hadError: boolean }>;
    const r = run<Run>("ending");
    expect(r.empty).toMatchObject({ delivered: true, length: 0, hadError: false });
    for (const e of [r.small, r.large]) {
      expect(e.atConnect).toMatchObject({ reason: "pending", kernel: { established: false } });
      expect(e.final).toMatchObject({ sent: true, acked: true, reason: "none" });
      expect(e).toMatchObject({ delivered: true, hadError: false });
    }
    expect(r.small).toMatchObject({ length: 300, final: { bytesInSyn: 300 } });
    // 100 kB: one MSS rides in the SYN, the rest follows the handshake.
    expect(r.large.length).toBe(100_000);
    expect(r.large.final.bytesInSyn).toBeGreaterThan(1000);
    expect(r.large.final.bytesInSyn).toBeLessThanOrEqual(ONE_MSS + 20);
  });

  test("a refused connect after an optimistic 'connect': ECONNREFUSED (code, errno, syscall), then 'close'", () => {
    const r = run<{ optimistic: Observed; plain: Observed; fdsBefore: number; fdsAfter: number }>("refused");
    expectOptimistic(r.optimistic);
    expect(r.optimistic.events).toEqual(["connect", "ready", "error ECONNREFUSED", "close true"]);
    expect(r.optimistic.error).toMatchObject({
      name: "SystemError",
      code: "ECONNREFUSED",
      errno: -111,
      syscall: "connect",
      address: "127.0.0.1",
      port: 7,
    });
    // The request left in the SYN and was never acknowledged.
    expect(r.optimistic.final).toMatchObject({ sent: false, acked: false, reason: "data-not-acked", bytesInSyn: 300 });
    // Without optimism: no 'connect' at all, the same error.
    expect(r.plain.events).toEqual(["error ECONNREFUSED", "close true"]);
    expect(r.plain.error).toMatchObject({ code: "ECONNREFUSED", syscall: "connect" });
    expect(r.fdsAfter).toBeLessThanOrEqual(r.fdsBefore);
  });

  test(
    "SYNs dropped after an optimistic 'connect': ETIMEDOUT after connectTimeout, or HANDSHAKE_TIMEOUT_MS, then 'close'",
    () => {
      const r = run<{ timeout: Observed; handshake: Observed; fdsBefore: number; fdsAfter: number }>("dropped");
      for (const o of [r.timeout, r.handshake]) {
        expectOptimistic(o);
        expect(o.events).toEqual(["connect", "ready", "error ETIMEDOUT", "close true"]);
        expect(o.error).toMatchObject({ name: "SystemError", code: "ETIMEDOUT", errno: -110, syscall: "connect" });
        expect(o.counters.TCPFastOpenPassive).toBe(0);
      }
      // Which timer ended it (a timer never fires early; each is the only one of its socket).
      expect(r.timeout.errorAfterMs!).toBeGreaterThanOrEqual(499);
      expect(r.timeout.errorAfterMs!).toBeLessThan(HANDSHAKE_TIMEOUT_MS);
      expect(r.handshake.errorAfterMs!).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 1);
      expect(r.fdsAfter).toBeLessThanOrEqual(r.fdsBefore);
    },
    HANDSHAKE_TIMEOUT_MS + 20_000,
  );

  test("an unref()'d optimistic socket (after 'connect' or before it) lets the process exit, the timer too", () => {
    type Child = { exited: boolean; code: number | null; output: string };
    const r = run<{ after: Child; before: Child; timeout: Child; ref: Child }>("unref");
    for (const c of [r.after, r.before, r.timeout]) {
      expect(c).toMatchObject({ exited: true, code: 0 });
      expect(JSON.parse(c.output)).toEqual({ connected: true, connecting: false, error: null });
    }
    // The control: the same socket left ref()'d keeps the process alive (killed by the scenario).
    expect(r.ref.exited).toBe(false);
  });

  test("a host with two addresses gets no optimism (Happy Eyeballs needs the race); one address does", () => {
    const r = run<{ two: Observed; one: Observed }>("addresses");
    expectEstablishedAtConnect(r.two);
    expect(r.two.final).toMatchObject({ mode: "plain", bytesInSyn: 0 });
    expect(r.two.counters.TCPFastOpenActive).toBe(0);
    expectOptimistic(r.one);
    expect(r.one.final).toMatchObject({ sent: true, acked: true, bytesInSyn: 300 });
    expect(r.one.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
  });

  test("a write one setImmediate after an optimistic 'connect' rides in the SYN (not sent empty before)", () => {
    const r = run<{ observed: Observed; received: number }>("lateWrite");
    expectOptimistic(r.observed);
    expect(r.observed.events).toEqual(["connect", "ready", "data", "close false"]);
    expect(r.observed.final).toMatchObject({ sent: true, acked: true, reason: "none", mode: "lazy", bytesInSyn: 300 });
    expect(r.observed.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
    expect(r.received).toBe(300);
  });

  test("a write during the host name's lookup rides in the deferred SYN (it was never sent), once", () => {
    const r = run<{ observed: Observed; received: number }>("lookupWrite");
    expect(r.observed.events).toEqual(["connect", "ready", "data", "close false"]);
    expect(r.observed.final).toMatchObject({ sent: true, acked: true, reason: "none", mode: "lazy", bytesInSyn: 300 });
    expect(r.observed.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
    expect(r.received).toBe(300);
  });

  test("a write one setImmediate after createConnection (Postgres.js) rides in the SYN, optimistic or not", () => {
    const r = run<{ optimistic: Observed; plain: Observed; atOnce: Observed }>("turn");
    for (const o of [r.optimistic, r.plain, r.atOnce]) {
      // Written before the connect started: the payload of a SYN-data connect.
      expect(o.final).toMatchObject({ sent: true, acked: true, mode: "syn-data", bytesInSyn: 300 });
      expect(o.counters).toMatchObject({ TCPFastOpenActive: 1, TCPFastOpenPassive: 1 });
    }
  });
});
