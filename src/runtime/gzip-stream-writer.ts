/**
 * GzipStreamWriter: writes one gzip member (RFC 1952) whose DEFLATE data (RFC 1951) the caller
 * chooses piece by piece: literal bytes and back-references in fixed-Huffman blocks (§3.2.6),
 * and runs of bytes verbatim in stored blocks (§3.2.4). It never searches for matches: it is for
 * producers that know where their output repeats itself (a batch of spans that differ only in
 * ids and times, see src/telemetry/tracing/otlp-json-gzip-body.ts), which can say "the next 600
 * bytes are the ones 780 bytes back" for the cost of a few bits, where a general compressor
 * would spend most of its time finding that out.
 *
 * Output goes into a caller's buffer that is handed on whenever it fills ({@link GzipOutput}:
 * the HTTP/1.1 chunked body writer), so the member is produced in pieces and never whole. The
 * writer keeps the CRC-32 register ({@link crc}) and the uncompressed size ({@link size}) of
 * the member; a producer that emits codes itself ({@link putBits}) updates them too.
 */
import { Buffer } from 'node:buffer';
import { CRC32_START, crc32Register, crc32Value } from './crc32.js';

/** Where the member goes: bytes are written to `buf` from `start` up to `buf.length - reserve`. */
export interface GzipOutput {
  buf: Buffer;
  /** A DataView of `buf`. */
  view: DataView;
  /** Hands `buf[start, end)` on; `buf` (perhaps a new one) is then free again from `start`. */
  send(end: number): void;
}

/** The fixed Huffman code of each literal/length symbol, bits in output order (§3.2.6). */
export const FIXED_LITERAL_BITS = new Int32Array(288);
/** The length in bits of each fixed literal/length code. */
export const FIXED_LITERAL_LENGTHS = new Uint8Array(288);
for (let symbol = 0; symbol < 288; symbol++) {
  let code: number;
  let length: number;
  if (symbol < 144) [code, length] = [0x30 + symbol, 8];
  else if (symbol < 256) [code, length] = [0x190 + symbol - 144, 9];
  else if (symbol < 280) [code, length] = [symbol - 256, 7];
  else [code, length] = [0xc0 + symbol - 280, 8];
  // Huffman codes are packed most significant bit first (§3.1.1).
  FIXED_LITERAL_BITS[symbol] = reverseBits(code, length);
  FIXED_LITERAL_LENGTHS[symbol] = length;
}

/** §3.2.5: the base lengths of symbols 257..285 and their extra bits. */
const LENGTH_BASES = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/** §3.2.5: the base distances of distance codes 0..29 and their extra bits. */
const DISTANCE_BASES = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];

/** The longest back-reference (§3.2.5) and the farthest (the 32 KiB window). */
export const MAX_MATCH = 258;
export const MAX_DISTANCE = 32768;

/** gzip header: ID1 ID2, CM = 8 (deflate), no flags, no time, XFL 0, OS 255 (unknown). */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

function reverseBits(code: number, length: number): number {
  let out = 0;
  for (let i = 0; i < length; i++) out |= ((code >>> i) & 1) << (length - 1 - i);
  return out;
}

/**
 * The fixed-Huffman codes of "copy `length` bytes from `distance` back", as (bits, count)
 * pairs for {@link GzipStreamWriter.putBits}, each at most 16 bits: lengths past 258 become
 * several back-references (none shorter than 3). `length` >= 3; `distance` <= 32768.
 */
export function backReferenceCodes(length: number, distance: number): number[] {
  if (length < 3 || distance < 1 || distance > MAX_DISTANCE) {
    throw new RangeError(`no back-reference of ${length} bytes from ${distance} back`);
  }
  let d = DISTANCE_BASES.length - 1;
  while (DISTANCE_BASES[d]! > distance) d--;
  const distanceCode = reverseBits(d, 5);
  const distanceExtra = distance - DISTANCE_BASES[d]!;
  const extraCount = DISTANCE_EXTRA[d]!;
  const pairs: number[] = [];
  let left = length;
  while (left > 0) {
    // Keep at least 3 for the last one.
    let take = Math.min(left, MAX_MATCH);
    if (left - take > 0 && left - take < 3) take = left - 3;
    left -= take;
    let i = LENGTH_BASES.length - 1;
    while (LENGTH_BASES[i]! > take) i--;
    const symbol = 257 + i;
    pairs.push(
      FIXED_LITERAL_BITS[symbol]! | ((take - LENGTH_BASES[i]!) << FIXED_LITERAL_LENGTHS[symbol]!),
      FIXED_LITERAL_LENGTHS[symbol]! + LENGTH_EXTRA[i]!,
    );
    if (5 + extraCount <= 16) pairs.push(distanceCode | (distanceExtra << 5), 5 + extraCount);
    else pairs.push(distanceCode, 5, distanceExtra, extraCount);
  }
  return pairs;
}

/** The number of bits in (bits, count) pairs. */
export function codeBitCount(pairs: ArrayLike<number>): number {
  let n = 0;
  for (let i = 1; i < pairs.length; i += 2) n += pairs[i]!;
  return n;
}

/** First back-reference lengths tried by {@link repeatEncodingsByResidue}: each length code's base. */
const FIRST_LENGTHS = [...LENGTH_BASES, 12, 14, 16, 18];

/**
 * Encodings of `bytes[from, to)`, bytes that also stand `distance` back: up to 8 literals,
 * then one to three back-references (the last one split further past 258 bytes), or literals
 * alone. Entry r holds the shortest found whose size in bits is r modulo 8, as (bits, count)
 * pairs (undefined when none was found): a producer that wants the next piece to start on a
 * byte boundary picks the one it needs. The sizes are counted before any codes are made.
 */
export function repeatEncodingsByResidue(
  bytes: Uint8Array,
  from: number,
  to: number,
  distance: number,
): (number[] | undefined)[] {
  const length = to - from;
  // Per residue: the fewest bits found, and the choice that gave them (literals, 1st, 2nd).
  const bestBits = new Array<number>(8).fill(Number.POSITIVE_INFINITY);
  const choice: [number, number, number][] = new Array(8);
  const literalBits = [0];
  for (let i = from; i < to; i++)
    literalBits.push(literalBits[literalBits.length - 1]! + FIXED_LITERAL_LENGTHS[bytes[i]!]!);
  const note = (bits: number, p: number, first: number, second: number) => {
    const r = bits & 7;
    if (bits < bestBits[r]!) {
      bestBits[r] = bits;
      choice[r] = [p, first, second];
    }
  };
  if (length <= 64) note(literalBits[length]!, length, 0, 0);
  const distanceBits = referenceBits(3, distance) - lengthBits(3);
  // A split leaves nothing, or at least 3 bytes for the references after it.
  const fits = (take: number, left: number) =>
    take <= Math.min(MAX_MATCH, left) && (left === take || left - take >= 3);
  for (let p = 0; p <= Math.min(8, length - 3); p++) {
    const rest = length - p;
    for (const first of [...FIRST_LENGTHS, rest]) {
      if (!fits(first, rest)) continue;
      const afterFirst = rest - first;
      const base = literalBits[p]! + lengthBits(first) + distanceBits;
      if (afterFirst === 0) {
        note(base, p, first, 0);
        continue;
      }
      note(base + referenceBits(afterFirst, distance), p, first, 0);
      for (const second of FIRST_LENGTHS) {
        if (!fits(second, afterFirst)) continue;
        const left = afterFirst - second;
        const bits =
          base + lengthBits(second) + distanceBits + (left > 0 ? referenceBits(left, distance) : 0);
        note(bits, p, first, second);
      }
    }
  }
  const encodings: (number[] | undefined)[] = [];
  for (let r = 0; r < 8; r++) {
    const made = choice[r];
    if (made === undefined) {
      encodings.push(undefined);
      continue;
    }
    const [p, first, second] = made;
    const pairs: number[] = [];
    for (let i = from; i < from + p; i++)
      pairs.push(FIXED_LITERAL_BITS[bytes[i]!]!, FIXED_LITERAL_LENGTHS[bytes[i]!]!);
    if (first > 0) pairs.push(...backReferenceCodes(first, distance));
    if (second > 0) pairs.push(...backReferenceCodes(second, distance));
    const left = length - p - first - second;
    if (first > 0 && left > 0) pairs.push(...backReferenceCodes(left, distance));
    encodings.push(pairs);
  }
  return encodings;
}

/** Bits of the fixed length code (symbol and extra bits) of a back-reference of `length` (3..258). */
function lengthBits(length: number): number {
  let i = LENGTH_BASES.length - 1;
  while (LENGTH_BASES[i]! > length) i--;
  return FIXED_LITERAL_LENGTHS[257 + i]! + LENGTH_EXTRA[i]!;
}

/** Bits of {@link backReferenceCodes}`(length, distance)`, without making them. */
function referenceBits(length: number, distance: number): number {
  let d = DISTANCE_BASES.length - 1;
  while (DISTANCE_BASES[d]! > distance) d--;
  const perReference = 5 + DISTANCE_EXTRA[d]!;
  let bits = 0;
  let left = length;
  while (left > 0) {
    let take = Math.min(left, MAX_MATCH);
    if (left - take > 0 && left - take < 3) take = left - 3;
    left -= take;
    bits += lengthBits(take) + perReference;
  }
  return bits;
}

/** Codes whose bit count is a multiple of 8, as the bytes they make from a byte boundary. */
export function packCodes(pairs: readonly number[]): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let n = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    bits |= pairs[i]! << n;
    n += pairs[i + 1]!;
    while (n >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      n -= 8;
    }
  }
  if (n !== 0) throw new RangeError('the codes do not end on a byte boundary');
  return Uint8Array.from(out);
}

/** Writes one gzip member in pieces (see the file comment). */
export class GzipStreamWriter {
  /** The CRC-32 register of the uncompressed data so far (see crc32.ts). */
  crc = CRC32_START;
  /** Uncompressed bytes so far. */
  size = 0;
  /** Where the next byte goes in the output's buffer. */
  at = 0;
  private out: GzipOutput | undefined;
  /**
   * Bits not yet written out (fewer than 8 between calls), least significant first. A
   * producer that writes codes inline reads {@link buffer}, `at`, `bits` and `bitCount` into
   * locals, writes, and stores them back (otlp-json-gzip-span.ts).
   */
  bits = 0;
  bitCount = 0;
  /** True while a fixed-Huffman block is open. */
  private inFixedBlock = false;

  /**
   * @param start where data starts in the output's buffer after each hand-on
   * @param reserve bytes the output keeps free at the end of its buffer
   */
  constructor(
    private readonly start: number,
    private readonly reserve: number,
  ) {}

  /** Starts a member at `at` of `out.buf`. */
  begin(out: GzipOutput, at: number): void {
    this.out = out;
    this.at = at;
    this.crc = CRC32_START;
    this.size = 0;
    this.bits = 0;
    this.bitCount = 0;
    this.inFixedBlock = false;
    this.room(HEADER.length);
    this.at += HEADER.copy(out.buf, this.at);
  }

  /** The output's current buffer, and its DataView. */
  get buffer(): Buffer {
    return this.out!.buf;
  }
  get view(): DataView {
    return this.out!.view;
  }

  /** Makes sure `n` bytes fit in the output's buffer, handing it on first if not. */
  room(n: number): void {
    const out = this.out!;
    if (this.at + n > out.buf.length - this.reserve) {
      out.send(this.at);
      this.at = this.start;
    }
  }

  /** Opens a fixed-Huffman block unless one is open. Call before {@link putBits} of codes. */
  fixed(): void {
    if (this.inFixedBlock) return;
    this.inFixedBlock = true;
    // BFINAL 0, BTYPE 01 (§3.2.3).
    this.putBits(2, 3);
  }

  /**
   * Appends `count` (<= 24) bits, least significant first. Room for them is the caller's
   * ({@link room}); whole bytes go out at once, fewer than 8 bits wait.
   */
  putBits(bits: number, count: number): void {
    let pending = this.bits | (bits << this.bitCount);
    let n = this.bitCount + count;
    const buf = this.out!.buf;
    let at = this.at;
    while (n >= 8) {
      buf[at++] = pending;
      pending >>>= 8;
      n -= 8;
    }
    this.at = at;
    this.bits = pending;
    this.bitCount = n;
  }

  /** Appends `src[from, to)` verbatim, in stored blocks (§3.2.4). */
  stored(src: Uint8Array, from: number, to: number): void {
    this.crc = crc32Register(this.crc, src, from, to);
    this.size += to - from;
    this.closeFixed();
    while (from < to) {
      const length = Math.min(to - from, 65535);
      // BFINAL 0, BTYPE 00, then to a byte boundary; LEN and NLEN, little-endian.
      this.room(6);
      this.putBits(0, 3);
      this.alignToByte();
      const buf = this.out!.buf;
      buf.writeUInt16LE(length, this.at);
      buf.writeUInt16LE(~length & 0xffff, this.at + 2);
      this.at += 4;
      let left = length;
      while (left > 0) {
        this.room(1);
        const out = this.out!.buf;
        const n = Math.min(left, out.length - this.reserve - this.at);
        out.set(src.subarray(from, from + n), this.at);
        this.at += n;
        from += n;
        left -= n;
      }
    }
  }

  /** Ends the member: the last block, then CRC-32 and ISIZE (RFC 1952 §2.3.1). */
  finish(): void {
    this.room(16);
    this.closeFixed();
    // BFINAL 1, BTYPE 01, and at once its end-of-block code (256: seven zero bits).
    this.putBits(3, 3);
    this.putBits(0, 7);
    this.alignToByte();
    const buf = this.out!.buf;
    buf.writeUInt32LE(crc32Value(this.crc), this.at);
    buf.writeUInt32LE(this.size >>> 0, this.at + 4);
    this.at += 8;
    this.out = undefined;
  }

  private closeFixed(): void {
    if (!this.inFixedBlock) return;
    this.inFixedBlock = false;
    this.room(2);
    this.putBits(0, 7); // end of block (256)
  }

  private alignToByte(): void {
    if (this.bitCount > 0) this.putBits(0, 8 - this.bitCount);
  }
}
