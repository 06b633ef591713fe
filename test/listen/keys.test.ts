/**
 * Issue 13, per-listener TFO keys. In private network namespaces
 * (keys.scenario.ts): a restart with the same key keeps the client's cookie
 * (the first request after it rides in the SYN), another key refuses the
 * SYN data once; a rotation through a backup key has no cookie gap; a fleet
 * of SO_REUSEPORT listeners with keys derived from one secret accepts each
 * other's cookies across rotations while skew plus a cookie's age stays
 * below interval/2 (and refuses them with different secrets or too much
 * skew); the scheduled
 * rotation sets the derived keys on time. Proven by TCP_INFO at both ends
 * and the namespace's TcpExt counters.
 */
import { beforeAll, expect, test } from "bun:test";
import type { FastOpenServerCounters } from "../../src/listen-keys.ts";
import { namespaceSuite } from "../support/netns-suite.ts";
import { runScenarioCase } from "../support/run.ts";
import type { Exchange } from "./keys.scenario.ts";

const suite = namespaceSuite("listen keys");
const SCRIPT = `${import.meta.dir}/keys.scenario.ts`;

/** The TcpExt deltas of one exchange that tell how the server took it. */
function server(e: Exchange) {
  const c = e.counters;
  return {
    passive: c.TCPFastOpenPassive,
    passiveFail: c.TCPFastOpenPassiveFail,
    cookieReqd: c.TCPFastOpenCookieReqd,
    altKey: e.altKey,
  };
}

/** Rode in the SYN and was acked, by the client's and the server's TCP_INFO. */
function rode(e: Exchange) {
  return { once: e.deliveredOnce, sent: e.client.sent, acked: e.client.acked, serverSynData: e.server?.acked };
}

for (const host of ["127.0.0.1", "::1"]) {
  suite(`listen({ fastOpen: { keys } }): restarts on ${host}`, () => {
    let r: {
      cookie: Exchange;
      firstCounters: FastOpenServerCounters;
      sameKey: Exchange;
      sameCounters: FastOpenServerCounters;
      otherKey: Exchange;
      again: Exchange;
      otherCounters: FastOpenServerCounters;
      keys: string[];
    };
    beforeAll(() => {
      r = runScenarioCase<typeof r>(SCRIPT, ["restart", host]);
    });

    test("the first connection only fetches a cookie (CookieReqd), delivered once", () => {
      expect(r.cookie.client.reason).toBe("no-cookie");
      expect(r.cookie.deliveredOnce).toBe(true);
      expect(server(r.cookie)).toEqual({ passive: 0, passiveFail: 0, cookieReqd: 1, altKey: 0 });
      expect(r.firstCounters).toMatchObject({ TCPFastOpenCookieReqd: 1, TCPFastOpenPassive: 0 });
    });

    test("restarted with the same key: the first request after the restart rides in the SYN and is acked", () => {
      expect(rode(r.sameKey)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
      expect(server(r.sameKey)).toEqual({ passive: 1, passiveFail: 0, cookieReqd: 0, altKey: 0 });
      expect(r.sameCounters).toEqual({
        TCPFastOpenPassive: 1,
        TCPFastOpenPassiveFail: 0,
        TCPFastOpenPassiveAltKey: 0,
        TCPFastOpenListenOverflow: 0,
        TCPFastOpenCookieReqd: 0,
      });
    });

    test("another key: SYN data refused (PassiveFail), the request arrives once, the status says why", () => {
      expect(rode(r.otherKey)).toEqual({ once: true, sent: true, acked: false, serverSynData: false });
      expect(r.otherKey.client.reason).toBe("data-not-acked");
      expect(server(r.otherKey)).toEqual({ passive: 0, passiveFail: 1, cookieReqd: 0, altKey: 0 });
    });

    test("the refusal brought the new key's cookie: the next request rides", () => {
      expect(rode(r.again)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
      expect(r.otherCounters).toMatchObject({ TCPFastOpenPassive: 1, TCPFastOpenPassiveFail: 1 });
      expect(r.keys).toEqual(["f0e0d0c0b0a090807060504030201000"]);
    });
  });
}

suite("setFastOpenKeys: rotation without a cookie gap", () => {
  let r: Record<string, Exchange> & { keysRotating: string[]; keysPromoted: string[]; total: FastOpenServerCounters };
  beforeAll(() => {
    r = runScenarioCase<typeof r>(SCRIPT, ["rotation"]);
  });

  test("[K2, K1] is in force as primary then backup, and [K2] alone after the promotion", () => {
    expect(r.keysRotating).toEqual(["f0e0d0c0b0a090807060504030201000", "000102030405060708090a0b0c0d0e0f"]);
    expect(r.keysPromoted).toEqual(["f0e0d0c0b0a090807060504030201000"]);
  });

  test("a K1 cookie at [K2, K1]: accepted through the backup key (PassiveAltKey), no PassiveFail", () => {
    expect(rode(r.k1!)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
    expect(rode(r.backup!)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
    expect(server(r.backup!)).toEqual({ passive: 1, passiveFail: 0, cookieReqd: 0, altKey: 1 });
  });

  test("that reply issued a K2 cookie: [K2] alone accepts the next request with the primary", () => {
    expect(rode(r.k2!)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
    expect(server(r.k2!)).toEqual({ passive: 1, passiveFail: 0, cookieReqd: 0, altKey: 0 });
  });

  test("control: a key the client never saw ([K3]) refuses its cookie", () => {
    expect(rode(r.k3!)).toEqual({ once: true, sent: true, acked: false, serverSynData: false });
    expect(server(r.k3!)).toEqual({ passive: 0, passiveFail: 1, cookieReqd: 0, altKey: 0 });
    expect(r.total).toMatchObject({ TCPFastOpenPassive: 3, TCPFastOpenPassiveFail: 1, TCPFastOpenPassiveAltKey: 1 });
  });
});

interface FleetRun {
  requests: number;
  delivered: number;
  rode: number;
  altKey: number;
  counters: Exchange["counters"];
  epochs: number[];
}

suite("a fleet: SO_REUSEPORT listeners on one port with keys from fastOpenKeys(secret)", () => {
  const SECRET = "the fleet's shared secret";
  let fleet: FleetRun;
  let apart: FleetRun;
  let skewed: FleetRun;
  beforeAll(() => {
    const min = 60_000;
    // 4 listeners, clocks 0, 7, 14, 21 min apart, 24 steps of 7.5 min (3 h, 3 rotations), 2 requests each: a
    // cookie is at most one step old, 21 + 7.5 < interval/2 = 30 min.
    fleet = runScenarioCase<FleetRun>(SCRIPT, ["fleet", "4", "24", "2", String(7 * min), String(7.5 * min), SECRET]);
    const apartArgs = ["fleet", "2", "1", "24", "0", "0", SECRET, "another secret, not shared"];
    apart = runScenarioCase<FleetRun>(SCRIPT, apartArgs);
    skewed = runScenarioCase<FleetRun>(SCRIPT, ["fleet", "2", "4", "8", String(60 * min), String(15 * min), SECRET]);
  });

  test("across 3 rotations and 21 min of skew every request rides: TCPFastOpenPassiveFail stays 0", () => {
    expect(fleet.epochs.length).toBeGreaterThanOrEqual(4);
    expect(fleet).toMatchObject({ requests: 48, delivered: 48, rode: 48 });
    expect(fleet.counters).toMatchObject({
      TCPFastOpenPassive: 48,
      TCPFastOpenPassiveFail: 0,
      TCPFastOpenCookieReqd: 1,
    });
    // Listeners ahead and behind accepted each other's cookies through their backup key.
    expect(fleet.altKey).toBeGreaterThan(0);
  });

  test("control: listeners with different secrets refuse each other's cookies (PassiveFail), delivered once", () => {
    expect(apart.delivered).toBe(apart.requests);
    expect(apart.counters.TCPFastOpenPassiveFail).toBeGreaterThan(0);
    expect(apart.rode).toBe(apart.requests - apart.counters.TCPFastOpenPassiveFail);
  });

  test("control: clocks a whole interval apart (beyond interval/2) refuse cookies", () => {
    expect(skewed.delivered).toBe(skewed.requests);
    expect(skewed.counters.TCPFastOpenPassiveFail).toBeGreaterThan(0);
  });
});

suite("listen({ fastOpen: { keys: { secret, interval } } }): in-process rotation", () => {
  let r: {
    initialMatches: boolean;
    changed: boolean;
    changedMatches: boolean;
    cookieKeyKnown: boolean;
    oldPrimaryIsBackup: boolean;
    cookie: Exchange;
    afterPromotion: Exchange;
    stopped: string;
  };
  beforeAll(() => {
    r = runScenarioCase<typeof r>(SCRIPT, ["schedule"]);
  });

  test("the listener's keys are fastOpenKeys(secret, { interval }) now, and again after the change", () => {
    expect(r.initialMatches).toBe(true);
    expect(r.changed).toBe(true);
    expect(r.changedMatches).toBe(true);
  });

  test("at the period's end the primary that issued a cookie becomes the backup, and the cookie still rides", () => {
    expect(r.cookie.client.reason).toBe("no-cookie");
    expect(r.cookieKeyKnown).toBe(true);
    expect(r.oldPrimaryIsBackup).toBe(true);
    expect(rode(r.afterPromotion)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
    expect(server(r.afterPromotion)).toEqual({ passive: 1, passiveFail: 0, cookieReqd: 0, altKey: 1 });
  });

  test("after stop(), setFastOpenKeys throws a SystemError EBADF (the fd is gone)", () => {
    expect(r.stopped).toBe("SystemError EBADF");
  });
});

suite("fastopen key --sysctl: the namespace key and listen()'s schedule agree byte for byte", () => {
  let r: {
    status: number;
    printed: string;
    namespaceKey: string;
    plainKeys: string[];
    ownKeys: string[];
    derived: string[];
    cookie: Exchange;
    accepted: Exchange;
  };
  beforeAll(() => {
    r = runScenarioCase<typeof r>(SCRIPT, ["sysctl"]);
  });

  test("the kernel took the printed pair as net.ipv4.tcp_fastopen_key (dual-key form)", () => {
    expect(r.status).toBe(0);
    expect(r.printed).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3},[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);
    expect(r.namespaceKey).toBe(r.printed);
  });

  test("the scheduled listener has fastOpenKeys(secret, { interval }); the plain one no key of its own", () => {
    expect(r.ownKeys).toEqual(r.derived);
    // getsockopt(TCP_FASTOPEN_KEY) reports only a socket's own key, not the namespace's it falls back to.
    expect(r.plainKeys).toEqual([]);
  });

  test("a cookie issued under the namespace key rides at the listener with the in-process schedule", () => {
    expect(r.cookie.client.reason).toBe("no-cookie");
    expect(rode(r.accepted)).toEqual({ once: true, sent: true, acked: true, serverSynData: true });
    expect(server(r.accepted)).toEqual({ passive: 1, passiveFail: 0, cookieReqd: 0, altKey: 0 });
  });
});
