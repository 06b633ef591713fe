/**
 * The `fastopen` CLI run as a child process inside a private network
 * namespace, against servers this scenario starts there:
 * `bun cli-run.ts <case> [args...]` prints `{ case, ... }`.
 *
 * Servers sit on different loopback addresses because Linux keeps TFO
 * cookies per destination address: ::1 (TFO), 127.0.0.1 (TLS with TFO),
 * 127.0.0.2 (no TFO), and a second ::1 port without TFO (a cookie for ::1 is
 * then known, so its SYN carries data the server does not take).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listen } from "../../src/listen.ts";
import { assertPrivateNetns, recordingServer } from "../connect/common.ts";
import { CLI_DROP_PORT } from "../support/ports.ts";
import { runCase } from "../support/scenario-main.ts";

const CLI = join(import.meta.dir, "../../src/cli/main.ts");

/** One CLI run: exit code, stdout (parsed when `--json`), stderr. */
export interface CliRun {
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  json: unknown;
}

/** Runs the CLI without blocking this process's event loop (its servers must keep answering). */
async function cli(args: string[]): Promise<CliRun> {
  const child = Bun.spawn([process.execPath, CLI, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  let json: unknown = null;
  if (args.includes("--json")) {
    try {
      json = JSON.parse(stdout);
    } catch {
      json = { unparsable: stdout };
    }
  }
  return { args, exitCode, stdout, stderr, json };
}

/** A `listen()` server without TFO (`fastOpen: 0`) that answers and closes. */
function plainServer(hostname: string): { port: number; stop: () => void } {
  const listener = listen({ hostname, port: 0, fastOpen: 0, socket: { data: (s) => void s.end("no\n") } });
  return { port: listener.port, stop: () => listener.stop(true) };
}

const cases: Record<string, (args: string[]) => Promise<object>> = {
  /**
   * Probes of a TFO server (custom payload, then default and human output), servers without TFO, a closed port and a
   * SYN-dropping port.
   */
  async probe() {
    const tfo = recordingServer({ reply: "ok" });
    const custom = await cli(["probe", `[::1]:${tfo.port}`, "--payload", "PING\\r\\n\\x00", "--json"]);
    const received = [await tfo.next(), await tfo.next()];
    const again = await cli(["probe", `[::1]:${tfo.port}`]);
    const plainV4 = plainServer("127.0.0.2");
    const noTfo = await cli(["probe", `127.0.0.2:${plainV4.port}`, "--json"]);
    const plainV6 = plainServer("::1");
    const refusedData = await cli(["probe", `[::1]:${plainV6.port}`, "--json"]);
    const closedPort = plainV4.port;
    plainV4.stop();
    const refused = await cli(["probe", `127.0.0.2:${closedPort}`, "--json"]);
    const dropped = await cli(["probe", `127.0.0.1:${CLI_DROP_PORT}`, "--timeout", "200", "--json"]);
    tfo.stop();
    plainV6.stop();
    return {
      tfoPort: tfo.port,
      custom,
      serverReceived: received.map((r) => ({ bytes: Array.from(r.bytes), acked: r.status?.acked ?? null })),
      again,
      noTfo,
      refusedData,
      refused,
      dropped,
    };
  },

  /** `--tls` against a TLS 1.3 `listen()` server with TFO (certificate paths in argv). */
  async probeTls([certPath = "", keyPath = ""]) {
    const tls = { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
    const server = recordingServer({ hostname: "127.0.0.1", tls });
    const run = await cli(["probe", `127.0.0.1:${server.port}`, "--tls", "--json"]);
    const received = [await server.next(), await server.next()];
    server.stop();
    // Issue 11.5: a TFO server that answers the ClientHello in plain text (an HTTP error) is no TLS success.
    const plain = recordingServer({ hostname: "127.0.0.1", reply: "HTTP/1.1 400 Bad Request\r\n\r\n" });
    const plainRuns = [
      await cli(["probe", `127.0.0.1:${plain.port}`, "--tls", "--json"]),
      await cli(["probe", `127.0.0.1:${plain.port}`, "--tls"]),
    ];
    plain.stop();
    return { run, serverAcked: received.map((r) => r.status?.acked ?? null), plainRuns };
  },

  /** `fastopen support`, as JSON and as text, in this namespace. */
  async support() {
    return { json: await cli(["support", "--json"]), text: await cli(["support"]) };
  },
};

await runCase(cases, assertPrivateNetns);
