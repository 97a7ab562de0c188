/**
 * Random trace ids (16 bytes, W3C Trace Context §3.2.2.3) and span ids (8 bytes, §3.2.2.4) as
 * lowercase hex, from `crypto.randomFillSync` drawn through a pooled 4 KiB buffer (one system
 * call per 170 spans). The pool is hex-encoded whole when refilled, and each id is a slice of
 * that text: one native hex conversion per 170 spans instead of two per span, and V8 makes a
 * slice of a long string without copying. An id that comes out all zero (invalid) is drawn again.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolHex = '';
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_SIZE) {
      randomFillSync(pool);
      poolHex = pool.toString('hex');
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    for (let i = start; i < offset; i++) {
      if (pool[i] !== 0) return poolHex.slice(start * 2, offset * 2);
    }
  }
}

/** A new random 128-bit trace id (32 hex digits). */
export function newTraceId(): string {
  return randomHex(16);
}

/** A new random 64-bit span id (16 hex digits). */
export function newSpanId(): string {
  return randomHex(8);
}
