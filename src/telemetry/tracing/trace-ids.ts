/**
 * Random trace ids (16 bytes, W3C Trace Context §3.2.2.3) and span ids (8 bytes, §3.2.2.4) as
 * lowercase hex, from `crypto.randomFillSync` drawn through a pooled 4 KiB buffer (one system
 * call per 170 spans). An id that comes out all zero (invalid) is drawn again.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_SIZE) {
      randomFillSync(pool);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    let nonZero = false;
    for (let i = start; i < offset; i++) {
      if (pool[i] !== 0) {
        nonZero = true;
        break;
      }
    }
    if (nonZero) return pool.toString('hex', start, offset);
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
