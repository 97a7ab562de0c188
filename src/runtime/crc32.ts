/**
 * CRC-32 as gzip uses it (RFC 1952 §8: the reflected polynomial 0xEDB88320, register started at
 * all ones and inverted at the end), worked on the register directly so that callers can keep
 * one running value across pieces of a message.
 *
 * The register update is linear over GF(2) in the register and the data together. So the
 * register after a known segment S of length L, entered with register r, is
 * `shift_L(r) XOR after(0, S)`: the segment's own part (`crc32Register(0, S)`) can be computed
 * once, and `shift_L` (running L zero bytes) is a fixed linear map, kept as four 256-entry
 * tables ({@link Crc32Shift}). Likewise each byte's part of the final register depends only on
 * the byte and on how many bytes follow it, so for a message of fixed length that repeats a
 * template with a few bytes changed, the part of every possible byte at every changing position
 * can be tabled ({@link crc32PositionTables}): the message then costs one shift and a lookup per
 * changed byte, instead of a step for every byte (see otlp-json-gzip-span.ts in
 * src/telemetry/tracing).
 */

/** The byte-at-a-time table of the reflected polynomial. */
export const CRC32_TABLE = makeTable();

function makeTable(): Int32Array {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** The register's starting value (all ones). */
export const CRC32_START = -1;

/** Runs one byte through register `r`; returns the new register. */
export function crc32Byte(r: number, byte: number): number {
  return CRC32_TABLE[(r ^ byte) & 0xff]! ^ (r >>> 8);
}

/** Runs bytes `buf[from, to)` through register `r`; returns the new register. */
export function crc32Register(r: number, buf: Uint8Array, from: number, to: number): number {
  const table = CRC32_TABLE;
  for (let i = from; i < to; i++) r = table[(r ^ buf[i]!) & 0xff]! ^ (r >>> 8);
  return r;
}

/** The CRC-32 value of a finished register (what gzip's trailer holds), as an unsigned number. */
export function crc32Value(r: number): number {
  return ~r >>> 0;
}

/** The CRC-32 of `buf[from, to)`, unsigned. */
export function crc32(buf: Uint8Array, from = 0, to = buf.length): number {
  return crc32Value(crc32Register(CRC32_START, buf, from, to));
}

/**
 * `shift_L`: what running L zero bytes does to a register, as four 256-entry tables, one per
 * register byte (see the file comment).
 */
export class Crc32Shift {
  readonly tables: Int32Array;

  /** @param length the number of zero bytes, L */
  constructor(readonly length: number) {
    // The images of the 32 one-bit registers, then every byte value's as XORs of them.
    const images = new Int32Array(32);
    const table = CRC32_TABLE;
    for (let bit = 0; bit < 32; bit++) {
      let r = 1 << bit;
      for (let i = 0; i < length; i++) r = table[r & 0xff]! ^ (r >>> 8);
      images[bit] = r;
    }
    const tables = new Int32Array(1024);
    for (let k = 0; k < 4; k++) {
      for (let v = 1; v < 256; v++) {
        const low = v & -v;
        tables[256 * k + v] = tables[256 * k + (v ^ low)]! ^ images[8 * k + 31 - Math.clz32(low)]!;
      }
    }
    this.tables = tables;
  }

  /** `shift_L(r)`. */
  apply(r: number): number {
    const t = this.tables;
    return t[r & 0xff]! ^ t[256 + ((r >>> 8) & 0xff)]! ^ t[512 + ((r >>> 16) & 0xff)]! ^ t[768 + (r >>> 24)]!;
  }
}

const shifts = new Map<number, Crc32Shift>();
/** Cached shifts kept at most; past it the cache starts over (templates change rarely). */
const MAX_CACHED_SHIFTS = 256;

/** The {@link Crc32Shift} of `length` zero bytes, made once per length. */
export function crc32Shift(length: number): Crc32Shift {
  let shift = shifts.get(length);
  if (shift === undefined) {
    if (shifts.size >= MAX_CACHED_SHIFTS) shifts.clear();
    shift = new Crc32Shift(length);
    shifts.set(length, shift);
  }
  return shift;
}

/**
 * Slicing-by-4 tables: four 256-entry tables, so that four bytes, read as a little-endian
 * word `w`, move the register with `x = r ^ w; r = t[768 + (x & 0xff)] ^ t[512 + ((x >>> 8) &
 * 0xff)] ^ t[256 + ((x >>> 16) & 0xff)] ^ t[x >>> 24]` (see {@link crc32Word}).
 */
export const CRC32_SLICE4 = makeSlice4();

function makeSlice4(): Int32Array {
  const t = new Int32Array(1024);
  t.set(CRC32_TABLE);
  for (let k = 1; k < 4; k++) {
    for (let v = 0; v < 256; v++) {
      const prev = t[256 * (k - 1) + v]!;
      t[256 * k + v] = (prev >>> 8) ^ CRC32_TABLE[prev & 0xff]!;
    }
  }
  return t;
}

/** Runs four bytes, the little-endian word `w` (first byte lowest), through register `r`. */
export function crc32Word(r: number, w: number): number {
  const t = CRC32_SLICE4;
  const x = r ^ w;
  return t[768 + (x & 0xff)]! ^ t[512 + ((x >>> 8) & 0xff)]! ^ t[256 + ((x >>> 16) & 0xff)]! ^ t[x >>> 24]!;
}

/**
 * Per position of a message of `length` bytes, the part of the register (entered with 0) that
 * each byte of `alphabet` standing there contributes, the message's other bytes being zeros:
 * entry `k * alphabet.length + a` is for `positions[k]` and `alphabet[a]`. The register is
 * linear in the message (see the file comment), so the register of a message that differs from
 * a known one only at these positions is the known part's XOR one entry per position. Unlike a
 * running register, where every step waits for the one before, the lookups are independent.
 */
export function crc32PositionTables(
  length: number,
  positions: readonly number[],
  alphabet: ArrayLike<number>,
): Int32Array {
  const size = alphabet.length;
  const out = new Int32Array(positions.length * size);
  const table = CRC32_TABLE;
  // A byte b at position p leaves T[b] in a register entered with 0, then length - 1 - p zero
  // bytes move it: a linear map, known by its images of the 32 one-bit registers. Positions are
  // taken nearest the end first, so the images are made once as the zero bytes grow.
  const order = positions.map((_, k) => k).sort((a, b) => positions[b]! - positions[a]!);
  const images = new Int32Array(32);
  for (let bit = 0; bit < 32; bit++) images[bit] = 1 << bit;
  let zeros = 0;
  for (const k of order) {
    const after = length - 1 - positions[k]!;
    if (!(after >= 0 && after < length)) {
      throw new RangeError(`position ${positions[k]} is outside a message of ${length} bytes`);
    }
    for (; zeros < after; zeros++) {
      for (let bit = 0; bit < 32; bit++) {
        const r = images[bit]!;
        images[bit] = table[r & 0xff]! ^ (r >>> 8);
      }
    }
    for (let a = 0; a < size; a++) {
      let part = 0;
      let v = table[alphabet[a]! & 0xff]!;
      for (let bit = 0; v !== 0; bit++, v >>>= 1) if (v & 1) part ^= images[bit]!;
      out[k * size + a] = part;
    }
  }
  return out;
}
