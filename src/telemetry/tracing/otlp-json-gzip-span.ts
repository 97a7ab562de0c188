/**
 * GzipSpanTemplate: writes spans that encode like a {@link SpanTemplate} (the same bytes but for
 * their ids and times; otlp-json-span-writer.ts) into a gzip member as DEFLATE codes, without
 * ever making their JSON bytes: each run of template bytes between two ids or times is one or
 * a few back-references to the same bytes of the span before (RFC 1951 §3.2.5, the distance
 * being one span and its comma), and the ids and time digits are literals (fixed Huffman,
 * §3.2.6). A 780-byte server span becomes about 120 bytes.
 *
 * Speed: every id and time digit is an 8-bit literal, and each run's codes are chosen among
 * equivalent ones (a few literals first, references split differently) to take a whole number
 * of bytes, so a span that starts on a byte boundary ends on one, and all of its codes go out
 * as 32-bit words: prepared ones for the runs, table lookups for the fields. A span that starts
 * mid-byte (after a block header) is bit-packed, its last run chosen to end on a boundary.
 *
 * The gzip trailer's CRC-32 is kept without running the span's bytes through the register
 * (crc32.ts): a span is the template's length, so the register after it is the register before
 * it moved past that many bytes (four lookups), XOR the constant bytes' part (computed once per
 * template), XOR one tabled part per id byte and per triple of time digits. Those lookups do
 * not wait for one another as the steps of a running register do: in a microbenchmark the CRC
 * went from about 170 to about 80 ns of a span's 400 (now about 315).
 *
 * Back-references reach the span before, so the caller emits a span this way only right after
 * another span of the same template (or the span the template was made from), with a comma
 * between them; the first of a run goes out verbatim (see ServerSpanRecords.deflateFrom).
 */
import { Buffer } from 'node:buffer';
import { type Crc32Shift, crc32PositionTables, crc32Register, crc32Shift } from '../../runtime/crc32.js';
import {
  codeBitCount,
  FIXED_LITERAL_BITS,
  FIXED_LITERAL_LENGTHS,
  type GzipStreamWriter,
  packCodes,
  repeatEncodingsByResidue,
} from '../../runtime/gzip-stream-writer.js';
import { SPAN_ID_AT, type SpanTemplate, TRACE_ID_AT } from './otlp-json-span-writer.js';

const COMMA = 0x2c;
/** Digits in a template's time slots (19 until 2286: see timesFitTemplate). */
const TIME_DIGITS = 19;
const HEX = '0123456789abcdef';

/** A byte's two lowercase hex digits as two 8-bit literal codes: 16 bits, output order. */
const HEX_LITERALS = new Int32Array(256);
for (let b = 0; b < 256; b++) {
  const hi = HEX.charCodeAt(b >>> 4);
  const lo = HEX.charCodeAt(b & 15);
  // Digits and a-f are literals below 144: eight bits each (RFC 1951 §3.2.6).
  HEX_LITERALS[b] = FIXED_LITERAL_BITS[hi]! | (FIXED_LITERAL_BITS[lo]! << 8);
}
/** The lowercase hex digits' and the decimal digits' character codes, by value. */
const HEX_CODES = Array.from(HEX, (c) => c.charCodeAt(0));
const DIGIT_CODES = HEX_CODES.slice(0, 10);
/** A lowercase hex digit's value by character code (ids given as text were validated). */
const HEX_VALUES = new Int32Array(128);
for (let v = 0; v < 16; v++) HEX_VALUES[HEX_CODES[v]!] = v;
/** `i` (0..999) as three digits: their literal codes (24 bits). */
const TRIPLE_CODES = new Int32Array(1000);
for (let i = 0; i < 1000; i++) {
  const d = [0x30 + ((i / 100) | 0), 0x30 + (((i / 10) | 0) % 10), 0x30 + (i % 10)] as const;
  TRIPLE_CODES[i] =
    FIXED_LITERAL_BITS[d[0]]! | (FIXED_LITERAL_BITS[d[1]]! << 8) | (FIXED_LITERAL_BITS[d[2]]! << 16);
}
const COMMA_CODE = FIXED_LITERAL_BITS[COMMA]!;
/** The fields of a span, in writeSpanJson's order. */
const FIELD_TRACE = 0;
const FIELD_SPAN = 1;
const FIELD_PARENT = 2;
const FIELD_TIME = 3;

/** One run of template bytes between two fields: its codes. */
interface ConstantRun {
  /** The shortest codes, (bits, count) pairs of at most 16 bits each. */
  readonly codes: Int32Array;
  /** Codes by their bit count modulo 8, to come back to a byte boundary (see codesUnaligned). */
  readonly byResidue: (Int32Array | undefined)[];
  /**
   * Codes of a multiple of 8 bits, from a byte boundary, as little-endian 32-bit words (the
   * last one padded), and their length in bytes; undefined if none were found.
   */
  readonly words: Int32Array | undefined;
  readonly byteLength: number;
}

/** Bytes as little-endian 32-bit words, the last one padded with zeros. */
function wordsOf(bytes: Uint8Array): Int32Array {
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  for (let i = 0; i < bytes.length; i++) words[i >> 2]! |= bytes[i]! << (8 * (i & 3));
  return words;
}

/**
 * The writer's state while a span is bit-packed (see codesUnaligned), in fields of one object
 * that the helpers below read into locals and store back: bits pending (fewer than 16 between
 * pieces), their count, and where the next byte goes. Each helper repeats the two-byte flush
 * inline on purpose: with a writer method call per piece a span took about 2 µs, several times
 * what it takes now.
 */
interface EmitState {
  at: number;
  bits: number;
  count: number;
}

/** A run of template bytes as its codes (by default the shortest). */
function putRun(buf: Buffer, s: EmitState, run: ConstantRun, codes: Int32Array = run.codes): void {
  let bits = s.bits;
  let n = s.count;
  let at = s.at;
  for (let i = 0; i < codes.length; i += 2) {
    bits |= codes[i]! << n;
    n += codes[i + 1]!;
    if (n >= 16) {
      buf[at++] = bits;
      buf[at++] = bits >>> 8;
      bits >>>= 16;
      n -= 16;
    }
  }
  s.bits = bits;
  s.count = n;
  s.at = at;
}

/** `count` id bytes from `from` of `ids` as hex digit literals, from anywhere in a byte. */
function putHexBytes(buf: Buffer, s: EmitState, ids: Uint8Array, from: number, count: number): void {
  let bits = s.bits;
  const n = s.count;
  let at = s.at;
  for (let i = from; i < from + count; i++) {
    // Sixteen bits onto fewer than 16: two bytes out each time.
    bits |= HEX_LITERALS[ids[i]!]! << n;
    buf[at++] = bits;
    buf[at++] = bits >>> 8;
    bits >>>= 16;
  }
  s.bits = bits;
  s.at = at;
}

/** An id given as a string: lowercase hex digits (validated where it came in). */
function putAscii(buf: Buffer, s: EmitState, text: string): void {
  let bits = s.bits;
  let n = s.count;
  let at = s.at;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) & 0xff;
    bits |= FIXED_LITERAL_BITS[c]! << n;
    n += FIXED_LITERAL_LENGTHS[c]!;
    if (n >= 16) {
      buf[at++] = bits;
      buf[at++] = bits >>> 8;
      bits >>>= 16;
      n -= 16;
    }
  }
  s.bits = bits;
  s.count = n;
  s.at = at;
}

/** The DEFLATE form of a span template (see the file comment). */
export class GzipSpanTemplate {
  /** Bytes of a span and its comma: the distance back to the same bytes of the span before. */
  readonly distance: number;
  private readonly runs: ConstantRun[];
  private readonly hasParent: boolean;
  private readonly state: EmitState = { at: 0, bits: 0, count: 0 };
  /** The comma and the first run's byte-aligned codes, as words (see {@link emit}). */
  private readonly lead: Int32Array | undefined;
  private readonly leadLength: number;
  /** True when every run has byte-aligned codes. */
  private readonly allAligned: boolean;
  /** Room a span's codes need in the output buffer. */
  private readonly room: number;
  /**
   * Per time (start, end): the whole seconds last written, their ten digits' codes (two words
   * and a half, little-endian) and CRC part; and the three triples of nanosecond digits.
   */
  private readonly seconds = [-1, -1];
  private readonly secondsCodes = new Int32Array(6);
  private readonly secondsCrc = new Int32Array(2);
  private readonly triples = new Int32Array(6);
  /**
   * The CRC (see the file comment): the shift past a span and its comma, the part of their
   * constant bytes, and the tabled parts of the id digits (16 entries per digit position: the
   * trace id's 32, the span id's 16, the parent's 16) and of the time digits (10 per position:
   * the start's 19, the end's 19).
   */
  private readonly crcShift: Crc32Shift;
  private readonly crcConstant: number;
  private readonly hexCrc: Int32Array;
  private readonly digitCrc: Int32Array;
  /**
   * The same parts by whole values, so that each takes one lookup: per id byte (the trace id's
   * 16, then the span id's 8) its two digits' for each of the 256 byte values, and per triple of
   * nanosecond digits (the start's three, the end's three) its three digits' for 0 to 999.
   */
  private readonly idByteCrc = new Int32Array(24 * 256);
  private readonly tripleCrc = new Int32Array(6 * 1000);
  /** What field k (after run k) is: FIELD_TRACE, FIELD_SPAN, FIELD_PARENT or FIELD_TIME. */
  private readonly fieldKinds: Int32Array;
  /** For a time field k, which time: 0 start, 1 end. */
  private readonly fieldTime: Int32Array;

  constructor(readonly template: SpanTemplate) {
    const bytes = template.bytes;
    this.distance = bytes.length + 1;
    this.hasParent = template.parentAt >= 0;
    // The fields, in the order writeSpanJson puts them.
    const fields: [number, number][] = [
      [TRACE_ID_AT, 32],
      [SPAN_ID_AT, 16],
    ];
    const kinds = [FIELD_TRACE, FIELD_SPAN];
    if (this.hasParent) {
      fields.push([template.parentAt, 16]);
      kinds.push(FIELD_PARENT);
    }
    fields.push([template.startAt, TIME_DIGITS], [template.endAt, TIME_DIGITS]);
    kinds.push(FIELD_TIME, FIELD_TIME);
    this.fieldKinds = Int32Array.from(kinds);
    this.fieldTime = Int32Array.from(kinds, (kind, k) =>
      kind === FIELD_TIME ? (k === kinds.length - 1 ? 1 : 0) : 0,
    );
    const runs: ConstantRun[] = [];
    let from = 0;
    for (const [at, length] of fields) {
      runs.push(this.run(from, at));
      from = at + length;
    }
    runs.push(this.run(from, bytes.length));
    this.runs = runs;
    this.allAligned = runs.every((run) => run.words !== undefined);
    // The CRC's tables, positions counted in the comma and span (the comma first).
    const hexPositions: number[] = [];
    const digitPositions: number[] = [];
    for (const [at, length] of fields) {
      const positions = length === TIME_DIGITS ? digitPositions : hexPositions;
      for (let i = 0; i < length; i++) positions.push(1 + at + i);
    }
    this.crcShift = crc32Shift(this.distance);
    this.hexCrc = crc32PositionTables(this.distance, hexPositions, HEX_CODES);
    this.digitCrc = crc32PositionTables(this.distance, digitPositions, DIGIT_CODES);
    for (let j = 0; j < 24; j++) {
      for (let b = 0; b < 256; b++) {
        this.idByteCrc[256 * j + b] = this.hexCrc[32 * j + (b >>> 4)]! ^ this.hexCrc[32 * j + 16 + (b & 15)]!;
      }
    }
    for (let k = 0; k < 6; k++) {
      // Triple k: time k / 3, its digits 10 + 3 (k % 3) on.
      const at = 10 * (19 * Math.floor(k / 3) + 10 + 3 * (k % 3));
      for (let t = 0; t < 1000; t++) {
        const d = this.digitCrc;
        this.tripleCrc[1000 * k + t] =
          d[at + Math.floor(t / 100)]! ^ d[at + 10 + (Math.floor(t / 10) % 10)]! ^ d[at + 20 + (t % 10)]!;
      }
    }
    const constant = new Uint8Array(this.distance);
    constant[0] = COMMA;
    constant.set(bytes, 1);
    for (const p of hexPositions) constant[p] = 0;
    for (const p of digitPositions) constant[p] = 0;
    this.crcConstant = crc32Register(0, constant, 0, constant.length);
    // The most bytes a span's codes take, whichever codes each run gets, and a word of slack:
    // the comma and the fields' literals (8 bits each), the runs' longest codes.
    let bits = 8 + 8 * fields.reduce((n, [, length]) => n + length, 0);
    for (const run of runs) {
      let longest = codeBitCount(run.codes);
      for (const codes of run.byResidue)
        if (codes !== undefined) longest = Math.max(longest, codeBitCount(codes));
      bits += longest;
    }
    this.room = Math.ceil(bits / 8) + 8;
    const first = runs[0]!;
    if (first.words !== undefined) {
      const lead = new Uint8Array(1 + first.byteLength);
      lead[0] = COMMA_CODE;
      const firstBytes = new Uint8Array(first.words.buffer, 0, first.byteLength);
      lead.set(firstBytes, 1);
      this.lead = wordsOf(lead);
      this.leadLength = lead.length;
    } else {
      this.lead = undefined;
      this.leadLength = 0;
    }
  }

  private run(from: number, to: number): ConstantRun {
    const bytes = this.template.bytes;
    const literals: number[] = [];
    for (let i = from; i < to; i++)
      literals.push(FIXED_LITERAL_BITS[bytes[i]!]!, FIXED_LITERAL_LENGTHS[bytes[i]!]!);
    const byResidue =
      to - from >= 3
        ? repeatEncodingsByResidue(bytes, from, to, this.distance)
        : Array.from({ length: 8 }, (_, r) => (r === (codeBitCount(literals) & 7) ? literals : undefined));
    let shortest = literals;
    for (const pairs of byResidue) {
      if (pairs !== undefined && codeBitCount(pairs) < codeBitCount(shortest)) shortest = pairs;
    }
    const aligned = byResidue[0] === undefined ? undefined : packCodes(byResidue[0]);
    return {
      codes: Int32Array.from(shortest),
      byResidue: byResidue.map((pairs) => (pairs === undefined ? undefined : Int32Array.from(pairs))),
      words: aligned === undefined ? undefined : wordsOf(aligned),
      byteLength: aligned?.length ?? 0,
    };
  }

  /**
   * Writes a comma and then a span of this template with the given ids and times, ms since
   * the epoch (both fit: timesFitTemplate). The trace id is a 32-digit string, or else the 16
   * bytes at `idsAt` of `ids`, which are followed by the span id's 8 bytes.
   *
   * One function, its loops written out: the CRC register is a full 32-bit value, which V8
   * boxes as a heap number at every call it does not inline, and with a helper per piece it
   * stopped inlining them (a span took twice as long). The CRC steps are crc32.ts's own, small
   * enough to inline; written out by hand they saved another 5% of the instructions, not worth
   * a third copy of them.
   */
  emit(
    g: GzipStreamWriter,
    traceId: string | undefined,
    ids: Uint8Array,
    idsAt: number,
    parentSpanId: string | undefined,
    startTime: number,
    endTime: number,
  ): void {
    g.room(this.room);
    g.fixed();
    // Both times: whole seconds (their digits' codes and CRC part cached) and three triples.
    const triples = this.triples;
    for (let which = 0; which < 2; which++) {
      const ms = which === 0 ? startTime : endTime;
      let whole = Math.floor(ms);
      let fraction = Math.round((ms - whole) * 1e6);
      if (fraction >= 1e6) {
        whole += 1;
        fraction -= 1e6;
      }
      const seconds = Math.floor(whole / 1000);
      if (seconds !== this.seconds[which]) this.cacheSeconds(seconds, which);
      const nanos = ((whole - seconds * 1000) * 1e6 + fraction) | 0;
      const high = (nanos / 1_000_000) | 0;
      const rest = (nanos - high * 1_000_000) | 0;
      const middle = (rest / 1000) | 0;
      triples[3 * which] = high;
      triples[3 * which + 1] = middle;
      triples[3 * which + 2] = (rest - middle * 1000) | 0;
    }

    // The CRC register past the comma and span (see the file comment): a tabled part per id
    // byte and per triple of nanosecond digits; the seconds' parts are cached.
    const idCrc = this.idByteCrc;
    let crc = this.crcShift.apply(g.crc) ^ this.crcConstant ^ this.secondsCrc[0]! ^ this.secondsCrc[1]!;
    if (traceId === undefined) {
      for (let j = 0; j < 16; j++) crc ^= idCrc[256 * j + ids[idsAt + j]!]!;
    } else {
      const hex = this.hexCrc;
      for (let q = 0; q < 32; q++) crc ^= hex[16 * q + HEX_VALUES[traceId.charCodeAt(q) & 0x7f]!]!;
    }
    for (let j = 16; j < 24; j++) crc ^= idCrc[256 * j + ids[idsAt + j]!]!;
    if (this.hasParent) {
      const hex = this.hexCrc;
      for (let q = 0; q < 16; q++)
        crc ^= hex[16 * (48 + q) + HEX_VALUES[parentSpanId!.charCodeAt(q) & 0x7f]!]!;
    }
    const tc = this.tripleCrc;
    crc ^=
      tc[triples[0]!]! ^
      tc[1000 + triples[1]!]! ^
      tc[2000 + triples[2]!]! ^
      tc[3000 + triples[3]!]! ^
      tc[4000 + triples[4]!]! ^
      tc[5000 + triples[5]!]!;
    g.crc = crc;
    g.size += this.distance;
    const runs = this.runs;
    const last = runs.length - 1;
    if (!this.allAligned || g.bitCount !== 0) {
      this.codesUnaligned(g, traceId, ids, idsAt, parentSpanId);
      return;
    }

    // From a byte boundary (most spans: each ends on one): every run's codes are whole bytes,
    // every field's literals 8 bits each, so all of it goes out in 32-bit words, each word's
    // spare bytes written over by the next piece.
    const view = g.view;
    let at = g.at;
    const lead = this.lead!;
    for (let i = 0; i < lead.length; i++) view.setInt32(at + 4 * i, lead[i]!, true);
    at += this.leadLength;
    for (let k = 0; k < last; k++) {
      if (k > 0) {
        const run = runs[k]!;
        const words = run.words!;
        for (let i = 0; i < words.length; i++) view.setInt32(at + 4 * i, words[i]!, true);
        at += run.byteLength;
      }
      const field = this.fieldKinds[k]!;
      if (field === FIELD_TIME) {
        const which = this.fieldTime[k]!;
        const codes = this.secondsCodes;
        view.setInt32(at, codes[3 * which]!, true);
        view.setInt32(at + 4, codes[3 * which + 1]!, true);
        view.setInt32(at + 8, codes[3 * which + 2]!, true);
        view.setInt32(at + 10, TRIPLE_CODES[triples[3 * which]!]!, true);
        view.setInt32(at + 13, TRIPLE_CODES[triples[3 * which + 1]!]!, true);
        view.setInt32(at + 16, TRIPLE_CODES[triples[3 * which + 2]!]!, true);
        at += TIME_DIGITS;
        continue;
      }
      const text = field === FIELD_TRACE ? traceId : field === FIELD_PARENT ? parentSpanId : undefined;
      if (text === undefined) {
        const from = field === FIELD_SPAN ? idsAt + 16 : idsAt;
        const to = field === FIELD_SPAN ? idsAt + 24 : idsAt + 16;
        for (let i = from; i < to; i += 2, at += 4) {
          view.setInt32(at, HEX_LITERALS[ids[i]!]! | (HEX_LITERALS[ids[i + 1]!]! << 16), true);
        }
      } else {
        // Lowercase hex digits (validated where they came in): 8-bit codes.
        for (let i = 0; i < text.length; i++)
          view.setUint8(at++, FIXED_LITERAL_BITS[text.charCodeAt(i) & 0x7f]!);
      }
    }
    const run = runs[last]!;
    const words = run.words!;
    for (let i = 0; i < words.length; i++) view.setInt32(at + 4 * i, words[i]!, true);
    g.at = at + run.byteLength;
  }

  /**
   * The span's codes from anywhere in a byte. The last run's codes are the ones that end on a
   * byte boundary, when there are such, so that the spans after it take the byte-aligned way
   * ({@link emit}).
   */
  private codesUnaligned(
    g: GzipStreamWriter,
    traceId: string | undefined,
    ids: Uint8Array,
    idsAt: number,
    parentSpanId: string | undefined,
  ): void {
    const buf = g.buffer;
    const s = this.state;
    // The comma: 8 bits onto fewer than 8 (the writer keeps fewer than 8 between calls).
    s.bits = g.bits | (COMMA_CODE << g.bitCount);
    s.count = g.bitCount + 8;
    s.at = g.at;
    const runs = this.runs;
    let r = 0;
    putRun(buf, s, runs[r++]!);
    if (traceId === undefined) putHexBytes(buf, s, ids, idsAt, 16);
    else putAscii(buf, s, traceId);
    putRun(buf, s, runs[r++]!);
    putHexBytes(buf, s, ids, idsAt + 16, 8);
    putRun(buf, s, runs[r++]!);
    if (this.hasParent) {
      putAscii(buf, s, parentSpanId!);
      putRun(buf, s, runs[r++]!);
    }
    this.putTime(buf, s, 0);
    putRun(buf, s, runs[r++]!);
    this.putTime(buf, s, 1);
    const last = runs[r]!;
    putRun(buf, s, last, last.byResidue[(8 - (s.count & 7)) & 7] ?? last.codes);
    // Whole bytes out: the writer keeps fewer than 8 bits.
    let { at, bits, count } = s;
    if (count >= 8) {
      buf[at++] = bits;
      bits >>>= 8;
      count -= 8;
    }
    g.at = at;
    g.bits = bits;
    g.bitCount = count;
  }

  /** Time `which`'s 19 digit codes from anywhere in a byte. */
  private putTime(buf: Buffer, s: EmitState, which: number): void {
    let bits = s.bits;
    let n = s.count;
    let at = s.at;
    // Ten digits of seconds: five 16-bit pieces onto fewer than 16, two bytes out each.
    const codes = this.secondsCodes;
    for (let i = 0; i < 5; i++) {
      const word = codes[3 * which + (i >> 1)]!;
      bits |= ((i & 1) === 0 ? word & 0xffff : word >>> 16) << n;
      buf[at++] = bits;
      buf[at++] = bits >>> 8;
      bits >>>= 16;
    }
    // Each triple is 16 bits (two bytes out) and then 8.
    const triples = this.triples;
    for (let k = 3 * which; k < 3 * which + 3; k++) {
      const triple = TRIPLE_CODES[triples[k]!]!;
      bits |= (triple & 0xffff) << n;
      buf[at++] = bits;
      buf[at++] = bits >>> 8;
      bits >>>= 16;
      bits |= (triple >>> 16) << n;
      n += 8;
      if (n >= 16) {
        buf[at++] = bits;
        buf[at++] = bits >>> 8;
        bits >>>= 16;
        n -= 16;
      }
    }
    s.bits = bits;
    s.count = n;
    s.at = at;
  }

  private cacheSeconds(seconds: number, which: number): void {
    this.seconds[which] = seconds;
    const digits = Buffer.from(String(seconds), 'latin1');
    // timesFitTemplate: ten digits, each an 8-bit code.
    const codes = new Uint8Array(12);
    for (let i = 0; i < 10; i++) codes[i] = FIXED_LITERAL_BITS[digits[i]!]!;
    this.secondsCodes.set(wordsOf(codes), 3 * which);
    let crc = 0;
    for (let i = 0; i < 10; i++) crc ^= this.digitCrc[10 * (19 * which + i) + digits[i]! - 0x30]!;
    this.secondsCrc[which] = crc;
  }
}
