/**
 * QPACK wire primitives (RFC 9204 §4.1): prefixed integers (§4.1.1) and string literals
 * (§4.1.2), plus the growable buffer instructions are written into. The integer code and the
 * Huffman code are shared with HPACK (src/h2): RFC 9204 §4.1.1 and §4.1.2 reuse RFC 7541 §5.1
 * and §5.2 unchanged, except that a QPACK string's length may have a 3-, 5- or 7-bit prefix
 * with the Huffman flag just above it.
 *
 * Strings are latin1 strings of the field's octets, as in the HPACK code.
 */
import { Buffer } from 'node:buffer';
import { HpackError } from '../h2/h2-error.js';
import { decodeHpackInteger, encodeHpackInteger, type HpackCursor } from '../h2/hpack-integer.js';
import { HuffmanCodec } from '../h2/huffman-codec.js';
import type { QpackError } from './qpack-error.js';

/** Builds the error to throw for a malformed primitive (the kind depends on the stream). */
export type QpackFailure = (message: string) => QpackError;

/** Where the readers below read; advanced past what they decode. */
export type QpackCursor = HpackCursor;

/**
 * RFC 9204 §4.1.1: the offset just after the prefixed integer starting at `offset`, or -1 when
 * it does not end before `end` (more bytes are needed).
 */
export function prefixedIntegerEnd(
  input: Uint8Array,
  offset: number,
  end: number,
  prefixBits: number,
): number {
  if (offset >= end) return -1;
  const limit = (1 << prefixBits) - 1;
  if ((input[offset]! & limit) !== limit) return offset + 1;
  for (let i = offset + 1; i < end; i++) if ((input[i]! & 0x80) === 0) return i + 1;
  return -1;
}

/**
 * RFC 9204 §4.1.2: the offset just after the string literal whose length prefix starts at
 * `offset`, or -1 when it does not end before `end`. A malformed length still throws.
 */
export function stringLiteralEnd(
  input: Uint8Array,
  offset: number,
  end: number,
  prefixBits: number,
  fail: QpackFailure,
): number {
  const lengthEnd = prefixedIntegerEnd(input, offset, end, prefixBits);
  if (lengthEnd === -1) return -1;
  const cursor = { offset };
  const length = readPrefixedInteger(input, cursor, end, prefixBits, fail);
  const stop = cursor.offset + length;
  return stop <= end ? stop : -1;
}

/** RFC 9204 §4.1.1: reads a prefixed integer (the first byte's flag bits are ignored). */
export function readPrefixedInteger(
  input: Uint8Array,
  cursor: QpackCursor,
  end: number,
  prefixBits: number,
  fail: QpackFailure,
): number {
  if (prefixedIntegerEnd(input, cursor.offset, end, prefixBits) === -1) {
    throw fail('truncated prefixed integer (RFC 9204 §4.1.1)');
  }
  try {
    // RFC 9204 §4.1.1 asks for 62-bit integers (stream ids in decoder-stream instructions);
    // JavaScript numbers hold 53 bits exactly, more than any stream id a connection reaches.
    return decodeHpackInteger(input, cursor, end, prefixBits, Number.MAX_SAFE_INTEGER);
  } catch (err) {
    if (err instanceof HpackError) throw fail('prefixed integer above 2^53 - 1 (RFC 9204 §4.1.1)');
    throw err;
  }
}

/**
 * RFC 9204 §4.1.2: reads a string literal whose Huffman flag is the bit above a
 * `prefixBits`-bit length.
 */
export function readStringLiteral(
  input: Uint8Array,
  cursor: QpackCursor,
  end: number,
  prefixBits: number,
  fail: QpackFailure,
): string {
  if (cursor.offset >= end) throw fail('truncated string literal (RFC 9204 §4.1.2)');
  const huffman = (input[cursor.offset]! & (1 << prefixBits)) !== 0;
  const length = readPrefixedInteger(input, cursor, end, prefixBits, fail);
  const start = cursor.offset;
  if (length > end - start) throw fail('string literal runs past the end of its data (RFC 9204 §4.1.2)');
  cursor.offset = start + length;
  if (length === 0) return '';
  if (huffman) {
    try {
      return HuffmanCodec.decode(input, start, length);
    } catch (err) {
      if (err instanceof HpackError)
        throw fail('invalid Huffman-coded string (RFC 9204 §4.1.2, RFC 7541 §5.2)');
      throw err;
    }
  }
  return Buffer.from(input.buffer, input.byteOffset + start, length).toString('latin1');
}

/** A growable byte buffer that QPACK instructions are written into. */
export class QpackOutputBuffer {
  private buf: Buffer;
  /** Bytes written so far. */
  length = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** RFC 9204 §4.1.1: `value` with a `prefixBits`-bit prefix, `flags` OR-ed into the first byte. */
  writeInteger(value: number, prefixBits: number, flags: number): void {
    this.ensure(8);
    this.length = encodeHpackInteger(value, prefixBits, flags, this.buf, this.length);
  }

  /**
   * RFC 9204 §4.1.2: `value` as a string literal with a `prefixBits`-bit length whose Huffman
   * flag is the bit above it, `flags` OR-ed into the first byte; Huffman-coded when shorter
   * and `huffman` is true.
   */
  writeString(value: string, prefixBits: number, flags: number, huffman: boolean): void {
    const raw = value.length;
    const coded = huffman ? HuffmanCodec.encodedLength(value) : raw;
    if (coded < raw) {
      this.writeInteger(coded, prefixBits, flags | (1 << prefixBits));
      this.ensure(coded);
      this.length = HuffmanCodec.encodeInto(value, this.buf, this.length);
    } else {
      this.writeInteger(raw, prefixBits, flags);
      this.ensure(raw);
      this.length += this.buf.write(value, this.length, raw, 'latin1');
    }
  }

  /** Appends raw bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A copy of the bytes written, then empties the buffer. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }

  /** A view of the bytes written (valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Empties the buffer. */
  reset(): void {
    this.length = 0;
  }
}
