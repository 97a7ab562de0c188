/**
 * Random trace ids (16 bytes, W3C Trace Context §3.2.2.3) and span ids (8 bytes, §3.2.2.4) as
 * lowercase hex, from `crypto.randomFillSync` drawn through a pooled 64 KiB buffer (one call
 * per 2,730 server spans: in a busy server, a 4 KiB pool's refills cost a quarter of a
 * microsecond per span, mostly per call, not per byte). The pool is hex-encoded whole when refilled, as text and as bytes: each
 * id is a slice of the text (V8 slices a long string without copying), and the exporter copies
 * an id's digits from the bytes, which is several times faster than reading them out of the
 * string. An id that comes out all zero (invalid) is drawn again.
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 65536;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** The hex digits of the current pool as text. A refill makes a new one. */
export let idText = '';
/** The same digits as bytes. A refill makes a new array: spans keep theirs. */
export let idDigits: Uint8Array = new Uint8Array(0);

function allZero(from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (pool[i] !== 0) return false;
  return true;
}

/**
 * Draws a new span id, preceded by a new trace id when `withTraceId`: returns the offset of
 * their digits in {@link idText} / {@link idDigits} (trace id first, then the span id).
 */
export function drawIdDigits(withTraceId: boolean): number {
  const bytes = withTraceId ? 24 : 8;
  for (;;) {
    if (offset + bytes > POOL_SIZE) {
      randomFillSync(pool);
      idText = pool.toString('hex');
      idDigits = Buffer.from(idText, 'latin1');
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    const spanStart = withTraceId ? start + 16 : start;
    if ((withTraceId && allZero(start, spanStart)) || allZero(spanStart, offset)) continue;
    return start * 2;
  }
}

/** A new random 128-bit trace id (32 hex digits). */
export function newTraceId(): string {
  // A whole draw, whose span id part goes unused: trace ids alone are rare (tests, tools).
  const at = drawIdDigits(true);
  return idText.slice(at, at + 32);
}

/** A new random 64-bit span id (16 hex digits). */
export function newSpanId(): string {
  const at = drawIdDigits(false);
  return idText.slice(at, at + 16);
}
