/**
 * Finding the end of a field value fast. A value runs until the first byte that is not
 * field-vchar / SP / HTAB (RFC 9110 §5.5): normally the CR of its line, otherwise a forbidden
 * control byte. Header values are most of a request head's bytes, so this is the parser's
 * innermost loop; it tests four bytes per step with word arithmetic (a byte below 0x20, or a
 * DEL, anywhere in the word) and only looks at single bytes in a word that trips the test.
 */
import { FIELD_VALUE_CHARS } from '../core/char-classes.js';

const LOW = 0x20202020; // every byte 0x20: "is any byte below SP?"
const ONES = 0x01010101;
const DELS = 0x7f7f7f7f;
const HIGH = 0x80808080 | 0;

/**
 * Index of the first byte in `buf[i, n)` that may not appear in a field value, or `n`.
 * `view` must be a DataView over exactly the same bytes as `buf`.
 */
export function scanFieldValue(buf: Uint8Array, view: DataView, i: number, n: number): number {
  const wordEnd = n - 3;
  while (i < wordEnd) {
    const w = view.getInt32(i, true);
    const d = w ^ DELS;
    // Any byte < 0x20 (the classic "has less than" test), or any byte equal to 0x7f.
    if ((((w - LOW) & ~w) | ((d - ONES) & ~d)) & HIGH) {
      // Something in this word needs a closer look; HTAB is the one control that is allowed.
      const stop = i + 4;
      for (; i < stop; i++) if (FIELD_VALUE_CHARS[buf[i]] === 0) return i;
    } else {
      i += 4;
    }
  }
  for (; i < n; i++) if (FIELD_VALUE_CHARS[buf[i]] === 0) return i;
  return n;
}
