/**
 * NewReno congestion control of a QUIC connection (RFC 9002 §7): the congestion window and its
 * initial value (§7.2), slow start and congestion avoidance (§7.3.1, §7.3.3), recovery entered
 * once per round trip on loss (§7.3.2), and the bytes in flight it limits (§2, §7). Not
 * implemented: persistent congestion (§7.6), ECN (§7.1), pacing (§7.7).
 */

/** NewReno (RFC 9002 §7); sizes are bytes, times milliseconds. */
export class QuicCongestionController {
  /** The congestion window in bytes. */
  congestionWindow: number;
  /** Bytes of the packets sent and neither acknowledged, lost nor discarded (RFC 9002 §2). */
  bytesInFlight = 0;
  private ssthresh = Number.POSITIVE_INFINITY;
  private recoveryStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxDatagramSize: number) {
    // RFC 9002 §7.2: the initial window.
    this.congestionWindow = Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
  }

  /** Whether the window leaves room for another ack-eliciting packet. */
  hasRoom(): boolean {
    return this.bytesInFlight < this.congestionWindow;
  }

  /** An in-flight packet of `size` bytes was sent. */
  onPacketSent(size: number): void {
    this.bytesInFlight += size;
  }

  /** An in-flight packet sent at `timeSent` was acknowledged (RFC 9002 §7.3). */
  onPacketAcked(size: number, timeSent: number): void {
    this.bytesInFlight -= size;
    // NewReno (RFC 9002 §7.3): no growth for packets sent before recovery started.
    if (timeSent <= this.recoveryStart) return;
    if (this.congestionWindow < this.ssthresh) this.congestionWindow += size;
    else this.congestionWindow += (this.maxDatagramSize * size) / this.congestionWindow;
  }

  /** An in-flight packet was declared lost or its packet number space discarded (RFC 9002 §6.4). */
  removeFromFlight(size: number): void {
    this.bytesInFlight -= size;
  }

  /** Packets were lost, the latest of them sent at `largestLostTime` (RFC 9002 §7.3.2). */
  onCongestionEvent(largestLostTime: number, now: number): void {
    if (largestLostTime <= this.recoveryStart) return;
    // RFC 9002 §7.3.2: enter recovery.
    this.recoveryStart = now;
    this.ssthresh = Math.max(this.congestionWindow / 2, 2 * this.maxDatagramSize);
    this.congestionWindow = this.ssthresh;
  }
}
