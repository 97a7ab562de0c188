/**
 * What an `H2Connection` remembers of streams after they close, so that a frame arriving on a
 * closed stream gets the answer RFC 9113 §5.1 asks for:
 *
 * - a stream WE reset (RST_STREAM sent, or refused): the peer may have sent frames before it saw
 *   our reset, and "an endpoint MUST ignore frames that it receives on closed streams after it
 *   has sent a RST_STREAM frame";
 * - a stream the PEER ended (END_STREAM received, or RST_STREAM received): the peer may send
 *   nothing more, so DATA or HEADERS is an error of type STREAM_CLOSED (§5.1, §6.1).
 *
 * Memory is bounded: the last `capacity` closed streams are kept in a ring; older ones are
 * forgotten (RFC 9113 §5.1 lets an endpoint "limit the period over which it ignores frames"),
 * and `forgotten` tells the caller an id may have been known once.
 */

/** How a closed stream ended, as far as late frames are concerned. */
export const enum ClosedStreamEnd {
  /** Not remembered. */
  Unknown = 0,
  /** We sent RST_STREAM (or refused it): late frames are ignored. */
  ResetByUs = 1,
  /** The peer finished sending (END_STREAM or its RST_STREAM): late frames are STREAM_CLOSED. */
  EndedByPeer = 2,
}

/** The last closed streams of a connection. */
export class ClosedStreamLog {
  private readonly capacity: number;
  /** Pairs of (stream id, end) in a ring; allocated on first use. */
  private ring: Int32Array | undefined;
  private next = 0;
  private count = 0;
  /** The highest stream id evicted from the ring (0 when none was). */
  forgottenUpTo = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  /** Remembers that `id` closed with `end`. */
  add(id: number, end: ClosedStreamEnd): void {
    if (this.ring === undefined) this.ring = new Int32Array(this.capacity * 2);
    const ring = this.ring;
    const at = this.next * 2;
    if (this.count === this.capacity) {
      const old = ring[at]!;
      if (old > this.forgottenUpTo) this.forgottenUpTo = old;
    } else this.count++;
    ring[at] = id;
    ring[at + 1] = end;
    this.next = (this.next + 1) % this.capacity;
  }

  /** How `id` ended, or `Unknown` when it is not (or no longer) remembered. */
  get(id: number): ClosedStreamEnd {
    const ring = this.ring;
    if (ring === undefined) return ClosedStreamEnd.Unknown;
    // Newest first: the stream a late frame is for closed recently, as a rule.
    for (let k = 1; k <= this.count; k++) {
      const at = ((this.next - k + this.capacity) % this.capacity) * 2;
      if (ring[at] === id) return ring[at + 1] as ClosedStreamEnd;
    }
    return ClosedStreamEnd.Unknown;
  }
}
