/**
 * `createConnection()`: node:net's socket factory (`net.createConnection`)
 * for TFO connections, usable as `http.Agent`'s or `http.request`'s
 * `createConnection` and wherever a client takes a socket factory.
 */
import { checkCreateConnectionOptions } from "../connect/options.ts";
import { type ConnectListener, type CreateConnectionOptions, connectArguments } from "./arguments.ts";
import { type FastOpenSocket, startSocket } from "./socket.ts";

/**
 * Opens a TCP connection with TFO and returns a `net.Socket`-compatible
 * Duplex at once: what is written to it in the current turn of the event
 * loop rides in the SYN (when a cookie for the server is known; otherwise it
 * is sent right after the handshake), so a `node:http` request goes out in
 * the SYN. `connectListener` is added as a `'connect'` listener.
 *
 * Use it as `http.Agent`'s `createConnection` (see `FastOpenAgent`), as
 * `http.request({ createConnection })`, or wherever a socket factory is
 * accepted. Also `createConnection(port, host?, connectListener?)`.
 *
 * Bad options throw a TypeError/RangeError at once; connect failures
 * (ECONNREFUSED, ETIMEDOUT with `connectTimeout`, ABORT_ERR with `signal`,
 * ENOTFOUND) destroy the socket with a SystemError (`'error'` event) and
 * leave no fd open. Clients that wait for `'connect'` before writing get a
 * plain connect (nothing was written in time to ride in the SYN).
 */
export function createConnection(options: CreateConnectionOptions, connectListener?: ConnectListener): FastOpenSocket;
export function createConnection(
  port: number | string,
  host?: string,
  connectListener?: ConnectListener,
): FastOpenSocket;
export function createConnection(
  first: CreateConnectionOptions | number | string,
  second?: string | ConnectListener,
  third?: ConnectListener,
): FastOpenSocket {
  // Checked before the socket exists: a bad option throws with nothing made.
  if (typeof first === "object" && first !== null && (second === undefined || typeof second === "function"))
    return startSocket(checkCreateConnectionOptions(first), second);
  const { options, listener } = connectArguments(first, second, third);
  return startSocket(checkCreateConnectionOptions(options), listener);
}
