/**
 * The QUIC frame writer (RFC 9000 §19): serializes typed frames into a packet payload buffer,
 * every varint in its shortest form (§16) and every frame type in one byte (§12.4). The caller
 * owns the buffer (a packet being assembled); {@link quicFrameSize} says how much a frame
 * takes so it can decide what fits. Frames that break their own rules (an empty NEW_TOKEN, a
 * connection id longer than 20 bytes, ACK ranges out of order, ...) are programming errors and
 * throw RangeError, as do buffers too short.
 */
import {
  QUIC_MAX_CID_LENGTH,
  QUIC_MAX_OFFSET,
  QUIC_MAX_STREAMS,
  QUIC_STATELESS_RESET_TOKEN_LENGTH,
  type QuicAckFrame,
  type QuicFrame,
  QuicStreamFlag,
  QuicFrameType as T,
} from './quic-frame-types.js';
import { varintLength, varintLengthBig, writeVarint, writeVarintBig } from './quic-varint.js';

function put(buf: Uint8Array, offset: number, bytes: Uint8Array): number {
  if (offset + bytes.length > buf.length) throw new RangeError('buffer too short for the frame');
  buf.set(bytes, offset);
  return offset + bytes.length;
}

function putByte(buf: Uint8Array, offset: number, byte: number): number {
  if (offset >= buf.length) throw new RangeError('buffer too short for the frame');
  buf[offset] = byte;
  return offset + 1;
}

/** Checks the ACK ranges (largest first, disjoint, not adjacent: §19.3.1) and returns them. */
function checkedAckRanges(frame: QuicAckFrame): QuicAckFrame['ranges'] {
  const ranges = frame.ranges;
  if (ranges.length === 0) throw new RangeError('an ACK frame needs at least one range (RFC 9000 §19.3)');
  let previousSmallest = Number.POSITIVE_INFINITY;
  for (const range of ranges) {
    if (!(range.smallest >= 0 && range.smallest <= range.largest)) {
      throw new RangeError(`bad ACK range ${range.smallest}..${range.largest}`);
    }
    // The Gap field encodes (previous smallest - largest - 2): it cannot be negative.
    if (range.largest > previousSmallest - 2) {
      throw new RangeError('ACK ranges must be largest first with a gap of at least one (RFC 9000 §19.3.1)');
    }
    previousSmallest = range.smallest;
  }
  return ranges;
}

function streamType(frame: Extract<QuicFrame, { type: 'stream' }>): number {
  let type = T.STREAM;
  if (frame.offset > 0) type |= QuicStreamFlag.OFF;
  if (frame.hasLength !== false) type |= QuicStreamFlag.LEN;
  if (frame.fin) type |= QuicStreamFlag.FIN;
  return type;
}

/** Bytes `frame` takes on the wire. */
export function quicFrameSize(frame: QuicFrame): number {
  const v = varintLength;
  switch (frame.type) {
    case 'padding':
      return frame.length;
    case 'ping':
    case 'handshake_done':
      return 1;
    case 'ack': {
      const ranges = checkedAckRanges(frame);
      const first = ranges[0]!;
      let size =
        1 + v(first.largest) + v(frame.ackDelay) + v(ranges.length - 1) + v(first.largest - first.smallest);
      for (let i = 1; i < ranges.length; i++) {
        const r = ranges[i]!;
        size += v(ranges[i - 1]!.smallest - r.largest - 2) + v(r.largest - r.smallest);
      }
      if (frame.ecn) size += v(frame.ecn.ect0) + v(frame.ecn.ect1) + v(frame.ecn.ce);
      return size;
    }
    case 'reset_stream':
      return 1 + v(frame.streamId) + varintLengthBig(frame.errorCode) + v(frame.finalSize);
    case 'stop_sending':
      return 1 + v(frame.streamId) + varintLengthBig(frame.errorCode);
    case 'crypto':
      return 1 + v(frame.offset) + v(frame.data.length) + frame.data.length;
    case 'new_token':
      return 1 + v(frame.token.length) + frame.token.length;
    case 'stream':
      return (
        1 +
        v(frame.streamId) +
        (frame.offset > 0 ? v(frame.offset) : 0) +
        (frame.hasLength !== false ? v(frame.data.length) : 0) +
        frame.data.length
      );
    case 'max_data':
    case 'data_blocked':
      return 1 + v(frame.maximumData);
    case 'max_stream_data':
    case 'stream_data_blocked':
      return 1 + v(frame.streamId) + v(frame.maximumStreamData);
    case 'max_streams':
    case 'streams_blocked':
      return 1 + v(frame.maximumStreams);
    case 'new_connection_id':
      return (
        1 +
        v(frame.sequenceNumber) +
        v(frame.retirePriorTo) +
        1 +
        frame.connectionId.length +
        QUIC_STATELESS_RESET_TOKEN_LENGTH
      );
    case 'retire_connection_id':
      return 1 + v(frame.sequenceNumber);
    case 'path_challenge':
    case 'path_response':
      return 1 + 8;
    case 'connection_close':
      return (
        1 +
        varintLengthBig(frame.errorCode) +
        (frame.application ? 0 : varintLengthBig(frame.frameType)) +
        v(frame.reason.length) +
        frame.reason.length
      );
  }
}

/** Writes `frame` at `offset` of `buf`; returns the offset after it. */
export function writeQuicFrame(buf: Uint8Array, offset: number, frame: QuicFrame): number {
  let p = offset;
  switch (frame.type) {
    case 'padding': {
      // RFC 9000 §19.1
      if (!Number.isSafeInteger(frame.length) || frame.length < 1) throw new RangeError('bad PADDING length');
      if (p + frame.length > buf.length) throw new RangeError('buffer too short for the frame');
      buf.fill(0, p, p + frame.length);
      return p + frame.length;
    }
    case 'ping':
      return putByte(buf, p, T.PING); // §19.2
    case 'ack': {
      // RFC 9000 §19.3: Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range,
      // then (Gap, ACK Range Length) pairs, then ECN counts for type 0x03.
      const ranges = checkedAckRanges(frame);
      const first = ranges[0]!;
      p = putByte(buf, p, frame.ecn ? T.ACK_ECN : T.ACK);
      p = writeVarint(buf, p, first.largest);
      p = writeVarint(buf, p, frame.ackDelay);
      p = writeVarint(buf, p, ranges.length - 1);
      p = writeVarint(buf, p, first.largest - first.smallest);
      for (let i = 1; i < ranges.length; i++) {
        const r = ranges[i]!;
        p = writeVarint(buf, p, ranges[i - 1]!.smallest - r.largest - 2);
        p = writeVarint(buf, p, r.largest - r.smallest);
      }
      if (frame.ecn) {
        p = writeVarint(buf, p, frame.ecn.ect0);
        p = writeVarint(buf, p, frame.ecn.ect1);
        p = writeVarint(buf, p, frame.ecn.ce);
      }
      return p;
    }
    case 'reset_stream':
      // RFC 9000 §19.4
      p = putByte(buf, p, T.RESET_STREAM);
      p = writeVarint(buf, p, frame.streamId);
      p = writeVarintBig(buf, p, frame.errorCode);
      return writeVarint(buf, p, frame.finalSize);
    case 'stop_sending':
      // RFC 9000 §19.5
      p = putByte(buf, p, T.STOP_SENDING);
      p = writeVarint(buf, p, frame.streamId);
      return writeVarintBig(buf, p, frame.errorCode);
    case 'crypto':
      // RFC 9000 §19.6
      if (frame.offset + frame.data.length >= QUIC_MAX_OFFSET)
        throw new RangeError('CRYPTO data beyond 2^62 - 1');
      p = putByte(buf, p, T.CRYPTO);
      p = writeVarint(buf, p, frame.offset);
      p = writeVarint(buf, p, frame.data.length);
      return put(buf, p, frame.data);
    case 'new_token':
      // RFC 9000 §19.7
      if (frame.token.length === 0) throw new RangeError('NEW_TOKEN needs a token (RFC 9000 §19.7)');
      p = putByte(buf, p, T.NEW_TOKEN);
      p = writeVarint(buf, p, frame.token.length);
      return put(buf, p, frame.token);
    case 'stream':
      // RFC 9000 §19.8
      if (frame.offset + frame.data.length >= QUIC_MAX_OFFSET)
        throw new RangeError('STREAM data beyond 2^62 - 1');
      p = putByte(buf, p, streamType(frame));
      p = writeVarint(buf, p, frame.streamId);
      if (frame.offset > 0) p = writeVarint(buf, p, frame.offset);
      if (frame.hasLength !== false) p = writeVarint(buf, p, frame.data.length);
      return put(buf, p, frame.data);
    case 'max_data':
      // RFC 9000 §19.9
      p = putByte(buf, p, T.MAX_DATA);
      return writeVarint(buf, p, frame.maximumData);
    case 'max_stream_data':
      // RFC 9000 §19.10
      p = putByte(buf, p, T.MAX_STREAM_DATA);
      p = writeVarint(buf, p, frame.streamId);
      return writeVarint(buf, p, frame.maximumStreamData);
    case 'max_streams':
      // RFC 9000 §19.11
      if (frame.maximumStreams > QUIC_MAX_STREAMS) throw new RangeError('MAX_STREAMS above 2^60');
      p = putByte(buf, p, frame.bidirectional ? T.MAX_STREAMS_BIDI : T.MAX_STREAMS_UNI);
      return writeVarint(buf, p, frame.maximumStreams);
    case 'data_blocked':
      // RFC 9000 §19.12
      p = putByte(buf, p, T.DATA_BLOCKED);
      return writeVarint(buf, p, frame.maximumData);
    case 'stream_data_blocked':
      // RFC 9000 §19.13
      p = putByte(buf, p, T.STREAM_DATA_BLOCKED);
      p = writeVarint(buf, p, frame.streamId);
      return writeVarint(buf, p, frame.maximumStreamData);
    case 'streams_blocked':
      // RFC 9000 §19.14
      if (frame.maximumStreams > QUIC_MAX_STREAMS) throw new RangeError('STREAMS_BLOCKED above 2^60');
      p = putByte(buf, p, frame.bidirectional ? T.STREAMS_BLOCKED_BIDI : T.STREAMS_BLOCKED_UNI);
      return writeVarint(buf, p, frame.maximumStreams);
    case 'new_connection_id': {
      // RFC 9000 §19.15
      const cid = frame.connectionId;
      if (cid.length < 1 || cid.length > QUIC_MAX_CID_LENGTH)
        throw new RangeError('connection id must be 1..20 bytes');
      if (frame.statelessResetToken.length !== QUIC_STATELESS_RESET_TOKEN_LENGTH) {
        throw new RangeError('stateless reset token must be 16 bytes');
      }
      if (frame.retirePriorTo > frame.sequenceNumber)
        throw new RangeError('Retire Prior To above Sequence Number');
      p = putByte(buf, p, T.NEW_CONNECTION_ID);
      p = writeVarint(buf, p, frame.sequenceNumber);
      p = writeVarint(buf, p, frame.retirePriorTo);
      p = putByte(buf, p, cid.length);
      p = put(buf, p, cid);
      return put(buf, p, frame.statelessResetToken);
    }
    case 'retire_connection_id':
      // RFC 9000 §19.16
      p = putByte(buf, p, T.RETIRE_CONNECTION_ID);
      return writeVarint(buf, p, frame.sequenceNumber);
    case 'path_challenge':
    case 'path_response':
      // RFC 9000 §19.17, §19.18
      if (frame.data.length !== 8) throw new RangeError('path data must be 8 bytes');
      p = putByte(buf, p, frame.type === 'path_challenge' ? T.PATH_CHALLENGE : T.PATH_RESPONSE);
      return put(buf, p, frame.data);
    case 'connection_close':
      // RFC 9000 §19.19
      p = putByte(buf, p, frame.application ? T.CONNECTION_CLOSE_APP : T.CONNECTION_CLOSE);
      p = writeVarintBig(buf, p, frame.errorCode);
      if (!frame.application) p = writeVarintBig(buf, p, frame.frameType);
      p = writeVarint(buf, p, frame.reason.length);
      return put(buf, p, frame.reason);
    case 'handshake_done':
      return putByte(buf, p, T.HANDSHAKE_DONE); // §19.20
  }
}

/** `frames` serialized back to back into a new buffer of their exact size. */
export function encodeQuicFrames(frames: readonly QuicFrame[]): Uint8Array {
  let size = 0;
  for (const frame of frames) size += quicFrameSize(frame);
  const out = new Uint8Array(size);
  let p = 0;
  for (const frame of frames) p = writeQuicFrame(out, p, frame);
  return out;
}
