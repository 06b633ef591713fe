/**
 * Real Debian servers for the client scenarios (redis-server, PostgreSQL,
 * memcached, nginx, MariaDB), started by the scenario inside its private
 * network namespace on 127.0.0.1, each in a temporary directory of its own.
 * `net.ipv4.tcp_fastopen=0x403` there gives every listener TFO, so the
 * unmodified servers accept SYN data. Every server runs under
 * `setpriv --pdeathsig KILL`: it dies with the scenario even if that is killed.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";

/** A server process the scenario started: its port, and stop/restart. */
export interface TestServer {
  readonly name: string;
  readonly port: number;
  /** The scratch directory (data, config, logs, certificates). */
  readonly dir: string;
  /** Stops the process (SIGTERM, SIGINT for postgres; then waits for it to exit). */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** What a server needs to start: its command line and how to tell it is ready. */
interface ServerSpec {
  name: string;
  port: number;
  dir: string;
  argv: string[];
  /** Run as this user (postgres refuses root). */
  user?: { uid: number; gid: number };
  /** The signal that stops it at once, its clients disconnected (default SIGTERM). */
  stopSignal?: "SIGTERM" | "SIGINT";
  /** Resolves once the server answers (default: a TCP connect to the port succeeds). */
  ready?: () => boolean | Promise<boolean>;
}

/** A temporary directory that other users can enter (the postgres user needs to). */
function scratch(name: string): string {
  const dir = mkdtempSync(`/tmp/fastopen-${name}-`);
  chmodSync(dir, 0o755);
  return dir;
}

/** Whether a plain TCP connect to 127.0.0.1:`port` succeeds (no TFO: no counter moves). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The last lines of a server's log, for an error message. */
function logTail(dir: string): string {
  const path = join(dir, "server.log");
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").split("\n").slice(-15).join("\n");
}

async function launch(spec: ServerSpec): Promise<Subprocess> {
  const who = spec.user === undefined ? [] : ["--reuid", String(spec.user.uid), "--regid", String(spec.user.gid)];
  const argv = ["setpriv", "--pdeathsig", "KILL", ...who, ...(who.length > 0 ? ["--clear-groups"] : []), "--"];
  const proc = Bun.spawn([...argv, ...spec.argv], {
    cwd: spec.dir,
    stdin: "ignore",
    stdout: Bun.file(join(spec.dir, "server.log")),
    stderr: Bun.file(join(spec.dir, "server.log")),
  });
  const ready = spec.ready ?? (() => accepts(spec.port));
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) break;
    if (await ready()) return proc;
    await Bun.sleep(25);
  }
  proc.kill("SIGKILL");
  throw new Error(`${spec.name} did not start (exit ${proc.exitCode}):\n${logTail(spec.dir)}`);
}

async function serve(spec: ServerSpec): Promise<TestServer> {
  let proc: Subprocess | null = await launch(spec);
  const stop = async (): Promise<void> => {
    const running = proc;
    proc = null;
    if (running === null) return;
    running.kill(spec.stopSignal ?? "SIGTERM");
    await running.exited;
  };
  return {
    name: spec.name,
    port: spec.port,
    dir: spec.dir,
    stop,
    async restart() {
      await stop();
      proc = await launch(spec);
    },
    async dispose() {
      await stop();
      rmSync(spec.dir, { recursive: true, force: true });
    },
  };
}

/** redis-server on 127.0.0.1:`port`, nothing persisted. */
export function startRedis(port = 6379): Promise<TestServer> {
  const dir = scratch("redis");
  const argv = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  return serve({ name: "redis-server", port, dir, argv: [...argv, "--dir", dir, "--protected-mode", "no"] });
}

/** memcached on 127.0.0.1:`port` (TCP only). */
export function startMemcached(port = 11211): Promise<TestServer> {
  const dir = scratch("memcached");
  const argv = ["memcached", "-u", "root", "-l", "127.0.0.1", "-p", String(port), "-U", "0"];
  return serve({ name: "memcached", port, dir, argv });
}

/** The newest PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const major = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (major === undefined)
    throw new Error("PostgreSQL is not installed: apt-get install -y postgresql (npm run setup)");
  return join(root, major, "bin");
}

/** The uid and gid of a system user, from `id`. */
function account(user: string): { uid: number; gid: number } {
  const uid = spawnSync("id", ["-u", user], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", user], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) throw new Error(`no ${user} user (apt-get install -y postgresql)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * PostgreSQL on 127.0.0.1:`port`: a fresh cluster (initdb, trust
 * authentication, superuser `postgres`) run as the postgres user.
 */
export function startPostgres(port = 5432): Promise<TestServer> {
  const bin = postgresBin();
  const user = account("postgres");
  const dir = scratch("postgres");
  const data = join(dir, "data");
  mkdirSync(data);
  chownSync(dir, user.uid, user.gid);
  chownSync(data, user.uid, user.gid);
  const initArgs = ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"];
  const who = ["--reuid", String(user.uid), "--regid", String(user.gid), "--clear-groups"];
  const init = spawnSync("setpriv", [...who, "--", join(bin, "initdb"), ...initArgs], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const settings = ["listen_addresses=127.0.0.1", "fsync=off", "unix_socket_directories="];
  const argv = [join(bin, "postgres"), "-D", data, "-p", String(port), ...settings.flatMap((s) => ["-c", s])];
  const isReady = (): boolean =>
    spawnSync(join(bin, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)]).status === 0;
  // SIGINT: fast shutdown (SIGTERM waits for every client to disconnect).
  return serve({ name: "postgres", port, dir, argv, user, ready: isReady, stopSignal: "SIGINT" });
}

/** A self-signed certificate for localhost and 127.0.0.1 in `dir` (cert.pem, key.pem). */
export function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"];
  const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  const args = ["req", "-x509", ...curve, "-nodes", "-keyout", key, "-out", cert, "-days", "1", ...subject];
  const run = spawnSync("openssl", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`openssl could not make a certificate: ${run.stderr}`);
  return { cert, key };
}

/** nginx (HTTP on `port`, HTTPS on `tlsPort`): `/` answers `hello`, `/echo` echoes the body's length. */
export interface NginxServer extends TestServer {
  readonly tlsPort: number;
  /** The self-signed certificate (PEM) the HTTPS listener serves. */
  readonly cert: string;
}

/** nginx in one process (no master, no daemon) on 127.0.0.1, with a self-signed certificate. */
export async function startNginx(port = 8080, tlsPort = 8443): Promise<NginxServer> {
  const dir = scratch("nginx");
  const { cert, key } = makeCertificate(dir);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`);
  const config = `daemon off; master_process off; user root; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off; ${temp.join(" ")}
  keepalive_requests 1000;
  server {
    listen 127.0.0.1:${port}; listen 127.0.0.1:${tlsPort} ssl http2;
    ssl_certificate ${cert}; ssl_certificate_key ${key}; ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 "hello\\n"; }
  }
}
`;
  await Bun.write(join(dir, "nginx.conf"), config);
  const server = await serve({ name: "nginx", port, dir, argv: ["nginx", "-p", dir, "-c", join(dir, "nginx.conf")] });
  return { ...server, tlsPort, cert: readFileSync(cert, "utf8") };
}

/** MariaDB on 127.0.0.1:`port` without grant tables (any user, no password). */
export function startMariadb(port = 3306): Promise<TestServer> {
  const dir = scratch("mariadb");
  const options = [`--datadir=${dir}`, "--user=root", `--port=${port}`, "--bind-address=127.0.0.1"];
  const argv = ["mariadbd", "--no-defaults", ...options, `--socket=${dir}/mysqld.sock`, "--skip-grant-tables"];
  return serve({ name: "mariadbd", port, dir, argv });
}
