/**
 * undici interop: `fastOpenConnector(options)` is a connector for undici's
 * `new Agent({ connect })`, `new Client(origin, { connect })` and `Pool`,
 * built like undici's own (lib/core/connect.js): TCP through fastopen's
 * `createConnection` (the request rides in the SYN once a cookie is known),
 * TLS with `tls.connect({ socket })` over it, with the servername, ALPN and
 * session cache undici's connector uses. Needs no undici import: the shapes
 * below are undici's connector interface.
 */
import type { Socket } from "node:net";
import net from "node:net";
import tls from "node:tls";
import { systemError } from "../lowlevel/errors.ts";
import { createConnection } from "./create-connection.ts";
import type { CreateConnectionOptions, FastOpenSocket } from "./socket.ts";

/** What undici passes to a connector for each new connection. */
export interface UndiciConnectParams {
  hostname: string;
  host?: string;
  protocol: string;
  port: string;
  servername?: string;
  localAddress?: string | null;
  /** An HTTP socket to upgrade to TLS (undici's proxy tunnels). */
  httpSocket?: Socket;
}

/** undici's connector callback: the connected socket, or the error. */
export type UndiciConnectCallback = (...args: [null, Socket | tls.TLSSocket] | [Error, null]) => void;

/** A connector as undici's `connect` option takes it. */
export type UndiciConnector = (params: UndiciConnectParams, callback: UndiciConnectCallback) => Socket;

/** Options of `fastOpenConnector`: undici's connector options that apply, the TLS ones, and fastopen's. */
export interface FastOpenConnectorOptions
  extends Pick<
      tls.ConnectionOptions,
      Exclude<keyof tls.ConnectionOptions, "socket" | "host" | "port" | "path" | "timeout">
    >,
    Pick<CreateConnectionOptions, "fastOpen" | "family"> {
  /** Connect timeout in ms, TCP and TLS handshakes included (undici's default: 10 s; 0: none). */
  timeout?: number | null;
  /** Offer HTTP/2 by ALPN (default true, as undici). */
  allowH2?: boolean;
  /** ALPN order `h2` first (default false: `http/1.1` first). */
  preferH2?: boolean;
  /** TLS sessions kept for resumption, per servername (default 100; 0: none). */
  maxCachedSessions?: number | null;
  /** SO_KEEPALIVE (default true) and its initial delay in ms (default 60 s), as undici. */
  keepAlive?: boolean | null;
  keepAliveInitialDelay?: number | null;
  /** Called with each fastopen socket the connector makes (to read its `fastOpenStatus()`). */
  onSocket?: (socket: FastOpenSocket) => void;
}

/** undici's default connect timeout. */
const DEFAULT_TIMEOUT_MS = 10_000;

/** The name to send as SNI for `host` (`name:port`, `[v6]:port`): none for IP literals, as undici. */
function serverName(host: string | undefined): string | undefined {
  if (host === undefined || host === "") return undefined;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d*$/, "");
  return net.isIP(name) === 0 ? name : undefined;
}

/** An LRU of TLS sessions by servername. */
class Sessions {
  readonly #map = new Map<string, Buffer>();
  constructor(readonly max: number) {}
  get(key: string): Buffer | undefined {
    return this.#map.get(key);
  }
  set(key: string, session: Buffer): void {
    if (this.max === 0) return;
    this.#map.delete(key);
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, session);
  }
}

function checkTimeout(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new RangeError(`timeout must be a finite number of ms >= 0, got ${String(value)}`);
  return value;
}

/**
 * A connector for undici (`new Agent({ connect: fastOpenConnector() })`):
 * each new connection is fastopen's `createConnection`, so that undici's
 * first request on it rides in the SYN once the server's cookie is known;
 * `https:` origins get TLS over it (`tls.connect({ socket })`) with SNI
 * (`servername`, else the host name), ALPN (`http/1.1` and `h2` unless
 * `allowH2: false`) and session resumption, as undici's own connector.
 * TLS options (`ca`, `rejectUnauthorized`, `ecdhCurve`, `minVersion`, ...)
 * are passed to `tls.connect` unchanged. Failures reach undici as the
 * socket's SystemError (ECONNREFUSED, ETIMEDOUT after `timeout`).
 */
export function fastOpenConnector(options: FastOpenConnectorOptions = {}): UndiciConnector {
  if (typeof options !== "object" || options === null) throw new TypeError("options must be an object");
  const { allowH2 = true, preferH2 = false, maxCachedSessions, keepAlive, keepAliveInitialDelay } = options;
  const { timeout: given, onSocket, fastOpen, family, ...tlsOptions } = options;
  const timeout = checkTimeout(given);
  if (onSocket !== undefined && typeof onSocket !== "function") throw new TypeError("onSocket must be a function");
  const sessions = new Sessions(maxCachedSessions ?? 100);
  const alpn = allowH2 ? (preferH2 ? ["h2", "http/1.1"] : ["http/1.1", "h2"]) : ["http/1.1"];
  for (const name of ["allowH2", "preferH2", "maxCachedSessions", "keepAlive", "keepAliveInitialDelay"] as const)
    delete (tlsOptions as Record<string, unknown>)[name];
  const tcp: CreateConnectionOptions = {
    connectTimeout: timeout,
    noDelay: true,
    ...(fastOpen === undefined ? {} : { fastOpen }),
    ...(family === undefined ? {} : { family }),
  };
  return function connect(params, callback) {
    const secure = params.protocol === "https:";
    const port = Number(params.port) || (secure ? 443 : 80);
    let raw: Socket | undefined = params.httpSocket;
    if (raw === undefined) {
      const made = createConnection({ ...tcp, host: params.hostname, port, localAddress: params.localAddress });
      onSocket?.(made);
      raw = made as unknown as Socket;
    }
    if (keepAlive !== false) raw.setKeepAlive(true, keepAliveInitialDelay ?? 60_000);
    let socket: Socket = raw;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (secure) {
      const servername = params.servername || tlsOptions.servername || serverName(params.host);
      const key = servername ?? params.hostname;
      socket = tls.connect({
        ...tlsOptions,
        servername,
        session: tlsOptions.session ?? sessions.get(key),
        ALPNProtocols: alpn,
        socket: raw,
      });
      socket.on("session", (session: Buffer) => sessions.set(key, session));
      // The TCP handshake is covered by createConnection's connectTimeout; this covers TLS's too.
      if (timeout > 0) {
        const where = { address: params.hostname, port, message: `connect ETIMEDOUT ${params.hostname}:${port}` };
        timer = setTimeout(() => socket.destroy(systemError("ETIMEDOUT", "connect", where)), timeout);
      }
    }
    let pending: UndiciConnectCallback | null = callback;
    socket.once(secure ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      const done = pending;
      pending = null;
      done?.(null, socket);
    });
    const fail = (error: Error): void => {
      clearTimeout(timer);
      const done = pending;
      pending = null;
      done?.(error, null);
    };
    socket.on("error", fail);
    // Under TLS the TCP socket's own errors (ECONNREFUSED, ETIMEDOUT) end the TLS socket too.
    if (socket !== raw)
      raw.on("error", (error: Error) => {
        fail(error);
        socket.destroy();
      });
    return socket;
  };
}
