/**
 * The QUIC frame reader (RFC 9000 §12.4, §19): turns the plaintext payload of one packet into
 * typed frames. A payload is whole when it arrives (packets are not split across datagrams), so
 * this is a cursor over one buffer, not a streaming state machine; every length is checked
 * against the bytes left before it is used, so a frame never reads past its packet, and every
 * loop is bounded by the payload size. Byte fields (`data`, `token`, `reason`, ...) are
 * zero-copy slices of the payload.
 *
 * Malformed frames throw {@link QuicError} with the transport error code of §20.1: a truncated
 * or impossible field is FRAME_ENCODING_ERROR (§12.4, §19), a known frame type in a longer
 * encoding than needed or a frame in a packet type that may not carry it is PROTOCOL_VIOLATION
 * (§12.4), and so on field by field below.
 */
import { QuicTransportErrorCode as E, QuicError, type QuicErrorKind } from './quic-error.js';
import {
  isFrameAllowedIn,
  QUIC_MAX_CID_LENGTH,
  QUIC_MAX_OFFSET,
  QUIC_MAX_STREAMS,
  QUIC_STATELESS_RESET_TOKEN_LENGTH,
  type QuicAckFrame,
  type QuicAckRange,
  type QuicFrame,
  type QuicFramePacketType,
  QuicStreamFlag,
  QuicFrameType as T,
} from './quic-frame-types.js';
import { readVarintBig, varintLengthOf } from './quic-varint.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const PATH_DATA_LENGTH = 8;

/** A frame and the offset just after it. */
export interface ParsedQuicFrame {
  frame: QuicFrame;
  end: number;
}

/**
 * Every frame of a packet payload, in order (RFC 9000 §12.4). Throws {@link QuicError} for a
 * malformed frame, an empty payload (PROTOCOL_VIOLATION, §12.4), or, when `packetType` is given,
 * a frame that type of packet may not carry (PROTOCOL_VIOLATION, §12.4 Table 3).
 */
export function parseQuicFrames(payload: Uint8Array, packetType?: QuicFramePacketType): QuicFrame[] {
  if (payload.length === 0) {
    throw new QuicError(
      'AVX_QUIC_PROTOCOL_VIOLATION',
      E.PROTOCOL_VIOLATION,
      'a packet with no frames (RFC 9000 §12.4)',
    );
  }
  const frames: QuicFrame[] = [];
  let pos = 0;
  while (pos < payload.length) {
    const type = payload[pos]!;
    if (packetType !== undefined && type <= T.HANDSHAKE_DONE && !isFrameAllowedIn(type, packetType)) {
      throw new QuicError(
        'AVX_QUIC_PROTOCOL_VIOLATION',
        E.PROTOCOL_VIOLATION,
        `frame type 0x${type.toString(16)} is not allowed in a ${packetType} packet (RFC 9000 §12.4)`,
        type,
      );
    }
    const parsed = parseQuicFrame(payload, pos);
    frames.push(parsed.frame);
    pos = parsed.end;
  }
  return frames;
}

/** The frame that starts at `offset` of `payload` (which ends where the packet payload ends). */
export function parseQuicFrame(payload: Uint8Array, offset: number): ParsedQuicFrame {
  const r = new FrameCursor(payload, offset);
  const frame = r.frame();
  return { frame, end: r.pos };
}

/** Reads one frame; `pos` advances over it. */
class FrameCursor {
  pos: number;
  private type = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }

  frame(): QuicFrame {
    this.type = this.frameType();
    const type = this.type;
    switch (type) {
      case T.PADDING: {
        // RFC 9000 §19.1: one byte each; a run of them is read as one frame.
        const start = this.pos - 1;
        while (this.pos < this.buf.length && this.buf[this.pos] === 0) this.pos++;
        return { type: 'padding', length: this.pos - start };
      }
      case T.PING:
        return { type: 'ping' };
      case T.ACK:
      case T.ACK_ECN:
        return this.ack(type === T.ACK_ECN);
      case T.RESET_STREAM: {
        // RFC 9000 §19.4
        const streamId = this.streamId();
        const errorCode = this.big('Application Protocol Error Code');
        const finalSize = this.number('Final Size', 'AVX_QUIC_FLOW_CONTROL', E.FLOW_CONTROL_ERROR);
        return { type: 'reset_stream', streamId, errorCode, finalSize };
      }
      case T.STOP_SENDING: {
        // RFC 9000 §19.5
        const streamId = this.streamId();
        const errorCode = this.big('Application Protocol Error Code');
        return { type: 'stop_sending', streamId, errorCode };
      }
      case T.CRYPTO: {
        // RFC 9000 §19.6: offset + length must stay below 2^62.
        const offset = this.number('Offset', 'AVX_QUIC_CRYPTO_BUFFER', E.CRYPTO_BUFFER_EXCEEDED);
        const data = this.bytes(this.length('Length'));
        this.checkEnd(offset, data.length);
        return { type: 'crypto', offset, data };
      }
      case T.NEW_TOKEN: {
        // RFC 9000 §19.7: an empty token is FRAME_ENCODING_ERROR.
        const length = this.length('Token Length');
        if (length === 0) this.encodingError('NEW_TOKEN with an empty token (RFC 9000 §19.7)');
        return { type: 'new_token', token: this.bytes(length) };
      }
      case T.MAX_DATA:
        // RFC 9000 §19.9
        return { type: 'max_data', maximumData: this.limit('Maximum Data') };
      case T.MAX_STREAM_DATA: {
        // RFC 9000 §19.10
        const streamId = this.streamId();
        return { type: 'max_stream_data', streamId, maximumStreamData: this.limit('Maximum Stream Data') };
      }
      case T.MAX_STREAMS_BIDI:
      case T.MAX_STREAMS_UNI:
        // RFC 9000 §19.11
        return {
          type: 'max_streams',
          bidirectional: type === T.MAX_STREAMS_BIDI,
          maximumStreams: this.streamCount('MAX_STREAMS (RFC 9000 §19.11)'),
        };
      case T.DATA_BLOCKED:
        // RFC 9000 §19.12
        return { type: 'data_blocked', maximumData: this.limit('Maximum Data') };
      case T.STREAM_DATA_BLOCKED: {
        // RFC 9000 §19.13
        const streamId = this.streamId();
        return {
          type: 'stream_data_blocked',
          streamId,
          maximumStreamData: this.limit('Maximum Stream Data'),
        };
      }
      case T.STREAMS_BLOCKED_BIDI:
      case T.STREAMS_BLOCKED_UNI:
        // RFC 9000 §19.14
        return {
          type: 'streams_blocked',
          bidirectional: type === T.STREAMS_BLOCKED_BIDI,
          maximumStreams: this.streamCount('STREAMS_BLOCKED (RFC 9000 §19.14)'),
        };
      case T.NEW_CONNECTION_ID:
        return this.newConnectionId();
      case T.RETIRE_CONNECTION_ID:
        // RFC 9000 §19.16: retiring a sequence number never sent is PROTOCOL_VIOLATION; one
        // above 2^53 - 1 was certainly never sent.
        return {
          type: 'retire_connection_id',
          sequenceNumber: this.number('Sequence Number', 'AVX_QUIC_PROTOCOL_VIOLATION', E.PROTOCOL_VIOLATION),
        };
      case T.PATH_CHALLENGE:
        // RFC 9000 §19.17
        return { type: 'path_challenge', data: this.bytes(PATH_DATA_LENGTH) };
      case T.PATH_RESPONSE:
        // RFC 9000 §19.18
        return { type: 'path_response', data: this.bytes(PATH_DATA_LENGTH) };
      case T.CONNECTION_CLOSE:
      case T.CONNECTION_CLOSE_APP: {
        // RFC 9000 §19.19
        const application = type === T.CONNECTION_CLOSE_APP;
        const errorCode = this.big('Error Code');
        const frameType = application ? 0n : this.big('Frame Type');
        const reason = this.bytes(this.length('Reason Phrase Length'));
        return { type: 'connection_close', application, errorCode, frameType, reason };
      }
      case T.HANDSHAKE_DONE:
        // RFC 9000 §19.20
        return { type: 'handshake_done' };
      default:
        if (type >= T.STREAM && type <= (T.STREAM | 0x07)) return this.stream(type);
        throw new QuicError(
          'AVX_QUIC_FRAME_ENCODING',
          E.FRAME_ENCODING_ERROR,
          `unknown frame type 0x${type.toString(16)} (RFC 9000 §12.4)`,
          type,
        );
    }
  }

  /** RFC 9000 §12.4: frame types are varints in their shortest form (one byte for §19's). */
  private frameType(): number {
    const first = this.buf[this.pos]!;
    if (first < 0x40) {
      this.pos++;
      return first;
    }
    const value = readVarintBig(this.buf, this.pos);
    if (value < 0n) this.encodingError('frame type cut short (RFC 9000 §12.4)');
    this.pos += varintLengthOf(first);
    if (value <= BigInt(T.HANDSHAKE_DONE)) {
      throw new QuicError(
        'AVX_QUIC_PROTOCOL_VIOLATION',
        E.PROTOCOL_VIOLATION,
        `frame type 0x${value.toString(16)} in a longer encoding than needed (RFC 9000 §12.4)`,
        Number(value),
      );
    }
    const type = value > SAFE ? 0 : Number(value);
    throw new QuicError(
      'AVX_QUIC_FRAME_ENCODING',
      E.FRAME_ENCODING_ERROR,
      `unknown frame type 0x${value.toString(16)} (RFC 9000 §12.4)`,
      type,
    );
  }

  /** RFC 9000 §19.3, §19.3.1, §19.3.2. */
  private ack(withEcn: boolean): QuicAckFrame {
    // An acknowledgment of a packet never sent is PROTOCOL_VIOLATION (§13.1); we never send
    // 2^53 packets.
    const largest = this.number('Largest Acknowledged', 'AVX_QUIC_PROTOCOL_VIOLATION', E.PROTOCOL_VIOLATION);
    const ackDelay = this.limit('ACK Delay');
    const rangeCount = this.varint('ACK Range Count');
    // Each further range takes at least two bytes: a count beyond that cannot be honest.
    if (rangeCount > BigInt((this.buf.length - this.pos) >> 1)) {
      this.encodingError('ACK Range Count larger than the frame (RFC 9000 §19.3)');
    }
    const firstRange = this.varint('First ACK Range');
    if (firstRange > BigInt(largest)) {
      this.encodingError('First ACK Range acknowledges a negative packet number (RFC 9000 §19.3.1)');
    }
    let smallest = largest - Number(firstRange);
    const ranges: QuicAckRange[] = [{ largest, smallest }];
    for (let i = Number(rangeCount); i > 0; i--) {
      const gap = this.varint('Gap');
      const length = this.varint('ACK Range Length');
      // §19.3.1: largest = previous smallest - gap - 2; smallest = largest - length.
      const next = BigInt(smallest) - gap - 2n;
      if (next < 0n || length > next) {
        this.encodingError('ACK range acknowledges a negative packet number (RFC 9000 §19.3.1)');
      }
      const rangeLargest = Number(next);
      smallest = rangeLargest - Number(length);
      ranges.push({ largest: rangeLargest, smallest });
    }
    const frame: QuicAckFrame = { type: 'ack', ackDelay, ranges };
    if (withEcn)
      frame.ecn = {
        ect0: this.limit('ECT0 Count'),
        ect1: this.limit('ECT1 Count'),
        ce: this.limit('ECN-CE Count'),
      };
    return frame;
  }

  /** RFC 9000 §19.8: type 0b00001XXX with OFF, LEN, FIN bits. */
  private stream(type: number): QuicFrame {
    const streamId = this.streamId();
    const offset =
      type & QuicStreamFlag.OFF ? this.number('Offset', 'AVX_QUIC_FLOW_CONTROL', E.FLOW_CONTROL_ERROR) : 0;
    const hasLength = (type & QuicStreamFlag.LEN) !== 0;
    const length = hasLength ? this.length('Length') : this.buf.length - this.pos;
    const data = this.bytes(length);
    this.checkEnd(offset, length);
    return { type: 'stream', streamId, offset, fin: (type & QuicStreamFlag.FIN) !== 0, data, hasLength };
  }

  /** RFC 9000 §19.15. */
  private newConnectionId(): QuicFrame {
    const sequenceNumber = this.number(
      'Sequence Number',
      'AVX_QUIC_PROTOCOL_VIOLATION',
      E.PROTOCOL_VIOLATION,
    );
    const retirePriorTo = this.varint('Retire Prior To');
    // "The value in the Retire Prior To field MUST be less than or equal to the value in the
    // Sequence Number field" (§19.15): FRAME_ENCODING_ERROR.
    if (retirePriorTo > BigInt(sequenceNumber)) {
      this.encodingError('Retire Prior To above Sequence Number (RFC 9000 §19.15)');
    }
    if (this.pos >= this.buf.length) this.encodingError('NEW_CONNECTION_ID cut short (RFC 9000 §19.15)');
    const length = this.buf[this.pos++]!;
    if (length < 1 || length > QUIC_MAX_CID_LENGTH) {
      this.encodingError(`connection id length ${length} outside 1..20 (RFC 9000 §19.15)`);
    }
    const connectionId = this.bytes(length);
    const statelessResetToken = this.bytes(QUIC_STATELESS_RESET_TOKEN_LENGTH);
    return {
      type: 'new_connection_id',
      sequenceNumber,
      retirePriorTo: Number(retirePriorTo),
      connectionId,
      statelessResetToken,
    };
  }

  /** A varint as a bigint; FRAME_ENCODING_ERROR when the frame ends first. */
  private varint(field: string): bigint {
    const value = readVarintBig(this.buf, this.pos);
    if (value < 0n) this.encodingError(`${field} cut short (RFC 9000 §19)`);
    this.pos += varintLengthOf(this.buf[this.pos]!);
    return value;
  }

  /** An opaque 62-bit value (error codes). */
  private big(field: string): bigint {
    return this.varint(field);
  }

  /** A varint that must be below 2^53; above it the connection would fail with `errorCode`. */
  private number(field: string, kind: QuicErrorKind, errorCode: number): number {
    const value = this.varint(field);
    if (value > SAFE) {
      throw new QuicError(kind, errorCode, `${field} ${value} is beyond any limit we allow`, this.type);
    }
    return Number(value);
  }

  /** A stream id: one above 2^53 - 1 exceeds any stream limit we give (§4.6: STREAM_LIMIT_ERROR). */
  private streamId(): number {
    return this.number('Stream ID', 'AVX_QUIC_STREAM_LIMIT', E.STREAM_LIMIT_ERROR);
  }

  /** A credit or limit: values above 2^53 - 1 read as Number.MAX_SAFE_INTEGER (never reached). */
  private limit(field: string): number {
    const value = this.varint(field);
    return value > SAFE ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  /** A stream count: at most 2^60 (§19.11, §19.14: FRAME_ENCODING_ERROR), saturated as {@link limit}. */
  private streamCount(what: string): number {
    const value = this.varint('Maximum Streams');
    if (value > BigInt(QUIC_MAX_STREAMS)) this.encodingError(`${what} above 2^60`);
    return value > SAFE ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  /** A byte count that must fit in what is left of the payload. */
  private length(field: string): number {
    const value = this.varint(field);
    if (value > BigInt(this.buf.length - this.pos)) {
      this.encodingError(`${field} ${value} runs past the end of the packet (RFC 9000 §19)`);
    }
    return Number(value);
  }

  private bytes(length: number): Uint8Array {
    if (length > this.buf.length - this.pos) this.encodingError('frame cut short (RFC 9000 §19)');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** RFC 9000 §19.6, §19.8: the sum of offset and length cannot exceed 2^62 - 1. */
  private checkEnd(offset: number, length: number): void {
    if (offset + length >= QUIC_MAX_OFFSET) this.encodingError('data ends beyond 2^62 - 1 (RFC 9000 §19.8)');
  }

  private encodingError(message: string): never {
    throw new QuicError('AVX_QUIC_FRAME_ENCODING', E.FRAME_ENCODING_ERROR, message, this.type);
  }
}
