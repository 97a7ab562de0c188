/**
 * HPACK integer representation (RFC 7541 §5.1): an N-bit prefix, then 7-bit continuation
 * bytes, least significant group first. Decoding refuses values above 2^31 - 1 and
 * encodings that run past the end of the block.
 */
import { HpackError } from './h2-error.js';

/** Largest integer accepted when decoding (no HPACK quantity needs more). */
const MAX_DECODED = 0x7fffffff;

/**
 * Writes `value` with a `prefixBits`-bit prefix into `out` at `offset`, OR-ing `firstByteFlags`
 * into the first byte. Returns the end offset. `out` must have room (at most 6 bytes).
 */
export function encodeHpackInteger(
  value: number,
  prefixBits: number,
  firstByteFlags: number,
  out: Uint8Array,
  offset: number,
): number {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) {
    out[offset++] = firstByteFlags | value;
    return offset;
  }
  out[offset++] = firstByteFlags | limit;
  value -= limit;
  while (value >= 128) {
    out[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** Where {@link decodeHpackInteger} reads; advanced past the integer it decodes. */
export interface HpackCursor {
  offset: number;
}

/**
 * Reads an integer with a `prefixBits`-bit prefix at `cursor.offset` (the first byte's flag
 * bits are ignored) and advances the cursor past it. Values above `max` (default 2^31 - 1,
 * enough for HPACK; QPACK asks for 62 bits, RFC 9204 §4.1.1, and passes 2^53 - 1) are refused.
 */
export function decodeHpackInteger(
  input: Uint8Array,
  cursor: HpackCursor,
  end: number,
  prefixBits: number,
  max: number = MAX_DECODED,
): number {
  let offset = cursor.offset;
  if (offset >= end) throw new HpackError('truncated integer (RFC 7541 §5.1)');
  const limit = (1 << prefixBits) - 1;
  let value = input[offset++]! & limit;
  if (value === limit) {
    let shift = 1;
    for (;;) {
      if (offset >= end) throw new HpackError('truncated integer (RFC 7541 §5.1)');
      const byte = input[offset++]!;
      value += (byte & 0x7f) * shift;
      if (value > max) throw new HpackError('integer too large (RFC 7541 §5.1)');
      if ((byte & 0x80) === 0) break;
      shift *= 128;
    }
  }
  cursor.offset = offset;
  return value;
}
