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

/** A Bun listener with TFO: its TFO queue length, its cookie keys and the server's TFO counters. */
export type FastOpenListener<Data = undefined> = TCPSocketListener<Data> & {
  /** The TFO queue length in force (0: TFO off). */
  readonly fastOpen: number;
  /**
   * Sets the listener's cookie keys (ending a schedule's rotation):
   * `primary` issues cookies, `backup` is still accepted. Throws
   * TypeError/RangeError for a bad key, a SystemError where refused.
   */
  setFastOpenKeys(primary: FastOpenKey, backup?: FastOpenKey): void;
  /** The namespace's server-side TFO counters since `listen()` (per namespace, not per listener); null off Linux. */
  fastOpenCounters(): FastOpenServerCounters | null;
};

/**
 * Starts a TCP (or TLS) server as `Bun.listen` does and enables TFO on it,
 * so clients with a cookie deliver their first bytes in the SYN. `port` is
 * the real bound port (also with `port: 0`). Bad options throw a
 * TypeError/RangeError; when the platform refuses TFO on the listener, the
 * listener is stopped and a SystemError (`syscall: "socket_fastopen"`) is
 * thrown. `fastOpen: { keys }` gives the listener its own cookie keys (a
 * refusal: SystemError `syscall: "socket_fastopen_key"`, listener stopped).
 */
export function listen<Data = undefined>(options: ListenOptions<Data>): FastOpenListener<Data> {
  if (typeof options !== "object" || options === null) throw new TypeError("listen() needs an options object");
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
          ? systemError(lastError()?.code ?? "EIO", "socket_fastopen", {
              address: listener.hostname,
              port: listener.port,
              message: `listen: enabling TFO on ${listener.hostname}:${listener.port} failed: ${lastError()?.code ?? "EIO"}`,
            })
          : null;
    if (failure !== null) {
      listener.stop(true);
      throw failure;
    }
  }
  Object.defineProperty(listener, "fastOpen", { value: queue, enumerable: true });
  attachKeys(listener, keys);
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
