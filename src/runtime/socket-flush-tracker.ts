/**
 * SocketFlushTracker: tells waiters when the octets written to a socket up to some point have
 * been handed to the operating system. An HTTP/2 connection carrying WebSockets (RFC 8441) uses
 * it so that a WebSocket's write completes, as on a TCP socket of its own, only once its frames
 * left the process: then `bufferedAmount` counts a congested connection too.
 *
 * It counts the octets written; what the socket still holds is `writableLength`, so the octets
 * handed over are the difference. Socket writes carry the tracker's callback only while
 * someone waits ({@link callback}), so a connection nobody waits on pays only the count.
 */
import { Buffer } from 'node:buffer';

/** Told once the octets it waited for left the process. */
export interface FlushWaiter {
  onOutputFlushed(): void;
}

/** The socket side the tracker reads and writes. */
export interface TrackedSocket {
  readonly writableLength: number;
  write(chunk: Buffer, callback: () => void): unknown;
}

/** A write of nothing, for its callback after what the socket holds. */
const EMPTY = Buffer.alloc(0);

/** Tracks what a socket handed to the OS (see the file comment). */
export class SocketFlushTracker {
  /** Octets written to the socket so far. */
  written = 0;
  private waiters: { waiter: FlushWaiter; end: number }[] = [];
  private readonly settleNow: () => void;

  /** @param socket the socket, read when a write callback runs (undefined once it is gone) */
  constructor(private readonly socket: () => TrackedSocket | undefined) {
    this.settleNow = () => this.settle();
  }

  /** The callback for the next socket write: the settling one while someone waits, else none. */
  get callback(): (() => void) | undefined {
    return this.waiters.length > 0 ? this.settleNow : undefined;
  }

  /**
   * True when `queued` octets (not yet written) are none and the socket holds nothing;
   * otherwise false, and `waiter.onOutputFlushed()` runs once the octets written so far and
   * those `queued` are handed to the OS. Queued octets must be written with {@link callback}.
   */
  wait(waiter: FlushWaiter, queued: number): boolean {
    const socket = this.socket();
    if (socket === undefined) return false;
    if (queued === 0 && socket.writableLength === 0) return true;
    this.waiters.push({ waiter, end: this.written + queued });
    // What the socket holds went out without a callback: an empty write after it brings one.
    if (queued === 0) socket.write(EMPTY, this.settleNow);
    return false;
  }

  /** Tells the waiters whose octets the socket has handed to the OS. */
  settle(): void {
    const waiters = this.waiters;
    const socket = this.socket();
    if (waiters.length === 0 || socket === undefined) return;
    const flushed = this.written - socket.writableLength;
    let n = 0;
    while (n < waiters.length && waiters[n]!.end <= flushed) n++;
    if (n === 0) return;
    for (const { waiter } of waiters.splice(0, n)) waiter.onOutputFlushed();
  }

  /** Forgets every waiter (the connection is gone; their writes fail elsewhere). */
  clear(): void {
    this.waiters = [];
  }
}
