/**
 * `connect(options)`: a drop-in for `Bun.connect` that opens the connection
 * with TCP Fast Open. The fd is made and its connect started natively
 * (`startFastOpenFd`; the payload goes in the SYN when a cookie is known),
 * handed at once to Bun's event loop with `Bun.connect({ fd })`, and the
 * connection completed from Bun's events (`connect-attempt.ts`): the rest of
 * the payload written in order after the handshake, no polling.
 */
import type { Socket, SocketHandler } from "bun";
import { type ConnectAttempt, type SharedFlight, startAttempt } from "./attempt.ts";
import { abortError, bounded, type Limit, limited, limitOf, type StopError, watch } from "./deadline.ts";
import { type CheckedConnect, type ConnectOptions, checkConnectOptions } from "./options.ts";
import { isIpLiteral, type LookupFunction, type ResolvedAddress, resolveHost } from "./resolve.ts";

export type { ConnectOptions } from "./options.ts";
export { DEFAULT_ATTEMPT_DELAY_MS } from "./options.ts";

/** Errors after which the next address is tried. */
const NEXT_ADDRESS_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EADDRNOTAVAIL",
  "EAFNOSUPPORT",
  "EINVAL",
  "EPERM",
  "EACCES",
]);

/** Resolved IP literals (without a `%scope`, whose interface may change), reused by later connects. */
const literals = new Map<string, ResolvedAddress[]>();
const MAX_LITERALS = 256;

/** `resolveHost`, remembering IP literals. */
async function resolve(hostname: string, lookup: LookupFunction | undefined): Promise<ResolvedAddress[]> {
  const addresses = await resolveHost(hostname, lookup);
  if (!hostname.includes("%") && isIpLiteral(hostname)) {
    if (literals.size >= MAX_LITERALS) literals.clear();
    literals.set(hostname, addresses);
  }
  return addresses;
}

/** Whether the next address is worth a try after `error`. */
function tryNext(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && NEXT_ADDRESS_CODES.has(code);
}

/** Starts attempts to one address each; all of them stop at the deadline or on abort. */
type Starter<Data> = (address: ResolvedAddress, claim: () => boolean) => ConnectAttempt<Data>;

/**
 * Happy Eyeballs (RFC 8305): starts the next address when the current
 * attempt has not connected within `delayMs` or has failed; the first to
 * connect wins (claims the connection before the user sees it) and the
 * others are cancelled (their sockets terminated, their fds closed). Used
 * in every mode: data riding in the SYN goes with every attempt, so a first
 * flight may reach two hosts when both answer within the race.
 */
function race<Data>(addresses: ResolvedAddress[], start: Starter<Data>, delayMs: number): Promise<Socket<Data>> {
  return new Promise((resolve, reject) => {
    const attempts: Array<ConnectAttempt<Data>> = [];
    let next = 0;
    let pending = 0;
    let done = false;
    let first: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (winner: number): void => {
      done = true;
      clearTimeout(timer);
      attempts.forEach((attempt, i) => {
        if (i !== winner) attempt.cancel(new Error("lost the race"), true);
      });
    };
    const failed = (error: unknown): void => {
      if (done) return;
      first ??= error;
      if (!tryNext(error)) {
        finish(-1);
        reject(error);
      } else if (next < addresses.length) launch();
      else if (pending === 0) {
        finish(-1);
        reject(first);
      }
    };
    const launch = (): void => {
      if (done || next >= addresses.length) return;
      clearTimeout(timer);
      const index = next++;
      const claim = (): boolean => {
        if (done) return false;
        finish(index);
        return true;
      };
      let attempt: ConnectAttempt<Data>;
      try {
        attempt = start(addresses[index]!, claim);
      } catch (error) {
        failed(error);
        return;
      }
      attempts[index] = attempt;
      pending++;
      if (!done) timer = setTimeout(launch, delayMs);
      attempt.promise.then(
        (socket) => {
          pending--;
          resolve(socket);
        },
        (error: unknown) => {
          pending--;
          failed(error);
        },
      );
    };
    launch();
  });
}

/**
 * Opens a TCP (or TLS) connection with TCP Fast Open: a drop-in for
 * `Bun.connect` with the same handlers (`open`, `data`, `drain`, `close`,
 * `end`, `error`, `timeout`, `connectError`, `handshake`) and the same
 * `data`, `tls` and `allowHalfOpen` options, plus `payload`, `fastOpen`,
 * `lazy`, `connectTimeout` and `signal`.
 *
 * Resolves to Bun's `Socket` once the connection is established and the
 * whole payload has been handed to the kernel, right after the user's `open`
 * has run (with `tls`: once the TLS handshake has completed; `open` then runs
 * before `handshake`). Until then no user handler is called, except for a
 * lazy connect without TLS whose SYN waits for data (a cookie is known):
 * there `open` runs at once so that its first synchronous write rides in the
 * SYN, and a failed connect then also calls `close`. Rejects with a
 * SystemError carrying `code`, `errno`, `syscall`, `address` and `port`
 * (ECONNREFUSED, ETIMEDOUT, ABORT_ERR, ENOTFOUND, ...), after calling
 * `socket.connectError` when given; bad options reject with a TypeError or
 * RangeError. No fd is left open on any failure. See `fastOpenStatus(socket)`
 * for what TFO did.
 */
export function connect<Data = undefined>(options: ConnectOptions<Data>): Promise<Socket<Data>> {
  let checked: CheckedConnect<Data>;
  try {
    checked = checkConnectOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const onError = checked.handlers.connectError;
  // Without a connectError handler there is nothing to call on failure: the attempt's own promise.
  if (onError === undefined) return connectChecked(checked);
  return reportingFailure(checked, onError);
}

/**
 * Internal: the node:net layer's optimistic connect (`FastOpenSocket`):
 * `connect()` in lazy mode without a payload where, when the kernel defers
 * the SYN (a cookie is known), `open` runs at once and the SYN waits for the
 * socket's first write, however late (an empty write sends it empty). A host
 * with several addresses gets a plain connect instead (Happy Eyeballs needs
 * the first flight before the race). No `connectError` handler is called.
 */
export function connectOptimistic<Data>(options: ConnectOptions<Data>): Promise<Socket<Data>> {
  try {
    return connectChecked({ ...checkConnectOptions(options), lazy: true, optimistic: true });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `connectChecked`, calling the user's `connectError` before rejecting. */
async function reportingFailure<Data>(
  checked: CheckedConnect<Data>,
  onError: NonNullable<SocketHandler<Data>["connectError"]>,
): Promise<Socket<Data>> {
  try {
    return await connectChecked(checked);
  } catch (error) {
    try {
      await onError.call(checked.handlers, null as unknown as Socket<Data>, error as Error);
    } catch (thrown) {
      // Reported as uncaught (printed, exit code 1), as a throw in any handler; the connect error stays the rejection.
      reportError(thrown);
    }
    throw error;
  }
}

const CLAIM_ALWAYS = (): boolean => true;

/** What the attempts of one connect() call share: nothing yet. */
function newFlight(): SharedFlight {
  return { opened: false, flight: null, ended: false };
}

/**
 * The common case (a known IP literal, no deadline, no signal) starts its one attempt at once and returns its
 * promise, with no async step; the rest goes through `connectResolving`.
 */
function connectChecked<Data>(checked: CheckedConnect<Data>): Promise<Socket<Data>> {
  const known = literals.get(checked.hostname);
  if (known === undefined || known.length !== 1 || checked.connectTimeout > 0 || checked.signal?.aborted === true) {
    return connectResolving(checked, known);
  }
  const signal = checked.signal;
  try {
    // The caller gave the address: its peer address is read when asked, as with Bun.connect.
    if (signal === undefined)
      return startAttempt(checked, known[0]!, CLAIM_ALWAYS, newFlight(), undefined, false).promise;
    return connectAbortable(checked, known[0]!, signal);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * One attempt to a known literal that `signal` may stop (node:net-style sockets pass one to every connect):
 * watched from before Bun adopts the fd (a lazy `open` runs during the adoption and may abort), no longer once
 * the attempt has settled.
 */
function connectAbortable<Data>(
  checked: CheckedConnect<Data>,
  address: ResolvedAddress,
  signal: AbortSignal,
): Promise<Socket<Data>> {
  let attempt: ConnectAttempt<Data> | null = null;
  const onAbort = (): void => attempt?.cancel(abortError(address.address, checked.port, signal.reason));
  const watching = (created: ConnectAttempt<Data>): void => {
    attempt = created;
    signal.addEventListener("abort", onAbort, { once: true });
  };
  const started = startAttempt(checked, address, CLAIM_ALWAYS, newFlight(), watching, false);
  const unwatch = (): void => signal.removeEventListener("abort", onAbort);
  started.promise.then(unwatch, unwatch);
  return started.promise;
}

async function connectResolving<Data>(
  given: CheckedConnect<Data>,
  known: ResolvedAddress[] | undefined,
): Promise<Socket<Data>> {
  // Used after this call has returned (the caller may reuse its buffer by then): a private copy.
  const checked = given.payload.byteLength === 0 ? given : { ...given, payload: given.payload.slice() };
  const { signal, port } = checked;
  if (signal?.aborted === true) throw abortError(checked.hostname, port, signal.reason);
  const limit = limitOf(signal, checked.connectTimeout);
  const resolved = known ?? (await bounded(resolve(checked.hostname, checked.lookup), limit, checked.hostname, port));
  return attemptAll(resolved.length > 1 && checked.optimistic === true ? plainOf(checked) : checked, resolved, limit);
}

/** An optimistic plan made plain: for a host with several addresses (see `connectOptimistic`). */
function plainOf<Data>(checked: CheckedConnect<Data>): CheckedConnect<Data> {
  return { ...checked, lazy: false, optimistic: false };
}

/** The attempts to `addresses` (one, or a Happy Eyeballs race), all stopped by `limit`. */
async function attemptAll<Data>(
  checked: CheckedConnect<Data>,
  addresses: ResolvedAddress[],
  limit: Limit,
): Promise<Socket<Data>> {
  const { port } = checked;
  const watched = limited(limit);
  const live = new Set<ConnectAttempt<Data>>();
  const shared = newFlight();
  let stopped: StopError | null = null;
  const start: Starter<Data> = (address, claim) => {
    if (stopped !== null) throw stopped(address.address, port);
    // Watched before Bun adopts the fd: a lazy connect runs `open` during the
    // adoption, and an abort or deadline there must reach this attempt.
    const attempt = startAttempt(checked, address, claim, shared, (created) => {
      if (!watched) return;
      live.add(created);
      const forget = (): boolean => live.delete(created);
      created.promise.then(forget, forget);
    });
    return attempt;
  };
  const unwatch = watch(limit, (error) => {
    stopped = error;
    for (const attempt of live) attempt.cancel(error(attempt.address.address, port));
  });
  try {
    return addresses.length > 1
      ? await race(addresses, start, checked.attemptDelay)
      : await start(addresses[0]!, CLAIM_ALWAYS).promise;
  } finally {
    unwatch();
  }
}
