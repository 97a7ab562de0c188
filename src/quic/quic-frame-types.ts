/**
 * The QUIC frames of RFC 9000 §19 as typed values, their type codes (§19, §12.4 Table 3), and
 * which packet types may carry each of them (§12.4, §12.5). The codec is in
 * `quic-frame-parser.ts` (bytes to frames) and `quic-frame-writer.ts` (frames to bytes).
 *
 * Integer fields are numbers. The wire allows up to 2^62 - 1; where that could exceed 2^53 - 1
 * the parser says what it does (a saturated limit, or the error the connection would raise
 * anyway). Error codes are opaque 62-bit values (HTTP/3 greases them up to 2^62 - 1, RFC 9114
 * §8.1), so they are bigints.
 */

/** Frame type codes (RFC 9000 §19, §12.4 Table 3). */
export const QuicFrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** 0x08..0x0f: the low three bits are the OFF (0x04), LEN (0x02) and FIN (0x01) flags. */
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
} as const;

/** STREAM frame type flags (RFC 9000 §19.8). */
export const QuicStreamFlag = { OFF: 0x04, LEN: 0x02, FIN: 0x01 } as const;

/** The largest stream offset + 1, and the bound of every varint (RFC 9000 §16, §19.8). */
export const QUIC_MAX_OFFSET = 2 ** 62;
/** The largest stream count MAX_STREAMS / STREAMS_BLOCKED may carry (RFC 9000 §19.11, §19.14). */
export const QUIC_MAX_STREAMS = 2 ** 60;
/** Connection ids are 1..20 bytes in NEW_CONNECTION_ID (§19.15) and 0..20 in v1 headers (§17.2). */
export const QUIC_MAX_CID_LENGTH = 20;
/** Length of a stateless reset token (RFC 9000 §10.3, §19.15). */
export const QUIC_STATELESS_RESET_TOKEN_LENGTH = 16;

/** A run of PADDING bytes (RFC 9000 §19.1); consecutive ones are read as one frame. */
export interface QuicPaddingFrame {
  type: 'padding';
  /** Number of 0x00 bytes. */
  length: number;
}

/** PING (RFC 9000 §19.2). */
export interface QuicPingFrame {
  type: 'ping';
}

/** One contiguous run of acknowledged packet numbers, both ends included. */
export interface QuicAckRange {
  largest: number;
  smallest: number;
}

/** ECN counts of ACK type 0x03 (RFC 9000 §19.3.2). */
export interface QuicEcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/**
 * ACK (RFC 9000 §19.3). `ranges` are the acknowledged runs, largest first, as decoded from the
 * First ACK Range and the Gap / ACK Range Length pairs (§19.3.1); `ranges[0].largest` is the
 * Largest Acknowledged field. `ackDelay` is the encoded value, before the ack_delay_exponent
 * scaling (§18.2), which is the connection's business.
 */
export interface QuicAckFrame {
  type: 'ack';
  ackDelay: number;
  ranges: QuicAckRange[];
  /** Present for type 0x03 (ACK_ECN). */
  ecn?: QuicEcnCounts;
}

/** RESET_STREAM (RFC 9000 §19.4). */
export interface QuicResetStreamFrame {
  type: 'reset_stream';
  streamId: number;
  errorCode: bigint;
  finalSize: number;
}

/** STOP_SENDING (RFC 9000 §19.5). */
export interface QuicStopSendingFrame {
  type: 'stop_sending';
  streamId: number;
  errorCode: bigint;
}

/** CRYPTO (RFC 9000 §19.6). `data` is a slice of the packet payload. */
export interface QuicCryptoFrame {
  type: 'crypto';
  offset: number;
  data: Uint8Array;
}

/** NEW_TOKEN (RFC 9000 §19.7): a non-empty token. */
export interface QuicNewTokenFrame {
  type: 'new_token';
  token: Uint8Array;
}

/**
 * STREAM (RFC 9000 §19.8). Parsed frames say whether the Offset and Length fields were present
 * (`hasLength` false: the data runs to the end of the packet); the writer omits a zero offset
 * and writes the Length field unless `hasLength` is false.
 */
export interface QuicStreamFrame {
  type: 'stream';
  streamId: number;
  offset: number;
  fin: boolean;
  data: Uint8Array;
  /** Whether the Length field is (to be) present; default true when writing. */
  hasLength?: boolean;
}

/** MAX_DATA (RFC 9000 §19.9). */
export interface QuicMaxDataFrame {
  type: 'max_data';
  maximumData: number;
}

/** MAX_STREAM_DATA (RFC 9000 §19.10). */
export interface QuicMaxStreamDataFrame {
  type: 'max_stream_data';
  streamId: number;
  maximumStreamData: number;
}

/** MAX_STREAMS (RFC 9000 §19.11): types 0x12 (bidirectional) and 0x13 (unidirectional). */
export interface QuicMaxStreamsFrame {
  type: 'max_streams';
  bidirectional: boolean;
  maximumStreams: number;
}

/** DATA_BLOCKED (RFC 9000 §19.12). */
export interface QuicDataBlockedFrame {
  type: 'data_blocked';
  maximumData: number;
}

/** STREAM_DATA_BLOCKED (RFC 9000 §19.13). */
export interface QuicStreamDataBlockedFrame {
  type: 'stream_data_blocked';
  streamId: number;
  maximumStreamData: number;
}

/** STREAMS_BLOCKED (RFC 9000 §19.14): types 0x16 (bidirectional) and 0x17 (unidirectional). */
export interface QuicStreamsBlockedFrame {
  type: 'streams_blocked';
  bidirectional: boolean;
  maximumStreams: number;
}

/** NEW_CONNECTION_ID (RFC 9000 §19.15). */
export interface QuicNewConnectionIdFrame {
  type: 'new_connection_id';
  sequenceNumber: number;
  retirePriorTo: number;
  /** 1..20 bytes. */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** RETIRE_CONNECTION_ID (RFC 9000 §19.16). */
export interface QuicRetireConnectionIdFrame {
  type: 'retire_connection_id';
  sequenceNumber: number;
}

/** PATH_CHALLENGE (RFC 9000 §19.17): 8 bytes of data. */
export interface QuicPathChallengeFrame {
  type: 'path_challenge';
  data: Uint8Array;
}

/** PATH_RESPONSE (RFC 9000 §19.18): 8 bytes of data. */
export interface QuicPathResponseFrame {
  type: 'path_response';
  data: Uint8Array;
}

/**
 * CONNECTION_CLOSE (RFC 9000 §19.19): type 0x1c (`application` false: a transport error, with the
 * type of the frame that caused it, 0 when unknown) or 0x1d (`application` true: no frame type).
 * `reason` holds the bytes of the Reason Phrase (UTF-8 by §19.19, but not checked here).
 */
export interface QuicConnectionCloseFrame {
  type: 'connection_close';
  application: boolean;
  errorCode: bigint;
  /** Frame Type field of type 0x1c; 0 for 0x1d. */
  frameType: bigint;
  reason: Uint8Array;
}

/** HANDSHAKE_DONE (RFC 9000 §19.20). */
export interface QuicHandshakeDoneFrame {
  type: 'handshake_done';
}

/** Every RFC 9000 §19 frame. */
export type QuicFrame =
  | QuicPaddingFrame
  | QuicPingFrame
  | QuicAckFrame
  | QuicResetStreamFrame
  | QuicStopSendingFrame
  | QuicCryptoFrame
  | QuicNewTokenFrame
  | QuicStreamFrame
  | QuicMaxDataFrame
  | QuicMaxStreamDataFrame
  | QuicMaxStreamsFrame
  | QuicDataBlockedFrame
  | QuicStreamDataBlockedFrame
  | QuicStreamsBlockedFrame
  | QuicNewConnectionIdFrame
  | QuicRetireConnectionIdFrame
  | QuicPathChallengeFrame
  | QuicPathResponseFrame
  | QuicConnectionCloseFrame
  | QuicHandshakeDoneFrame;

/** The packet types that carry frames (RFC 9000 §12.4: I, 0, H, 1). */
export type QuicFramePacketType = 'initial' | '0rtt' | 'handshake' | '1rtt';

const IH01 = 0b1111;
const IH_1 = 0b1101;
const __01 = 0b0011;
const ___1 = 0b0001;
const BIT: Record<QuicFramePacketType, number> = {
  initial: 0b1000,
  handshake: 0b0100,
  '0rtt': 0b0010,
  '1rtt': 0b0001,
};

/** RFC 9000 §12.4 Table 3 ("Pkts" column), indexed by frame type 0x00..0x1e. */
const ALLOWED: readonly number[] = [
  IH01, // PADDING
  IH01, // PING
  IH_1, // ACK
  IH_1, // ACK_ECN
  __01, // RESET_STREAM
  __01, // STOP_SENDING
  IH_1, // CRYPTO
  ___1, // NEW_TOKEN
  __01, // STREAM 0x08
  __01, // STREAM 0x09
  __01, // STREAM 0x0a
  __01, // STREAM 0x0b
  __01, // STREAM 0x0c
  __01, // STREAM 0x0d
  __01, // STREAM 0x0e
  __01, // STREAM 0x0f
  __01, // MAX_DATA
  __01, // MAX_STREAM_DATA
  __01, // MAX_STREAMS bidirectional
  __01, // MAX_STREAMS unidirectional
  __01, // DATA_BLOCKED
  __01, // STREAM_DATA_BLOCKED
  __01, // STREAMS_BLOCKED bidirectional
  __01, // STREAMS_BLOCKED unidirectional
  __01, // NEW_CONNECTION_ID
  __01, // RETIRE_CONNECTION_ID
  __01, // PATH_CHALLENGE
  ___1, // PATH_RESPONSE
  IH01, // CONNECTION_CLOSE 0x1c
  __01, // CONNECTION_CLOSE 0x1d: only 0x1c may appear in Initial or Handshake (§12.4, §12.5)
  ___1, // HANDSHAKE_DONE
];

/** Whether a frame of `frameType` may appear in a packet of `packetType` (RFC 9000 §12.4). */
export function isFrameAllowedIn(frameType: number, packetType: QuicFramePacketType): boolean {
  const mask = ALLOWED[frameType];
  return mask !== undefined && (mask & BIT[packetType]) !== 0;
}
