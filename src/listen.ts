/**
 * `listen(options)`: `Bun.listen` with TCP Fast Open on the listener. Bun
 * creates, binds and listens (so `port`, `hostname`, `reload`, `stop` and
 * TLS behave exactly as in Bun); TFO is then enabled on `listener.fd`, after
 * `listen(2)`, the order macOS requires and Linux accepts.
 */
import type { TCPSocketListener, TCPSocketListenOptions } from "bun";
import type { FastOpenKey } from "./keys.ts";
import { type FastOpenListenOptions, type FastOpenServerCounters, fastOpenPlan, ListenerKeys } from "./listen-keys.ts";
import { lastError, systemError } from "./lowlevel/errors.ts";
import { readTcpFastopenSysctl, TFO_BITS } from "./lowlevel/netstat.ts";
import * as fo from "./lowlevel/socket.ts";
import * as check from "./lowlevel/validate.ts";
import { native } from "./native/library.ts";

export type { FastOpenKeySchedule, FastOpenListenOptions, FastOpenServerCounters } from "./listen-keys.ts";

/** Default TFO queue length of `listen` (pending SYN-data requests). */
export const DEFAULT_FASTOPEN_QUEUE = fo.DEFAULT_FASTOPEN_QUEUE;

/** Options of `listen`: those of `Bun.listen` (TCP form) plus `fastOpen`. */
export interface ListenOptions<Data = undefined> extends TCPSocketListenOptions<Data> {
  /**
   * TFO queue length (pending SYN-data requests; 0 disables TFO; default
   * 256), or `{ queue, keys }` with the listener's own cookie keys.
   */
  fastOpen?: number | FastOpenListenOptions;
}

/**
 * A Bun listener with TFO: its TFO queue length, whether the host lets it
 * take SYN data, its cookie keys and the server's TFO counters.
 */
export type FastOpenListener<Data = undefined> = TCPSocketListener<Data> & {
  /** The TFO queue length in force (0: TFO off). */
  readonly fastOpen: number;
  /**
   * Whether this host (on Linux: this network namespace) lets listeners take
   * SYN data, read when `listen` ran: false when the server bit (0x2) of
   * `net.ipv4.tcp_fastopen` is off (the listener then works, without TFO);
   * null where it is not known (not Linux, or the setting is unreadable).
   */
  readonly serverFastOpen: boolean | null;
  /**
   * Sets the listener's cookie keys (ending a schedule's rotation):
   * `primary` issues cookies, `backup` is still accepted. Throws
   * TypeError/RangeError for a bad key, a SystemError where refused.
   */
  setFastOpenKeys(primary: FastOpenKey, backup?: FastOpenKey): void;
  /** The namespace's server-side TFO counters since `listen()` (per namespace, not per listener); null off Linux. */
  fastOpenCounters(): FastOpenServerCounters | null;
};

/** The code of the last failed native call (EIO when none is recorded). */
function lastCode(): string {
  return lastError()?.code ?? "EIO";
}

/** Whether `net.ipv4.tcp_fastopen` (null: unknown) lets listeners take SYN data. */
function serverBit(setting: number | null): boolean | null {
  return setting === null ? null : (setting & TFO_BITS.server) !== 0;
}

let warnedServerOff = false;

/** Warns once per process that a TFO listener will take no SYN data here. */
function warnServerOff(setting: number): void {
  if (warnedServerOff) return;
  warnedServerOff = true;
  const want = setting | TFO_BITS.client | TFO_BITS.server;
  process.emitWarning(
    `listen(): server TFO is off on this host (bit 0x2 of net.ipv4.tcp_fastopen=${setting}): ` +
      "listeners take no data in the SYN (listener.serverFastOpen is false)",
    { code: "FASTOPEN_SERVER_OFF", detail: `enable with: sysctl -w net.ipv4.tcp_fastopen=${want}` },
  );
}

/**
 * Starts a TCP (or TLS) server as `Bun.listen` does and enables TFO on it,
 * so clients with a cookie deliver their first bytes in the SYN. `port` is
 * the real bound port (also with `port: 0`). Bad options throw a
 * TypeError/RangeError; when the platform refuses TFO on the listener, the
 * listener is stopped and a SystemError (`syscall: "socket_fastopen"`) is
 * thrown. `fastOpen: { keys }` gives the listener its own cookie keys (a
 * refusal: SystemError `syscall: "socket_fastopen_key"`, listener stopped).
 * Where the host's server TFO is off, the listener works without TFO:
 * `serverFastOpen` is false and a one-time process warning
 * (`FASTOPEN_SERVER_OFF`) says so. Unix sockets are refused (TypeError).
 */
export function listen<Data = undefined>(options: ListenOptions<Data>): FastOpenListener<Data> {
  if (typeof options !== "object" || options === null) throw new TypeError("listen() needs an options object");
  if ((options as { unix?: unknown }).unix !== undefined)
    throw new TypeError("listen(): Unix sockets are not supported (TFO is TCP only); use Bun.listen({ unix })");
  if (typeof options.hostname !== "string")
    throw new TypeError(`hostname must be a string, got ${typeof options.hostname}`);
  check.port(options.port);
  const { queue, keys } = fastOpenPlan(options.fastOpen);
  const { fastOpen: _omit, ...bunOptions } = options;
  // Load the library (or throw) before Bun opens a listener that a load failure would leave open.
  if (queue > 0) native();
  const listener = Bun.listen<Data>(bunOptions);
  const fd = (listener as { fd?: unknown }).fd;
  if (queue > 0) {
    const failure =
      typeof fd !== "number"
        ? systemError("EBADF", "socket_fastopen", { message: "listen: Bun did not expose the listener's fd" })
        : fo.socketFastopen(fd, queue) < 0
          ? systemError(lastCode(), "socket_fastopen", {
              address: listener.hostname,
              port: listener.port,
              message: `listen: enabling TFO on ${listener.hostname}:${listener.port} failed: ${lastCode()}`,
            })
          : null;
    if (failure !== null) {
      listener.stop(true);
      throw failure;
    }
  }
  Object.defineProperty(listener, "fastOpen", { value: queue, enumerable: true });
  attachKeys(listener, keys);
  const setting = process.platform === "linux" ? readTcpFastopenSysctl() : null;
  const serverFastOpen = serverBit(setting);
  Object.defineProperty(listener, "serverFastOpen", { value: serverFastOpen, enumerable: true });
  if (queue > 0 && setting !== null && serverFastOpen === false) warnServerOff(setting);
  return listener as FastOpenListener<Data>;
}

/** Sets the listener's keys (stopping it and throwing when refused) and adds the key methods. */
function attachKeys<Data>(listener: TCPSocketListener<Data>, keys: ReturnType<typeof fastOpenPlan>["keys"]): void {
  const fd = (): number => {
    const value = (listener as { fd?: unknown }).fd;
    return typeof value === "number" ? value : -1;
  };
  let state: ListenerKeys;
  try {
    state = new ListenerKeys({ fd, hostname: listener.hostname, port: listener.port }, keys);
  } catch (error) {
    listener.stop(true);
    throw error;
  }
  const stop = listener.stop;
  Object.defineProperties(listener, {
    setFastOpenKeys: { value: (primary: unknown, backup?: unknown) => state.set(primary, backup) },
    fastOpenCounters: { value: () => state.counters() },
    stop: {
      value: (closeActiveConnections?: boolean) => {
        state.stop();
        return stop.call(listener, closeActiveConnections);
      },
    },
  });
}
