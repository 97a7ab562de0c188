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

/** Ring slots a connection starts with: most connections close few streams at a time. */
const FIRST_SLOTS = 8;

/** The last closed streams of a connection. */
export class ClosedStreamLog {
  private readonly capacity: number;
  /**
   * Pairs of (stream id, end) in a ring, allocated on first use with {@link FIRST_SLOTS} slots
   * and doubled up to `capacity` as it fills: at the full 100 slots from the start, an idle
   * connection that had served one request held 800 bytes for it.
   */
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
    let ring = this.ring;
    let slots = ring === undefined ? 0 : ring.length >> 1;
    if (this.count === slots && slots < this.capacity) {
      ring = this.grow(ring, slots);
      slots = ring.length >> 1;
    }
    const at = this.next * 2;
    if (this.count === slots) {
      const old = ring![at]!;
      if (old > this.forgottenUpTo) this.forgottenUpTo = old;
    } else this.count++;
    ring![at] = id;
    ring![at + 1] = end;
    this.next = (this.next + 1) % slots;
  }

  /** How `id` ended, or `Unknown` when it is not (or no longer) remembered. */
  get(id: number): ClosedStreamEnd {
    const ring = this.ring;
    if (ring === undefined) return ClosedStreamEnd.Unknown;
    const slots = ring.length >> 1;
    // Newest first: the stream a late frame is for closed recently, as a rule.
    for (let k = 1; k <= this.count; k++) {
      const at = ((this.next - k + slots) % slots) * 2;
      if (ring[at] === id) return ring[at + 1] as ClosedStreamEnd;
    }
    return ClosedStreamEnd.Unknown;
  }

  /** A ring of twice the slots (at most `capacity`), the full one's entries in it oldest first. */
  private grow(ring: Int32Array | undefined, slots: number): Int32Array {
    const bigger = new Int32Array(Math.min(this.capacity, Math.max(FIRST_SLOTS, slots * 2)) * 2);
    // Full: its oldest entry is at `next`.
    for (let k = 0; k < this.count; k++) {
      const from = ((this.next + k) % slots) * 2;
      bigger[2 * k] = ring![from]!;
      bigger[2 * k + 1] = ring![from + 1]!;
    }
    this.next = this.count;
    this.ring = bigger;
    return bigger;
  }
}
