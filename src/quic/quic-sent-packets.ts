/**
 * The sending side of loss detection in one QUIC packet number space (RFC 9002 §6): the packets
 * sent and not yet acknowledged or lost, with what each carried (RFC 9002 Appendix A.1), the
 * largest packet number acknowledged (RFC 9000 §13.1, also the base of packet number encoding,
 * §17.1), the RTT sample an ACK gives (RFC 9002 §5.1), and the packet and time thresholds that
 * declare a packet lost (RFC 9002 §6.1, Appendix A.10). The PTO timer that spans the spaces is
 * the connection's (RFC 9002 §6.2, Appendix A.8).
 */
import type { QuicAckRange, QuicFrame } from './quic-frame-types.js';

/** kPacketThreshold (RFC 9002 §6.1.1). */
const PACKET_THRESHOLD = 3;

/** A packet sent and not yet acknowledged or declared lost (RFC 9002 Appendix A.1.1). */
export interface QuicSentPacket {
  timeSent: number;
  size: number;
  ackEliciting: boolean;
  inFlight: boolean;
  /** Frames to send again if this packet is lost (CRYPTO, STREAM, control frames). */
  frames: QuicFrame[];
}

/** The packets sent in one packet number space and their fate (RFC 9002 §6). */
export class QuicSentPackets {
  /** Unacknowledged packets by packet number, in the order they were sent. */
  readonly packets = new Map<number, QuicSentPacket>();
  largestAcked = -1;
  /** When the earliest packet not yet lost becomes lost by the time threshold (RFC 9002 §6.1.2). */
  lossTime: number | undefined;
  timeOfLastAckEliciting = 0;
  /** The packets the last {@link detectLost} declared lost; reused from call to call. */
  private readonly lost: QuicSentPacket[] = [];

  /** Records packet `pn` as sent. */
  onPacketSent(pn: number, packet: QuicSentPacket): void {
    this.packets.set(pn, packet);
    if (packet.ackEliciting) this.timeOfLastAckEliciting = packet.timeSent;
  }

  ackElicitingInFlight(): boolean {
    for (const p of this.packets.values()) if (p.ackEliciting) return true;
    return false;
  }

  /**
   * Removes the packets an ACK with `ranges` acknowledges and appends them to `acked`. Returns the
   * packet to take an RTT sample from: the largest acknowledged when it is newly acknowledged and
   * at least one newly acknowledged packet is ack-eliciting (RFC 9002 §5.1), else undefined.
   */
  takeAcked(ranges: QuicAckRange[], acked: QuicSentPacket[]): QuicSentPacket | undefined {
    const largest = ranges[0]!.largest;
    if (largest > this.largestAcked) this.largestAcked = largest;
    let newlyAckEliciting = false;
    let largestNewly: QuicSentPacket | undefined;
    for (const [pn, p] of this.packets) {
      if (!ranges.some((r) => pn >= r.smallest && pn <= r.largest)) continue;
      this.packets.delete(pn);
      acked.push(p);
      if (p.ackEliciting) newlyAckEliciting = true;
      if (pn === largest) largestNewly = p;
    }
    return newlyAckEliciting ? largestNewly : undefined;
  }

  /**
   * Removes and returns the packets lost at `now` by the packet or time threshold (RFC 9002
   * §6.1, Appendix A.10) and sets {@link lossTime}. The array is reused by the next call.
   */
  detectLost(now: number, lossDelay: number): readonly QuicSentPacket[] {
    const lost = this.lost;
    lost.length = 0;
    this.lossTime = undefined;
    for (const [pn, p] of this.packets) {
      if (pn > this.largestAcked) continue;
      if (p.timeSent + lossDelay <= now || this.largestAcked >= pn + PACKET_THRESHOLD) {
        this.packets.delete(pn);
        lost.push(p);
      } else {
        const t = p.timeSent + lossDelay;
        this.lossTime = this.lossTime === undefined ? t : Math.min(this.lossTime, t);
      }
    }
    return lost;
  }

  /** Forgets every packet (the space's keys were discarded, RFC 9002 §6.4); returns their in-flight bytes. */
  discard(): number {
    let inFlight = 0;
    for (const p of this.packets.values()) if (p.inFlight) inFlight += p.size;
    this.packets.clear();
    this.lossTime = undefined;
    return inFlight;
  }
}
