// Tests for GzipStreamWriter (src/runtime/gzip-stream-writer.ts): members built of literals,
// stored blocks and back-references inflate (node:zlib, which checks CRC-32 and ISIZE) to the
// bytes they stand for, whatever the size of the buffers they are written into.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { crc32Register } from '../../src/runtime/crc32.js';
import {
  backReferenceCodes,
  codeBitCount,
  FIXED_LITERAL_BITS,
  FIXED_LITERAL_LENGTHS,
  type GzipOutput,
  GzipStreamWriter,
  MAX_DISTANCE,
  packCodes,
  repeatEncodingsByResidue,
} from '../../src/runtime/gzip-stream-writer.js';

const START = 3;
const RESERVE = 5;

/** An output of `size`-byte buffers that collects what is handed on. */
class CollectingOutput implements GzipOutput {
  buf: Buffer;
  view: DataView;
  readonly pieces: Buffer[] = [];
  constructor(private readonly size: number) {
    this.buf = Buffer.alloc(size, 0xee);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, size);
  }
  send(end: number): void {
    assert.ok(end <= this.buf.length - RESERVE, 'the reserve is kept free');
    this.pieces.push(Buffer.from(this.buf.subarray(START, end)));
    this.buf = Buffer.alloc(this.size, 0xee);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.size);
  }
  bytes(end: number): Buffer {
    this.send(end);
    return Buffer.concat(this.pieces);
  }
}

/**
 * Writes `script` (stored pieces, literal pieces, and back-references that the script also
 * applies to its expected text) into outputs of several sizes; returns the member.
 */
function member(
  size: number,
  script: (g: GzipStreamWriter, expected: number[]) => void,
): { gz: Buffer; expected: Buffer } {
  const out = new CollectingOutput(size);
  const g = new GzipStreamWriter(START, RESERVE);
  g.begin(out, START);
  const expected: number[] = [];
  script(g, expected);
  g.finish();
  return { gz: out.bytes(g.at), expected: Buffer.from(expected) };
}

/** A back-reference through the writer's own codes, applied to `expected` too. */
function copy(g: GzipStreamWriter, expected: number[], length: number, distance: number): void {
  const codes = backReferenceCodes(length, distance);
  g.fixed();
  g.room(4 * codes.length);
  for (let i = 0; i < codes.length; i += 2) g.putBits(codes[i]!, codes[i + 1]!);
  const from = expected.length - distance;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = expected[from + i]!;
    expected.push(bytes[i]!);
  }
  g.crc = crc32Register(g.crc, bytes, 0, length);
  g.size += length;
}

function stored(g: GzipStreamWriter, expected: number[], data: Buffer): void {
  g.stored(data, 0, data.length);
  expected.push(...data);
}

/** Literals in a fixed-Huffman block, through the writer's own codes (§3.2.6). */
function literals(g: GzipStreamWriter, expected: number[], data: Buffer): void {
  g.fixed();
  for (const b of data) {
    g.room(2);
    g.putBits(FIXED_LITERAL_BITS[b]!, FIXED_LITERAL_LENGTHS[b]!);
  }
  g.crc = crc32Register(g.crc, data, 0, data.length);
  g.size += data.length;
  expected.push(...data);
}

test('an empty member inflates to nothing', () => {
  const { gz } = member(64, () => {});
  assert.equal(gunzipSync(gz).length, 0);
  assert.deepEqual([...gz.subarray(0, 3)], [0x1f, 0x8b, 8]);
});

test('literals of every byte value, stored blocks and back-references inflate to their bytes', () => {
  for (const size of [40, 97, 4096, 1 << 17]) {
    const { gz, expected } = member(size, (g, e) => {
      literals(g, e, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      stored(g, e, Buffer.from('{"resourceSpans":['));
      literals(g, e, Buffer.from('abc'));
      // Every length from 3 to 600 (several references past 258), near and far.
      for (let length = 3; length <= 600; length += 1) copy(g, e, length, 1 + (length % 250));
      stored(g, e, randomBytes(70_000)); // more than one stored block
      copy(g, e, 1000, 780);
      copy(g, e, 300, MAX_DISTANCE);
      literals(g, e, randomBytes(3000));
      copy(g, e, 3, 1);
    });
    assert.deepEqual(gunzipSync(gz), expected, `buffers of ${size}`);
  }
});

test('encodings by residue decode to the repeated bytes, each of its residue; packed, they are bytes', () => {
  const text = Buffer.from('","name":"GET /","kind":2,"startTimeUnixNano":"');
  for (const distance of [text.length + 1, 784, 5000]) {
    const byResidue = repeatEncodingsByResidue(text, 0, text.length, distance);
    assert.ok(byResidue[0] !== undefined, 'a byte-aligned encoding exists (literals at worst)');
    byResidue.forEach((pairs, r) => {
      if (pairs === undefined) return;
      assert.equal(codeBitCount(pairs) % 8, r);
      // The bytes stand `distance` back: a stored block of filler, the text, filler up to
      // `distance`, then the encoding.
      const { gz, expected } = member(4096, (g, e) => {
        stored(g, e, Buffer.alloc(Math.max(0, distance - text.length), 0x20));
        stored(g, e, text);
        stored(g, e, Buffer.alloc(distance - text.length, 0x2e));
        g.fixed();
        g.room(4 * pairs.length);
        for (let i = 0; i < pairs.length; i += 2) g.putBits(pairs[i]!, pairs[i + 1]!);
        g.crc = crc32Register(g.crc, text, 0, text.length);
        g.size += text.length;
        e.push(...text);
      });
      assert.deepEqual(gunzipSync(gz), expected, `residue ${r}, distance ${distance}`);
    });
    assert.equal(packCodes(byResidue[0]!).length * 8, codeBitCount(byResidue[0]!));
  }
  assert.throws(() => packCodes([1, 3]), RangeError);
});

test('back-references out of range are refused', () => {
  assert.throws(() => backReferenceCodes(2, 10), RangeError);
  assert.throws(() => backReferenceCodes(10, 0), RangeError);
  assert.throws(() => backReferenceCodes(10, MAX_DISTANCE + 1), RangeError);
});

test('a wrong CRC register is caught by the inflater: the trailer is what the writer kept', () => {
  const { gz } = member(256, (g, e) => {
    literals(g, e, Buffer.from('hello'));
    g.crc ^= 1;
  });
  assert.throws(() => gunzipSync(gz), /incorrect data check|unexpected end/);
});
