/**
 * The benchmarks' short exchange (a 64-byte request, a 64-byte response,
 * close) as Bun socket handlers shared by every connection: the
 * per-connection state rides in `socket.data`, as a server-grade client
 * would have it.
 */
import type { SocketHandler } from "bun";

/** The 64-byte request every benchmark client sends. */
export const REQUEST = new Uint8Array(64).fill(0x71);

/** One connection's outcome: settled by the handlers below. */
export interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A fresh waiter (`data` for the socket) and the promise it settles. */
export function waiter(): { data: Waiter; done: Promise<void> } {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  return { data: { resolve, reject }, done: promise };
}

/** Resolves on the first response bytes and closes; rejects on an error or an early close. */
export const exchangeHandlers: SocketHandler<Waiter> = {
  data(socket) {
    socket.data.resolve();
    socket.end();
  },
  error(socket, error) {
    socket.data.reject(error);
  },
  close(socket) {
    socket.data.reject(new Error("closed before the response"));
  },
};

/** `exchangeHandlers` that also write REQUEST in `open` (for clients without a payload option). */
export const writingHandlers: SocketHandler<Waiter> = {
  ...exchangeHandlers,
  open: (socket) => void socket.write(REQUEST),
};
