/**
 * Incremental UTF-8 validation for text messages (RFC 6455 §5.6, §8.1; UTF-8 per RFC 3629 §4):
 * a message arrives in pieces, a code point may be split between them, and an invalid
 * sequence must fail the connection (1007) as soon as it is seen, not only at the message end.
 *
 * The bulk of each piece goes to Node's native `isUtf8`; a small byte state machine carries a
 * code point split across pieces and checks the pieces' ends, so the native check always gets
 * whole code points. Pieces shorter than {@link NATIVE_MIN} go through the state machine only.
 */
import { isUtf8 } from 'node:buffer';

/** Below this many bytes the JS state machine beats the native call. */
const NATIVE_MIN = 64;

/** Validates UTF-8 fed in pieces. */
export class Utf8Validator {
  /** Continuation bytes still needed by the current code point. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4: RFC 3629 §4). */
  private lo = 0x80;
  private hi = 0xbf;

  /** Starts a new message. */
  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** True when the message so far ends on a code point boundary (call at the message end). */
  get complete(): boolean {
    return this.need === 0;
  }

  /** Feeds `data[start..end)`; false as soon as the bytes so far cannot be UTF-8. */
  update(data: Uint8Array, start: number, end: number): boolean {
    let i = start;
    // Finish a code point left open by the previous piece.
    while (this.need !== 0 && i < end) {
      if (!this.step(data[i++])) return false;
    }
    if (i === end) return true;
    if (end - i < NATIVE_MIN) {
      for (; i < end; i++) {
        const b = data[i];
        if (b < 0x80 && this.need === 0) continue;
        if (!this.step(b)) return false;
      }
      return true;
    }
    // Cut before a code point that this piece leaves incomplete (its lead is at most 3 back).
    let cut = end;
    for (let j = end - 1; j >= i && j >= end - 3; j--) {
      const b = data[j];
      if (b < 0x80) break;
      if (b >= 0xc0) {
        const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        if (end - j < length) cut = j;
        break;
      }
    }
    if (cut > i) {
      if (!isUtf8(data.subarray(i, cut))) return false;
    }
    for (let j = cut; j < end; j++) {
      if (!this.step(data[j])) return false;
    }
    return true;
  }

  /** One byte through the state machine (RFC 3629 §4 table). */
  private step(b: number): boolean {
    if (this.need !== 0) {
      if (b < this.lo || b > this.hi) return false;
      this.lo = 0x80;
      this.hi = 0xbf;
      this.need--;
      return true;
    }
    if (b < 0x80) return true;
    if (b < 0xc2) return false; // continuation byte without a lead, or overlong C0/C1
    if (b < 0xe0) {
      this.need = 1;
    } else if (b < 0xf0) {
      this.need = 2;
      if (b === 0xe0)
        this.lo = 0xa0; // overlong
      else if (b === 0xed) this.hi = 0x9f; // UTF-16 surrogates
    } else if (b < 0xf5) {
      this.need = 3;
      if (b === 0xf0)
        this.lo = 0x90; // overlong
      else if (b === 0xf4) this.hi = 0x8f; // above U+10FFFF
    } else {
      return false;
    }
    return true;
  }
}
