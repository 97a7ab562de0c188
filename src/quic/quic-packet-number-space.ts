/**
 * A QUIC packet number space (RFC 9000 §12.3): Initial, Handshake and Application Data, each
 * with its own packet protection keys (RFC 9001 §4.1.4) and their discard (§4.9), its own packet
 * numbers, acknowledgments (RFC 9000 §13.2) and loss detection (RFC 9002 §6), its CRYPTO stream
 * in each direction (RFC 9000 §7.5, §19.6), and the control frames waiting to be sent in it.
 */
import type { Tls13Level } from '../tls13/tls13-handshake.js';
import { QuicAckTracker } from './quic-ack-tracker.js';
import type { QuicCryptoFrame, QuicFrame, QuicFramePacketType } from './quic-frame-types.js';
import type { QuicPacketKeys } from './quic-initial-secrets.js';
import { QuicReassembly } from './quic-reassembly.js';
import { QuicSentPackets } from './quic-sent-packets.js';

/** The three packet number spaces (RFC 9000 §12.3): Initial, Handshake, Application Data. */
export const QUIC_PACKET_NUMBER_SPACES = [0, 1, 2] as const;
/** Index of a packet number space: 0 Initial, 1 Handshake, 2 Application Data. */
export type QuicPacketNumberSpaceIndex = (typeof QUIC_PACKET_NUMBER_SPACES)[number];
/** The TLS encryption level of each space (RFC 9001 §4.1.4). */
export const QUIC_SPACE_LEVEL: readonly Tls13Level[] = ['initial', 'handshake', 'application'];
/** The packet type that carries each space's frames (RFC 9000 §12.4, Table 3). */
export const QUIC_SPACE_PACKET_TYPE: readonly QuicFramePacketType[] = ['initial', 'handshake', '1rtt'];

/** One packet number space: keys, packet numbers, ACK state, sent packets, CRYPTO streams. */
export class QuicPacketNumberSpace {
  readKeys: QuicPacketKeys | undefined;
  writeKeys: QuicPacketKeys | undefined;
  discarded = false;
  nextPacketNumber = 0;
  /** What was received and the ACK owed for it (RFC 9000 §13.2). */
  readonly acks = new QuicAckTracker();
  /** What was sent and not yet acknowledged or lost (RFC 9002 §6). */
  readonly sent = new QuicSentPackets();
  /** Ack-eliciting packets a PTO allows beyond the congestion window. */
  probes = 0;
  cryptoSendOffset = 0;
  cryptoPending: QuicCryptoFrame[] = [];
  readonly cryptoReceived = new QuicReassembly();
  control: QuicFrame[] = [];

  /**
   * Discards the space's keys and state (RFC 9001 §4.9, RFC 9002 §6.4); returns the bytes in
   * flight of the packets that were forgotten. Does nothing (returns 0) the second time.
   */
  discard(): number {
    if (this.discarded) return 0;
    const inFlight = this.sent.discard();
    this.discarded = true;
    this.readKeys = undefined;
    this.writeKeys = undefined;
    this.cryptoPending = [];
    this.acks.clearPending();
    return inFlight;
  }
}
