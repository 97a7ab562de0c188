/**
 * ProtobufWriter: the Protocol Buffers binary wire format (protobuf.dev "Encoding"), written
 * into one growing Buffer that the caller hands in and takes back, so a batch exporter can
 * reuse one body buffer from batch to batch.
 *
 * - A field is a tag, the varint `(field number << 3) | wire type`, then its value.
 * - VARINT (wire type 0): base-128, least significant group first, the high bit set on every
 *   byte but the last. Always written in the fewest bytes. A negative int64 is its 64-bit
 *   two's complement, ten bytes ("Signed Integers": int64 is not zigzag-encoded).
 * - I64 (1): eight bytes little-endian (fixed64, double).
 * - LEN (2): a varint byte count, then the bytes (strings as UTF-8, bytes, nested messages).
 *
 * The length of a nested message is known only after its content is written. The writer
 * reserves as many bytes for it as the caller expects it to take ({@link begin}), writes the
 * content, then writes the length in front ({@link end}); when the length needs another
 * number of bytes, the content moves by that difference (one `copyWithin`). With the caller's
 * guess right, which it nearly always is (a KeyValue under 128 bytes, a span under 16 KiB),
 * nothing moves and nothing is measured twice.
 */
import { Buffer } from 'node:buffer';

/** Wire types (protobuf "Encoding", "Message Structure"). */
export const WireType = { Varint: 0, I64: 1, Len: 2, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const TWO_32 = 4294967296;

/** Bytes the varint of `value` (a non-negative safe integer) takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/**
 * Writes the varint of a length (below 2^31) at `at`, into room reserved for exactly its
 * bytes: no bounds check, which could grow the buffer and leave behind what follows.
 */
function putLength(buf: Uint8Array, at: number, length: number): void {
  while (length > 0x7f) {
    buf[at++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  buf[at] = length;
}

/** Hex digit values by character code (both cases), -1 elsewhere. */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUES['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUES['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/**
 * Writes the bytes that the hex digits of `hex` stand for at `at` of `buf` (trace and span ids
 * travel as raw bytes in protobuf, as hex in JSON and in `traceparent`); returns the offset
 * after them.
 */
export function putHexBytes(buf: Uint8Array, at: number, hex: string): number {
  const n = hex.length >> 1;
  for (let i = 0; i < n; i++) {
    const high = HEX_VALUES[hex.charCodeAt(2 * i) & 0x7f]!;
    const low = HEX_VALUES[hex.charCodeAt(2 * i + 1) & 0x7f]!;
    buf[at + i] = (high << 4) | (low & 0x0f);
  }
  return at + n;
}

/** Writes the protobuf wire format into a growing buffer (see the file comment). */
export class ProtobufWriter {
  /** The buffer written into; replaced by a larger one when a write does not fit. */
  buf: Buffer;
  /** The offset of the next byte to write. */
  pos = 0;

  constructor(buf: Buffer = Buffer.allocUnsafe(1024)) {
    this.buf = buf;
  }

  /** Starts over at the beginning of `buf`. */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
  }

  /** Makes room for `n` more bytes after {@link pos}. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n, 64));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A field's tag. */
  tag(field: number, wireType: WireType): void {
    this.uint((field << 3) | wireType);
  }

  /** A varint of a non-negative safe integer (uint32, uint64 below 2^53, enums, lengths). */
  uint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (value < 0x80000000) {
      while (value > 0x7f) {
        buf[pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      buf[pos++] = value;
      this.pos = pos;
    } else {
      this.varint64(value >>> 0, Math.floor(value / TWO_32) >>> 0);
    }
  }

  /**
   * An int64 varint of an integer from -2^63 to 2^63 - 1: negative values are their two's
   * complement, ten bytes. Exact for every double in that range (those beyond 2^53 are whole
   * multiples of a power of two, which the 32-bit halves below hold exactly).
   */
  int64(value: number): void {
    if (value >= 0 && value < 0x80000000) {
      this.uint(value);
      return;
    }
    this.ensure(10);
    // ToUint32 is the exact value modulo 2^32; the division by 2^32 is exact, its floor the
    // signed high half, which >>> 0 makes its two's complement.
    this.varint64(value >>> 0, Math.floor(value / TWO_32) >>> 0);
  }

  /** The varint of the 64-bit value `high * 2^32 + low` (both unsigned 32-bit). Room ensured. */
  private varint64(low: number, high: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (high !== 0 || low > 0x7f) {
      buf[pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[pos++] = low;
    this.pos = pos;
  }

  /** A fixed64 from its unsigned 32-bit halves, little-endian. */
  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** A double, IEEE 754 binary64 little-endian. */
  double(value: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  /** Bytes as they are (already encoded fields). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A LEN value of bytes: their length, then the bytes. */
  bytes(bytes: Uint8Array): void {
    this.uint(bytes.length);
    this.raw(bytes);
  }

  /**
   * A LEN value of the bytes the hex digits of `hex` stand for (ids); returns the offset of
   * those bytes (where a copy of this encoding gets another id's).
   */
  hexBytes(hex: string): number {
    const n = hex.length >> 1;
    this.uint(n);
    this.ensure(n);
    const at = this.pos;
    this.pos = putHexBytes(this.buf, at, hex);
    return at;
  }

  /**
   * A LEN value of `text` in UTF-8. Printable ASCII (names, routes, addresses in practice) is
   * copied byte by byte into the length's room for that many bytes; anything else is
   * transcoded natively and the length fixed up by {@link end}.
   */
  string(text: string): void {
    const n = text.length;
    // A UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair, two units, takes 4).
    this.ensure(varintSize(3 * n) + 3 * n);
    const reserve = varintSize(n);
    const start = this.pos + reserve;
    const buf = this.buf;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = start;
        this.pos += buf.write(text, start, 'utf8');
        this.end(start, reserve);
        return;
      }
      buf[start + i] = c;
    }
    putLength(buf, start - reserve, n);
    this.pos = start + n;
  }

  /**
   * Starts a LEN value whose length is not known yet (a nested message): reserves `reserve`
   * bytes for the length and returns where the content starts, to hand to {@link end}.
   */
  begin(reserve: number): number {
    this.ensure(reserve);
    this.pos += reserve;
    return this.pos;
  }

  /**
   * Ends the LEN value begun at `start` with `reserve` bytes for its length: writes the
   * length, moving the content first when the length takes another number of bytes. Returns
   * by how many bytes the content moved (positive: later).
   */
  end(start: number, reserve: number): number {
    const length = this.pos - start;
    const size = varintSize(length);
    const moved = size - reserve;
    if (moved !== 0) {
      this.ensure(moved);
      this.buf.copyWithin(start + moved, start, this.pos);
    }
    putLength(this.buf, start - reserve, length);
    this.pos += moved;
    return moved;
  }

  /** The bytes written so far, as a copy. */
  toBytes(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.pos));
  }
}
