/**
 * The receiving side of acknowledgments in one QUIC packet number space: which packet numbers
 * were received (RFC 9000 §12.3, duplicates detected with them, §13.2.3 ranges kept up to a
 * bound), when an ACK is due (§13.2.1: at once in Initial and Handshake, within max_ack_delay or
 * at the second ack-eliciting packet in Application Data) and the ACK frame itself (§13.2,
 * §19.3, its ACK Delay scaled by ack_delay_exponent, §18.2).
 */
import type { QuicAckRange, QuicFrame } from './quic-frame-types.js';

const MAX_ACK_RANGES = 32;

/** Received packet numbers of one packet number space and the ACK owed for them. */
export class QuicAckTracker {
  /** Received packet numbers, largest range first. */
  received: QuicAckRange[] = [];
  largestReceived = -1;
  largestReceivedTime = 0;
  /** Ack-eliciting packets received since our last ACK in this space. */
  ackElicitingSinceAck = 0;
  ackDeadline: number | undefined;

  hasReceived(pn: number): boolean {
    for (const r of this.received) if (pn >= r.smallest && pn <= r.largest) return true;
    return false;
  }

  recordReceived(pn: number): void {
    const rs = this.received;
    let i = 0;
    while (i < rs.length && rs[i]!.smallest > pn + 1) i++;
    if (i < rs.length && rs[i]!.largest + 1 >= pn) {
      const r = rs[i]!;
      if (pn > r.largest) r.largest = pn;
      if (pn < r.smallest) {
        r.smallest = pn;
        const next = rs[i + 1];
        if (next !== undefined && next.largest + 1 >= pn) {
          r.smallest = next.smallest;
          rs.splice(i + 1, 1);
        }
      }
    } else {
      rs.splice(i, 0, { largest: pn, smallest: pn });
      if (rs.length > MAX_ACK_RANGES) rs.pop();
    }
    if (pn > this.largestReceived) this.largestReceived = pn;
  }

  /**
   * Packet `pn`, received at `now`, was ack-eliciting (RFC 9000 §13.2.1): the ACK is due at once
   * when `immediate` (Initial and Handshake), else within `maxAckDelay` ms or at the second one.
   */
  onAckElicitingReceived(pn: number, now: number, immediate: boolean, maxAckDelay: number): void {
    if (pn === this.largestReceived) this.largestReceivedTime = now;
    this.ackElicitingSinceAck++;
    if (this.ackDeadline === undefined) this.ackDeadline = immediate ? now : now + maxAckDelay;
    if (immediate || this.ackElicitingSinceAck >= 2) this.ackDeadline = now;
  }

  /** Whether an ACK is owed (it may still wait for its deadline). */
  hasAckPending(): boolean {
    return this.ackElicitingSinceAck > 0 && this.received.length > 0;
  }

  /** Whether the owed ACK must go out now, even in a packet of its own. */
  isAckDue(now: number): boolean {
    return this.ackDeadline !== undefined && now >= this.ackDeadline;
  }

  /**
   * The ACK frame of what was received (RFC 9000 §19.3); `reportDelay` is false in Initial and
   * Handshake, where the peer ignores the ACK Delay field (RFC 9002 §5.3) and it is sent as 0.
   */
  ackFrame(now: number, reportDelay: boolean, ackDelayExponent: number): QuicFrame {
    const delayMs = reportDelay ? Math.max(0, now - this.largestReceivedTime) : 0;
    return {
      type: 'ack',
      ackDelay: Math.floor((delayMs * 1000) / 2 ** ackDelayExponent),
      ranges: this.received.map((r) => ({ largest: r.largest, smallest: r.smallest })),
    };
  }

  /** No ACK is owed any more: it was put in a packet, or the space was discarded. */
  clearPending(): void {
    this.ackElicitingSinceAck = 0;
    this.ackDeadline = undefined;
  }
}
