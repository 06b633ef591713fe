/**
 * `src/cli/netns.ts`, the one way the demo, the scenarios, the soak test and
 * the latency benchmark re-run in a private network namespace: the sysctls
 * are set inside it and never on the host, a bad sysctl name is refused
 * before anything runs, and a re-run does not re-run again.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { namespacePrelude, rerunInNamespace, runInNamespace } from "../../src/cli/netns.ts";
import { namespaceSuite } from "../support/netns-suite.ts";

test("the prelude brings loopback up and quotes each sysctl's value", () => {
  const lines = namespacePrelude({ sysctl: { tcp_fastopen: "3", ip_local_port_range: "1024 65535" }, setup: ["x"] });
  expect(lines).toEqual([
    "set -e",
    "ip link set lo up",
    "echo '3' > /proc/sys/net/ipv4/tcp_fastopen",
    "echo '1024 65535' > /proc/sys/net/ipv4/ip_local_port_range",
    "x",
  ]);
  expect(namespacePrelude({ sysctl: { a: "it's" } })[2]).toBe("echo 'it'\\''s' > /proc/sys/net/ipv4/a");
});

test("a sysctl name that is not a plain name is a RangeError", () => {
  expect(() => namespacePrelude({ sysctl: { "../../x": "1" } })).toThrow(RangeError);
  expect(() => runInNamespace(["true"], { sysctl: { "a b": "1" } })).toThrow(RangeError);
});

test("the re-run itself does not re-run (its marker is set)", () => {
  const marker = "FASTOPEN_NETNS_TEST_MARKER";
  process.env[marker] = "1";
  try {
    expect(rerunInNamespace(marker, "/nonexistent.ts", [], {})).toBeNull();
  } finally {
    delete process.env[marker];
  }
});

namespaceSuite("netns")("in a private namespace", () => {
  const path = "/proc/sys/net/ipv4/tcp_fastopen";

  test("the sysctl is set inside, the host's stays as it was", () => {
    const host = readFileSync(path, "utf8");
    const run = runInNamespace(["cat", path], { sysctl: { tcp_fastopen: "1027" } });
    expect({ status: run.status, stdout: run.stdout.trim() }).toEqual({ status: 0, stdout: "1027" });
    expect(readFileSync(path, "utf8")).toBe(host);
  });

  test("a failing setup command fails the run before the program", () => {
    const run = runInNamespace(["echo", "ran"], { setup: ["false"] });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe("");
  });
});
