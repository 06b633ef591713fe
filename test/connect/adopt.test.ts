/**
 * `connect()` hands the still-connecting fd to Bun at once and
 * completes the connection from Bun's events (no polling). These cases make
 * the handshake or the payload's write outlast the adoption and check that
 * the user's handlers see nothing before the connection is established,
 * every byte arrives once, and no fd is left behind.
 */
import { beforeAll, expect, test } from "bun:test";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { DelayedOutcome } from "./adopt.scenario.ts";

const suite = namespaceSuite("async.adopt");

interface FdReport {
  fdsBefore: number;
  fdsAfter: number;
}

/** The calls made before the promise resolved. */
function beforeResolved(calls: string[]): string[] {
  const at = calls.indexOf("resolved");
  expect(at).toBeGreaterThanOrEqual(0);
  return calls.slice(0, at);
}

suite("a handshake delayed by dropped SYNs (retransmitted after the fd was adopted)", () => {
  let result: { outcomes: DelayedOutcome[]; synRetransmits: number } & FdReport;
  beforeAll(() => {
    result = runScenarioCase<typeof result>(`${import.meta.dir}/adopt.scenario.ts`, ["delayed"]);
  });

  test("every connection's SYN was retransmitted: the handshake completed after the adoption", () => {
    expect(result.synRetransmits).toBeGreaterThanOrEqual(result.outcomes.length);
  });

  test(
    "plain, payload with and without a cookie, fastOpen off: only open runs before the promise " +
      "resolves, and every byte arrives once",
    () => {
      for (const o of result.outcomes.filter((x) => x.name !== "lazy")) {
        expect({ name: o.name, before: beforeResolved(o.calls), openAfterHandshake: o.openAfterHandshake }).toEqual({
          name: o.name,
          before: ["open"],
          openAfterHandshake: true,
        });
        expect({ name: o.name, delivered: o.delivered }).toEqual({ name: o.name, delivered: true });
        if (o.name !== "plain") expect(o.client.bytesInSyn + o.client.bytesAfterHandshake).toBe(o.size);
      }
    },
  );

  test("the lost SYN data is reported and resent: the payload still arrives once", () => {
    const o = result.outcomes.find((x) => x.name === "payloadCookie")!;
    expect(o.client).toMatchObject({ sent: true, acked: false, reason: "syn-retransmitted", mode: "syn-data" });
    expect(o.delivered).toBe(true);
    expect(result.outcomes.find((x) => x.name === "payloadNoCookie")!.client.reason).toBe("no-cookie");
  });

  test("lazy with a cookie: open runs first (its write goes in the SYN), delivered once", () => {
    const o = result.outcomes.find((x) => x.name === "lazy")!;
    expect(o.calls[0]).toBe("open");
    expect(o.openAfterHandshake).toBe(false);
    expect(o.client.mode).toBe("lazy");
    expect(o.delivered).toBe(true);
  });

  test("no fd is left open", () => {
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});

suite("a refused connect", () => {
  let result: { results: Record<string, { calls: string[]; code: string }> } & FdReport;
  beforeAll(() => {
    result = runScenarioCase<typeof result>(`${import.meta.dir}/adopt.scenario.ts`, ["refused"]);
  });

  test("plain, payload, fastOpen off and TLS reject with ECONNREFUSED, calling only connectError", () => {
    for (const mode of ["plain", "payload", "noTfo", "tls"]) {
      expect({ mode, ...result.results[mode] }).toEqual({ mode, calls: ["connectError"], code: "ECONNREFUSED" });
    }
  });

  test("a deferred lazy connect (cookie known) ran open at once, so it also gets close", () => {
    expect(result.results.lazy).toEqual({ calls: ["open", "close", "connectError"], code: "ECONNREFUSED" });
  });

  test("no fd is left open", () => {
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});

suite("data from the server before the connection is established", () => {
  let results: Array<{ calls: string[]; greeting: string; delivered: boolean }>;
  beforeAll(() => {
    ({ results } = runScenarioCase<{ results: typeof results }>(`${import.meta.dir}/adopt.scenario.ts`, ["heldData"]));
  });

  test("a greeting arriving while a 16 MiB payload is being written is held and handed over right after open", () => {
    expect(results[0]!.calls).toEqual(["open", "data", "resolved", "close"]);
    expect(results[0]!.greeting).toBe("220 ready\r\n");
    expect(results[0]!.delivered).toBe(true);
  });

  test("without a payload the greeting comes after open", () => {
    expect(results[1]!.calls).toEqual(["open", "resolved", "data", "close"]);
    expect(results[1]!.greeting).toBe("220 ready\r\n");
  });
});

suite("a server that never reads: the payload's rest cannot be written", () => {
  let result: {
    port: number;
    results: Record<string, { calls: string[]; code: string; syscall: string; address: string; port: number }>;
  } & FdReport;
  beforeAll(() => {
    result = runScenarioCase<typeof result>(`${import.meta.dir}/adopt.scenario.ts`, ["neverRead"]);
  });

  test("timeout rejects with ETIMEDOUT and abort with ABORT_ERR, calling only connectError", () => {
    expect(result.results.timeout).toEqual({
      calls: ["connectError"],
      code: "ETIMEDOUT",
      syscall: "connect",
      address: "::1",
      port: result.port,
    });
    expect(result.results.abort).toEqual({
      calls: ["connectError"],
      code: "ABORT_ERR",
      syscall: "connect",
      address: "::1",
      port: result.port,
    });
  });

  test("the abandoned sockets' fds are closed", () => {
    expect(result.fdsAfter).toBe(result.fdsBefore);
  });
});
