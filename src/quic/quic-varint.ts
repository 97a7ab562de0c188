/**
 * QUIC variable-length integers (RFC 9000 §16), also used by every HTTP/3 frame and stream
 * type (RFC 9114 §7.1) and by QPACK's stream types. The two most significant bits of the first
 * byte give the length (00: 1 byte, 01: 2, 10: 4, 11: 8), the rest is the value in network byte
 * order: up to 2^62 - 1.
 *
 * Values up to 2^53 - 1 are JavaScript numbers; larger ones (rare: stream ids and offsets never
 * get there in practice) are refused with a RangeError when read as numbers, and available as
 * bigints through {@link readVarintBig}.
 */

/** The largest value a varint holds: 2^62 - 1. */
export const VARINT_MAX = (1n << 62n) - 1n;

/** Bytes a varint of `value` takes (RFC 9000 §16, Table 4): 1, 2, 4 or 8. */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Bytes of the varint that starts with `firstByte`. */
export function varintLengthOf(firstByte: number): 1 | 2 | 4 | 8 {
  return (1 << (firstByte >> 6)) as 1 | 2 | 4 | 8;
}

/**
 * Writes `value` (0 .. 2^53 - 1) at `offset` in its shortest form; returns the offset after it.
 * Throws RangeError for a value out of range or a buffer too short.
 */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a varint value: ${value}`);
  const length = varintLength(value);
  if (offset + length > buf.length) throw new RangeError('buffer too short for the varint');
  switch (length) {
    case 1:
      buf[offset] = value;
      break;
    case 2:
      buf[offset] = 0x40 | (value >> 8);
      buf[offset + 1] = value & 0xff;
      break;
    case 4:
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      break;
    default: {
      const high = Math.floor(value / 0x100000000);
      const low = value >>> 0;
      buf[offset] = 0xc0 | (high >>> 24);
      buf[offset + 1] = (high >>> 16) & 0xff;
      buf[offset + 2] = (high >>> 8) & 0xff;
      buf[offset + 3] = high & 0xff;
      buf[offset + 4] = low >>> 24;
      buf[offset + 5] = (low >>> 16) & 0xff;
      buf[offset + 6] = (low >>> 8) & 0xff;
      buf[offset + 7] = low & 0xff;
    }
  }
  return offset + length;
}

/**
 * Writes `value` as a varint of exactly `length` bytes (RFC 9000 §16 allows a longer form than
 * needed: a Length field written before its value is known); returns the offset after it.
 */
export function writeVarintOfLength(
  buf: Uint8Array,
  offset: number,
  value: number,
  length: 1 | 2 | 4 | 8,
): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a varint value: ${value}`);
  if (varintLength(value) > length) throw new RangeError(`${value} does not fit a ${length}-byte varint`);
  if (offset + length > buf.length) throw new RangeError('buffer too short for the varint');
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    buf[offset + i] = v % 256;
    v = Math.floor(v / 256);
  }
  buf[offset] = buf[offset]! | ((31 - Math.clz32(length)) << 6);
  return offset + length;
}

/** Bytes a varint of the bigint `value` takes; RangeError outside 0 .. 2^62 - 1. */
export function varintLengthBig(value: bigint): 1 | 2 | 4 | 8 {
  if (value < 0n || value > VARINT_MAX) throw new RangeError(`not a varint value: ${value}`);
  if (value < 0x40n) return 1;
  if (value < 0x4000n) return 2;
  if (value < 0x40000000n) return 4;
  return 8;
}

/** Writes the bigint `value` (0 .. 2^62 - 1) in its shortest form; returns the offset after it. */
export function writeVarintBig(buf: Uint8Array, offset: number, value: bigint): number {
  const length = varintLengthBig(value);
  if (offset + length > buf.length) throw new RangeError('buffer too short for the varint');
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    buf[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  buf[offset] = buf[offset]! | ((31 - Math.clz32(length)) << 6);
  return offset + length;
}

/** `value` as a varint of its own, in its shortest form. */
export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * The varint at `offset`, or -1 when `buf` ends before it does (read again with more bytes).
 * Throws RangeError for a value above 2^53 - 1 (see {@link readVarintBig}).
 */
export function readVarint(buf: Uint8Array, offset: number): number {
  if (offset >= buf.length) return -1;
  const first = buf[offset]!;
  const length = varintLengthOf(first);
  if (offset + length > buf.length) return -1;
  let value = first & 0x3f;
  if (length === 8) {
    if (value > 0x1f) throw new RangeError('varint above 2^53 - 1: read it with readVarintBig');
    for (let i = 1; i < 8; i++) value = value * 256 + buf[offset + i]!;
    if (!Number.isSafeInteger(value))
      throw new RangeError('varint above 2^53 - 1: read it with readVarintBig');
    return value;
  }
  for (let i = 1; i < length; i++) value = value * 256 + buf[offset + i]!;
  return value;
}

/** The varint at `offset` as a bigint (any value up to 2^62 - 1), or -1n when `buf` ends first. */
export function readVarintBig(buf: Uint8Array, offset: number): bigint {
  if (offset >= buf.length) return -1n;
  const first = buf[offset]!;
  const length = varintLengthOf(first);
  if (offset + length > buf.length) return -1n;
  let value = BigInt(first & 0x3f);
  for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(buf[offset + i]!);
  return value;
}
