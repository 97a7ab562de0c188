/**
 * Encoders of HTTP/3 frames (RFC 9114 §7.1, §7.2): Type and Length as variable-length
 * integers, then the payload. Each function returns one Buffer ready to write on a stream.
 * Also the decoders of the frames whose payload is a single identifier (CANCEL_PUSH, GOAWAY,
 * MAX_PUSH_ID) and of PUSH_PROMISE, which check that the payload holds exactly its fields (§7.1).
 */
import { Buffer } from 'node:buffer';
import { readVarintBig, varintLength, varintLengthOf, writeVarint } from '../quic/quic-varint.js';
import { H3Error, H3ErrorCode } from './h3-error.js';
import { H3FrameType } from './h3-frame-types.js';

/** A frame of `type` around `payload` (RFC 9114 §7.1). */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(varintLength(type) + varintLength(payload.length) + payload.length);
  let offset = writeVarint(out, 0, type);
  offset = writeVarint(out, offset, payload.length);
  out.set(payload, offset);
  return out;
}

/** The Type and Length of a DATA frame of `length` octets, to send before its payload (§7.2.1). */
export function encodeDataFrameHeader(length: number): Buffer {
  const out = Buffer.allocUnsafe(1 + varintLength(length));
  writeVarint(out, writeVarint(out, 0, H3FrameType.DATA), length);
  return out;
}

/** A DATA frame (RFC 9114 §7.2.1). */
export function encodeDataFrame(data: Uint8Array): Buffer {
  return encodeFrame(H3FrameType.DATA, data);
}

/** A HEADERS frame carrying an encoded field section (RFC 9114 §7.2.2). */
export function encodeHeadersFrame(fieldSection: Uint8Array): Buffer {
  return encodeFrame(H3FrameType.HEADERS, fieldSection);
}

function idFrame(type: number, id: number): Buffer {
  const payload = Buffer.allocUnsafe(varintLength(id));
  writeVarint(payload, 0, id);
  return encodeFrame(type, payload);
}

/** A CANCEL_PUSH frame (RFC 9114 §7.2.3). */
export function encodeCancelPushFrame(pushId: number): Buffer {
  return idFrame(H3FrameType.CANCEL_PUSH, pushId);
}

/** A GOAWAY frame: a stream id from a server, a push id from a client (RFC 9114 §7.2.6). */
export function encodeGoawayFrame(id: number): Buffer {
  return idFrame(H3FrameType.GOAWAY, id);
}

/** A MAX_PUSH_ID frame (RFC 9114 §7.2.7). */
export function encodeMaxPushIdFrame(pushId: number): Buffer {
  return idFrame(H3FrameType.MAX_PUSH_ID, pushId);
}

/** A PUSH_PROMISE frame: Push ID then an encoded field section (RFC 9114 §7.2.5). */
export function encodePushPromiseFrame(pushId: number, fieldSection: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(varintLength(pushId) + fieldSection.length);
  payload.set(fieldSection, writeVarint(payload, 0, pushId));
  return encodeFrame(H3FrameType.PUSH_PROMISE, payload);
}

/**
 * Reads one varint at `offset` of a frame payload as a number; ids above 2^53 - 1 are
 * clamped to the largest safe value of the same residue modulo 4, so that the stream type
 * bits (RFC 9000 §2.1) survive. Throws H3_FRAME_ERROR when the payload ends first (§7.1).
 */
export function readFrameVarint(payload: Uint8Array, offset: number, frame: string): number {
  const value = readVarintBig(payload, offset);
  if (value < 0n)
    throw H3Error.connection(H3ErrorCode.H3_FRAME_ERROR, `${frame} frame truncated (RFC 9114 §7.1)`);
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return Number.MAX_SAFE_INTEGER - 3 + Number(value % 4n);
}

/**
 * The identifier of a CANCEL_PUSH, GOAWAY or MAX_PUSH_ID payload, which must hold exactly one
 * varint (RFC 9114 §7.1: anything else is H3_FRAME_ERROR).
 */
export function decodeIdFrame(payload: Uint8Array, frame: string): number {
  const id = readFrameVarint(payload, 0, frame);
  if (varintLengthOf(payload[0]!) !== payload.length) {
    throw H3Error.connection(
      H3ErrorCode.H3_FRAME_ERROR,
      `${frame} frame payload longer than its identifier (RFC 9114 §7.1)`,
    );
  }
  return id;
}

/** A PUSH_PROMISE payload: Push ID and the encoded field section (RFC 9114 §7.2.5). */
export function decodePushPromiseFrame(payload: Buffer): { pushId: number; fieldSection: Buffer } {
  const pushId = readFrameVarint(payload, 0, 'PUSH_PROMISE');
  return { pushId, fieldSection: payload.subarray(varintLengthOf(payload[0]!)) };
}
