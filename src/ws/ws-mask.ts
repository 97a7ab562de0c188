/**
 * Masking of WebSocket payloads (RFC 6455 §5.3): byte i is XORed with byte (i mod 4) of the
 * frame's 32-bit masking key. Clients mask every frame with a fresh, unpredictable key (§10.3);
 * servers unmask. The XOR runs 4 bytes at a time over the 4-byte-aligned middle of the buffer
 * (one Uint32Array view), byte by byte only over the ends.
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

/** Below this many bytes the word loop's view costs more than it saves. */
const WORD_LOOP_MIN = 256;

/** Scratch for turning 4 mask bytes into a native-endian word. */
const wordBytes = new Uint8Array(4);
const wordView = new Uint32Array(wordBytes.buffer);

/**
 * XORs `data[start..end)` in place with the 4-byte mask `mask[maskAt..maskAt+4)`, starting at
 * mask byte `phase` (the number of payload bytes already processed, mod 4, for a payload that
 * arrives in pieces). Applying it twice restores the data.
 */
export function applyWsMask(
  data: Uint8Array,
  start: number,
  end: number,
  mask: Uint8Array,
  maskAt: number,
  phase: number,
): void {
  let i = start;
  if (end - start >= WORD_LOOP_MIN) {
    // Byte loop up to a 4-byte boundary of the underlying memory.
    while (((data.byteOffset + i) & 3) !== 0) {
      data[i++] ^= mask[maskAt + (phase & 3)];
      phase++;
    }
    // The key rotated so that it lines up with the aligned words.
    const k = phase & 3;
    wordBytes[0] = mask[maskAt + k];
    wordBytes[1] = mask[maskAt + ((k + 1) & 3)];
    wordBytes[2] = mask[maskAt + ((k + 2) & 3)];
    wordBytes[3] = mask[maskAt + ((k + 3) & 3)];
    const word = wordView[0];
    const words = (end - i) >>> 2;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= word;
    i += words << 2;
  }
  // Short payloads and the tail: 4 bytes per iteration with the key rotated to the phase.
  const k = phase & 3;
  const m0 = mask[maskAt + k];
  const m1 = mask[maskAt + ((k + 1) & 3)];
  const m2 = mask[maskAt + ((k + 2) & 3)];
  const m3 = mask[maskAt + ((k + 3) & 3)];
  const stop4 = end - 3;
  for (; i < stop4; i += 4) {
    data[i] ^= m0;
    data[i + 1] ^= m1;
    data[i + 2] ^= m2;
    data[i + 3] ^= m3;
  }
  if (i < end) data[i++] ^= m0;
  if (i < end) data[i++] ^= m1;
  if (i < end) data[i] ^= m2;
}

/** Masking keys per pool refill: one `randomFillSync` per 2048 frames. */
const POOL_KEYS = 2048;

/**
 * A source of masking keys from the system CSPRNG (RFC 6455 §5.3, §10.3: keys must not be
 * predictable). Keys are drawn from a pool refilled 8 KiB at a time, so a frame costs no
 * system call.
 */
export class WsMaskKeySource {
  private readonly pool = Buffer.allocUnsafe(POOL_KEYS * 4);
  private at = POOL_KEYS * 4;

  /** Writes a fresh 4-byte key into `target` at `offset`. */
  writeKey(target: Uint8Array, offset: number): void {
    if (this.at === this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const pool = this.pool;
    const at = this.at;
    target[offset] = pool[at];
    target[offset + 1] = pool[at + 1];
    target[offset + 2] = pool[at + 2];
    target[offset + 3] = pool[at + 3];
    this.at = at + 4;
  }
}
