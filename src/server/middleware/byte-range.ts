/**
 * The `Range` request header for byte ranges (RFC 9110 §14.1.2, §14.2), reduced to what a file
 * server answers: one range of a representation of known size. Parsed with loops, no regexes.
 *
 * - `bytes=a-b`, `bytes=a-` and `bytes=-n` (the last n bytes); the unit is case-insensitive.
 * - A syntactically invalid field, another unit, or several ranges yield null: the server then
 *   ignores the field and sends the whole representation (RFC 9110 §14.2 allows that).
 * - A range starting at or beyond the end, or `-0`, is unsatisfiable (416, RFC 9110 §15.5.17).
 * - An end beyond the last byte is clamped to it; a suffix longer than the size means all of it.
 */

/** An inclusive byte range `[start, end]` within a representation. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The outcome for a range that cannot be served. */
export const UNSATISFIABLE = 'unsatisfiable';

/** Longest decimal position accepted (keeps numbers exact in a double). */
const MAX_DIGITS = 15;

/**
 * The single byte range `field` asks of a representation of `size` bytes: a {@link ByteRange},
 * {@link UNSATISFIABLE}, or null when the field is to be ignored.
 */
export function parseByteRange(field: string, size: number): ByteRange | typeof UNSATISFIABLE | null {
  const eq = field.indexOf('=');
  if (eq === -1 || field.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  const spec = field.slice(eq + 1).trim();
  if (spec.indexOf(',') !== -1) return null; // several ranges: serve the whole representation
  const dash = spec.indexOf('-');
  if (dash === -1) return null;
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();
  if (first === '') {
    const suffix = decimal(last);
    if (suffix === -1) return null;
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = decimal(first);
  if (start === -1) return null;
  let end = size - 1;
  if (last !== '') {
    end = decimal(last);
    if (end === -1 || end < start) return null; // invalid range: ignore the field
    end = Math.min(end, size - 1);
  }
  if (start >= size) return UNSATISFIABLE;
  return { start, end };
}

/** The value of a string of ASCII digits, or -1. */
function decimal(text: string): number {
  const n = text.length;
  if (n === 0 || n > MAX_DIGITS) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
