/**
 * A native TFO peer for the phase scenarios (async-phases.ts): a listener on
 * `::1` whose connections are accepted from a timer on the event loop, and
 * either read (and never answered) or never read until asked. It keeps, per
 * connection, the count, digest and first bytes of what arrived and whether
 * the client's side ended (end of stream or reset).
 */
import { createHash, type Hash } from "node:crypto";
import { parseIp6 } from "../../src/lowlevel/address.ts";
import { lastError } from "../../src/lowlevel/errors.ts";
import * as fo from "../../src/lowlevel/socket.ts";
import { type Listener, listen6 } from "../lowlevel/common.ts";

/** One accepted connection as the peer saw it. */
export interface PeerConnection {
  fd: number;
  received: number;
  /** The first bytes received (up to 8). */
  head: number[];
  hash: Hash;
  /** The client's side ended: end of stream or ECONNRESET. */
  ended: boolean;
  /** How it ended: "eof", or the error code. */
  end: string | null;
}

const CHUNK = new Uint8Array(1 << 16);

/** A TFO listener on `::1` that accepts every connection and reads it (`read`) or leaves it unread until `drain`. */
export class PhasePeer {
  readonly listener: Listener;
  readonly connections: PeerConnection[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly read: boolean) {
    this.listener = listen6(parseIp6("::1").ip);
    this.timer = setInterval(() => this.pump(), 1);
  }

  get port(): number {
    return this.listener.port;
  }

  /** Accepts what is pending; reads the open connections when this peer reads. */
  pump(): void {
    for (;;) {
      const fd = fo.socketAccept6(this.listener.fd);
      if (fd < 0) break;
      this.connections.push({ fd, received: 0, head: [], hash: createHash("sha256"), ended: false, end: null });
    }
    if (this.read) for (const c of this.connections) this.drain(c);
  }

  /** Reads `c` until nothing is left for now, noting its end. */
  drain(c: PeerConnection): void {
    while (!c.ended) {
      const n = fo.socketRecv(c.fd, CHUNK);
      if (n > 0) {
        const bytes = CHUNK.subarray(0, n);
        if (c.head.length < 8) c.head.push(...bytes.subarray(0, 8 - c.head.length));
        c.hash.update(bytes);
        c.received += n;
        continue;
      }
      const code = n === 0 ? "eof" : (lastError()?.code ?? "?");
      if (code === "EAGAIN") return;
      c.ended = true;
      c.end = code;
      fo.socketClose(c.fd);
    }
  }

  /** Whether data waits unread on `c`. */
  readable(c: PeerConnection): boolean {
    return !c.ended && fo.socketPoll(c.fd, fo.POLLIN, 0) > 0;
  }

  /** Waits (on the event loop) until `ready()` holds, at most `ms`; whether it did. */
  async until(ready: () => boolean, ms = 5000): Promise<boolean> {
    for (let waited = 0; waited < ms; waited += 2) {
      if (ready()) return true;
      await Bun.sleep(2);
    }
    return ready();
  }

  /** Reads connection `c` to its end (the client's side closing); whether it ended. */
  async drainToEnd(c: PeerConnection): Promise<boolean> {
    return this.until(() => {
      this.drain(c);
      return c.ended;
    });
  }

  /** Stops accepting and closes every fd this peer holds. */
  stop(): void {
    clearInterval(this.timer);
    for (const c of this.connections) if (!c.ended) fo.socketClose(c.fd);
    fo.socketClose(this.listener.fd);
  }
}
