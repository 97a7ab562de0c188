/**
 * GzipSpanTemplate: writes spans that encode like a {@link SpanTemplate} (the same bytes but for
 * their ids and times; otlp-json-span-writer.ts) into a gzip member as DEFLATE codes, without
 * ever making their JSON bytes: each run of template bytes between two ids or times is one or
 * a few back-references to the same bytes of the span before (RFC 1951 §3.2.5, the distance
 * being one span and its comma), and the ids and time digits are literals (fixed Huffman,
 * §3.2.6). A 780-byte server span becomes about 100 bytes, for less work than copying it.
 *
 * The gzip trailer's CRC-32 is kept the same way (crc32.ts): each constant run's part of the
 * register is computed once per template, and moving the register past it is four table
 * lookups; only the literal bytes are run through the register one by one.
 *
 * Back-references reach the span before, so the caller emits a span this way only right after
 * another span of the same template (or the span the template was made from), with a comma
 * between them; the first of a run goes out verbatim (see ServerSpanRecords.deflateFrom).
 */
import { Buffer } from 'node:buffer';
import {
  CRC32_SLICE4,
  CRC32_TABLE,
  type Crc32Shift,
  crc32Register,
  crc32Shift,
} from '../../runtime/crc32.js';
import {
  backReferenceCodes,
  FIXED_LITERAL_BITS,
  FIXED_LITERAL_LENGTHS,
  type GzipStreamWriter,
} from '../../runtime/gzip-stream-writer.js';
import { SPAN_ID_AT, type SpanTemplate, TRACE_ID_AT } from './otlp-json-span-writer.js';

const COMMA = 0x2c;
/** Digits in a template's time slots (19 until 2286: see timesFitTemplate). */
const TIME_DIGITS = 19;
/** More than a span's codes take (about 100 literals of 8 bits and a few back-references). */
const SPAN_CODES_ROOM = 256;
const HEX = '0123456789abcdef';

/** A byte's two lowercase hex digits as two 8-bit literal codes: 16 bits, output order. */
const HEX_LITERALS = new Int32Array(256);
/** A byte's two lowercase hex digits as they go out, the first in the low byte. */
const HEX_CHARS = new Int32Array(256);
for (let b = 0; b < 256; b++) {
  const hi = HEX.charCodeAt(b >>> 4);
  const lo = HEX.charCodeAt(b & 15);
  // Digits and a-f are literals below 144: eight bits each (RFC 1951 §3.2.6).
  HEX_LITERALS[b] = FIXED_LITERAL_BITS[hi]! | (FIXED_LITERAL_BITS[lo]! << 8);
  HEX_CHARS[b] = hi | (lo << 8);
}
/** `i` (0..999) as three digits: their literal codes (24 bits), and the digits, first lowest. */
const TRIPLE_CODES = new Int32Array(1000);
const TRIPLE_CHARS = new Int32Array(1000);
for (let i = 0; i < 1000; i++) {
  const d = [0x30 + ((i / 100) | 0), 0x30 + (((i / 10) | 0) % 10), 0x30 + (i % 10)] as const;
  TRIPLE_CODES[i] =
    FIXED_LITERAL_BITS[d[0]]! | (FIXED_LITERAL_BITS[d[1]]! << 8) | (FIXED_LITERAL_BITS[d[2]]! << 16);
  TRIPLE_CHARS[i] = d[0] | (d[1] << 8) | (d[2] << 16);
}
const COMMA_CODE = FIXED_LITERAL_BITS[COMMA]!;

/** One run of template bytes between two fields: its codes and its part of the CRC register. */
interface ConstantRun {
  /** (bits, count) pairs, each at most 16 bits. */
  readonly codes: Int32Array;
  /** The register after the run entered with 0, and the shift past its length. */
  readonly crc: number;
  readonly shift: Crc32Shift;
}

/**
 * The writer's state while a span is emitted, in fields of one object that the helpers below
 * read into locals and store back: bits pending (fewer than 16 between pieces), their count,
 * where the next byte goes, and the CRC-32 register. Each helper repeats the two-byte flush
 * inline on purpose: with a writer method call per piece a span took about 2 µs, three times
 * what it takes now.
 */
interface EmitState {
  at: number;
  bits: number;
  count: number;
  crc: number;
}

/** Four bytes (a little-endian word) through the CRC register: slicing-by-4 (crc32.ts). */
function crcWord(crc: number, w: number): number {
  const t = CRC32_SLICE4;
  const x = crc ^ w;
  return t[768 + (x & 0xff)]! ^ t[512 + ((x >>> 8) & 0xff)]! ^ t[256 + ((x >>> 16) & 0xff)]! ^ t[x >>> 24]!;
}

/** One byte through the CRC register. */
function crcByte(crc: number, b: number): number {
  return CRC32_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
}

/** A run of template bytes: its back-reference codes, and the register moved past it. */
function putRun(buf: Buffer, s: EmitState, run: ConstantRun): void {
  const codes = run.codes;
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
  s.crc = run.shift.apply(s.crc) ^ run.crc;
}

/** `count` (even) id bytes from `from` of `ids` as hex digit literals. */
function putHexBytes(buf: Buffer, s: EmitState, ids: Uint8Array, from: number, count: number): void {
  let bits = s.bits;
  const n = s.count;
  let at = s.at;
  let crc = s.crc;
  for (let i = from; i < from + count; i += 2) {
    const b0 = ids[i]!;
    const b1 = ids[i + 1]!;
    // Sixteen bits onto fewer than 16: two bytes out each time.
    bits |= HEX_LITERALS[b0]! << n;
    buf[at++] = bits;
    buf[at++] = bits >>> 8;
    bits >>>= 16;
    bits |= HEX_LITERALS[b1]! << n;
    buf[at++] = bits;
    buf[at++] = bits >>> 8;
    bits >>>= 16;
    crc = crcWord(crc, HEX_CHARS[b0]! | (HEX_CHARS[b1]! << 16));
  }
  s.bits = bits;
  s.at = at;
  s.crc = crc;
}

/** An id given as a string: lowercase hex digits (validated where it came in). */
function putAscii(buf: Buffer, s: EmitState, text: string): void {
  let bits = s.bits;
  let n = s.count;
  let at = s.at;
  let crc = s.crc;
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
    crc = crcByte(crc, c);
  }
  s.bits = bits;
  s.count = n;
  s.at = at;
  s.crc = crc;
}

/** The DEFLATE form of a span template (see the file comment). */
export class GzipSpanTemplate {
  /** Bytes of a span and its comma: the distance back to the same bytes of the span before. */
  readonly distance: number;
  private readonly runs: ConstantRun[];
  private readonly hasParent: boolean;
  private readonly state: EmitState = { at: 0, bits: 0, count: 0, crc: 0 };
  /** The whole seconds of the last time written, their ten digits' codes and CRC part. */
  private seconds = -1;
  private readonly secondsCodes = new Int32Array(5);
  private secondsCrc = 0;
  private readonly secondsShift = crc32Shift(10);

  constructor(readonly template: SpanTemplate) {
    const bytes = template.bytes;
    this.distance = bytes.length + 1;
    this.hasParent = template.parentAt >= 0;
    // The fields, in the order writeSpanJson puts them.
    const fields: [number, number][] = [
      [TRACE_ID_AT, 32],
      [SPAN_ID_AT, 16],
    ];
    if (this.hasParent) fields.push([template.parentAt, 16]);
    fields.push([template.startAt, TIME_DIGITS], [template.endAt, TIME_DIGITS]);
    const runs: ConstantRun[] = [];
    let from = 0;
    for (const [at, length] of fields) {
      runs.push(this.run(from, at));
      from = at + length;
    }
    runs.push(this.run(from, bytes.length));
    this.runs = runs;
  }

  private run(from: number, to: number): ConstantRun {
    const bytes = this.template.bytes;
    let codes: number[] = [];
    if (to - from >= 3) codes = backReferenceCodes(to - from, this.distance);
    else {
      for (let i = from; i < to; i++)
        codes.push(FIXED_LITERAL_BITS[bytes[i]!]!, FIXED_LITERAL_LENGTHS[bytes[i]!]!);
    }
    return {
      codes: Int32Array.from(codes),
      crc: crc32Register(0, bytes, from, to),
      shift: crc32Shift(to - from),
    };
  }

  /**
   * Writes a comma and then a span of this template with the given ids and times, ms since
   * the epoch (both fit: timesFitTemplate). The trace id is a 32-digit string, or else the 16
   * bytes at `idsAt` of `ids`, which are followed by the span id's 8 bytes.
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
    g.room(SPAN_CODES_ROOM);
    g.fixed();
    const buf = g.buffer;
    const s = this.state;
    // The comma: 8 bits onto fewer than 8 (the writer keeps fewer than 8 between calls).
    s.bits = g.bits | (COMMA_CODE << g.bitCount);
    s.count = g.bitCount + 8;
    s.at = g.at;
    s.crc = crcByte(g.crc, COMMA);
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
    this.putTime(buf, s, startTime);
    putRun(buf, s, runs[r++]!);
    this.putTime(buf, s, endTime);
    putRun(buf, s, runs[r]!);
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
    g.crc = s.crc;
    g.size += this.distance;
  }

  /** A time's 19 digits: the whole seconds (cached, with their codes), then nine digits. */
  private putTime(buf: Buffer, s: EmitState, ms: number): void {
    let whole = Math.floor(ms);
    let fraction = Math.round((ms - whole) * 1e6);
    if (fraction >= 1e6) {
      whole += 1;
      fraction -= 1e6;
    }
    const seconds = Math.floor(whole / 1000);
    if (seconds !== this.seconds) this.cacheSeconds(seconds);
    // Nine digits, < 1e9, in three triples: small integer arithmetic.
    const nanos = ((whole - seconds * 1000) * 1e6 + fraction) | 0;
    const high = (nanos / 1_000_000) | 0;
    const rest = (nanos - high * 1_000_000) | 0;
    const middle = (rest / 1000) | 0;
    const low = (rest - middle * 1000) | 0;
    let bits = s.bits;
    let n = s.count;
    let at = s.at;
    // Ten digits of seconds: five 16-bit pieces onto fewer than 16, two bytes out each.
    const codes = this.secondsCodes;
    for (let i = 0; i < 5; i++) {
      bits |= codes[i]! << n;
      buf[at++] = bits;
      buf[at++] = bits >>> 8;
      bits >>>= 16;
    }
    // Each triple is 16 bits (two bytes out) and then 8.
    for (let k = 0; k < 3; k++) {
      const v = k === 0 ? high : k === 1 ? middle : low;
      const triple = TRIPLE_CODES[v]!;
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
    // The register: the seconds' part, then the nine digits as 4 + 4 + 1 bytes.
    const a = TRIPLE_CHARS[high]!;
    const b = TRIPLE_CHARS[middle]!;
    const c = TRIPLE_CHARS[low]!;
    let crc = this.secondsShift.apply(s.crc) ^ this.secondsCrc;
    crc = crcWord(crc, a | (b << 24));
    crc = crcWord(crc, (b >>> 8) | (c << 16));
    s.crc = crcByte(crc, c >>> 16);
  }

  private cacheSeconds(seconds: number): void {
    this.seconds = seconds;
    const digits = Buffer.from(String(seconds), 'latin1');
    // timesFitTemplate: ten digits.
    for (let i = 0; i < 5; i++) {
      this.secondsCodes[i] =
        FIXED_LITERAL_BITS[digits[2 * i]!]! | (FIXED_LITERAL_BITS[digits[2 * i + 1]!]! << 8);
    }
    this.secondsCrc = crc32Register(0, digits, 0, digits.length);
  }
}
