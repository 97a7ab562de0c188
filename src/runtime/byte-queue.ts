/**
 * ByteQueue: the bytes a transport has received and a protocol core has not consumed yet, kept as
 * the list of Buffer chunks they arrived in. Searching and reading work across chunk boundaries
 * without first gluing the chunks together; bytes are copied only when a caller asks for one
 * contiguous Buffer that spans several chunks (`take`, `toBuffer`).
 *
 * Consumed chunks are not removed with `Array.prototype.shift` (O(n) per call): the queue keeps a
 * head index and a byte offset into the head chunk, overwrites consumed slots with an empty Buffer
 * so they can be garbage collected, and compacts the array only once the dead prefix is at least
 * half of it (amortised O(1) per chunk).
 */
import { Buffer } from 'node:buffer';
import { AvxError } from '../core/errors.js';

/** Shared zero-length Buffer: the placeholder for consumed slots and the result of `take(0)`. */
const EMPTY: Buffer = Buffer.alloc(0);

/** A dead prefix shorter than this is never compacted: copying a few slots is not worth it. */
const MIN_COMPACT_HEAD = 32;

/** A `take`, `takeChunks` or `skip` asked for more bytes than the queue holds, or for a bad count. */
export class ByteQueueUnderflowError extends AvxError {
  /** The number of bytes asked for. */
  readonly requested: number;
  /** The number of bytes the queue held. */
  readonly available: number;

  constructor(requested: number, available: number) {
    super(
      'AVX_BYTE_QUEUE_UNDERFLOW',
      `cannot consume ${requested} bytes from a ByteQueue holding ${available}: the count must be an integer from 0 to the queue length`,
    );
    this.requested = requested;
    this.available = available;
  }
}

/**
 * A FIFO of bytes stored as the Buffer chunks that were pushed, never copied on the way in.
 *
 * Offsets given to and returned by the methods are relative to the first unconsumed byte.
 * Buffers returned by `take`, `takeChunks` and `toBuffer` may share memory with the pushed
 * chunks, so a producer must not reuse a chunk's memory after pushing it.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index in `chunks` of the first chunk with unconsumed bytes. */
  private head = 0;
  /** Bytes of `chunks[head]` already consumed. */
  private offset = 0;
  private total = 0;

  /** Number of unconsumed bytes. */
  get length(): number {
    return this.total;
  }

  /** Appends a chunk without copying it. Empty chunks are ignored. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The byte at offset `index`, or -1 when `index` is not in `0 .. length - 1`. */
  peek(index: number): number {
    if (index < 0 || index >= this.total) return -1;
    const chunks = this.chunks;
    let k = this.head;
    index += this.offset;
    let chunk = chunks[k];
    while (index >= chunk.length) {
      index -= chunk.length;
      chunk = chunks[++k];
    }
    return chunk[index];
  }

  /**
   * Offset of the first occurrence of `needle` at or after offset `from`, or -1.
   *
   * @param needle A byte value (0..255) or a byte sequence such as `\r\n\r\n`; a match may span
   *   any number of chunks. An empty sequence matches at `from` when `from <= length`.
   * @param from Offset to start searching at (default 0); negative values count as 0.
   */
  indexOf(needle: number | Buffer, from = 0): number {
    if (from < 0) from = 0;
    if (typeof needle === 'number') return this.indexOfByte(needle, from);
    const needleLength = needle.length;
    if (needleLength === 0) return from <= this.total ? from : -1;
    if (needleLength === 1) return this.indexOfByte(needle[0], from);
    if (from + needleLength > this.total) return -1;

    const chunks = this.chunks;
    const chunkCount = chunks.length;
    // `base` is the queue offset of byte 0 of chunks[k]; negative for a partly consumed head chunk.
    let k = this.head;
    let base = -this.offset;
    while (from >= base + chunks[k].length) {
      base += chunks[k].length;
      k++;
    }
    let start = from - base;
    const firstByte = needle[0];
    for (; k < chunkCount; k++) {
      const chunk = chunks[k];
      const chunkLength = chunk.length;
      // Matches that lie inside this chunk come first: they start before any spanning match.
      if (chunkLength - start >= needleLength) {
        const found = chunk.indexOf(needle, start);
        if (found !== -1) return base + found;
        start = chunkLength - needleLength + 1;
      }
      // Matches that start in this chunk's last `needleLength - 1` bytes and run into the next ones.
      for (let i = start; i < chunkLength; i++) {
        if (chunk[i] === firstByte && this.matchesAcross(k, i, needle)) return base + i;
      }
      base += chunkLength;
      start = 0;
    }
    return -1;
  }

  /**
   * Removes and returns the next `n` bytes. When they lie in one chunk the result is a view of
   * that chunk (no copy; the chunk itself when it is taken whole); when they span chunks they are
   * copied into one new Buffer. Throws {@link ByteQueueUnderflowError} when `n` exceeds `length`.
   */
  take(n: number): Buffer {
    this.checkCount(n);
    if (n === 0) return EMPTY;
    const chunk = this.chunks[this.head];
    const offset = this.offset;
    const inHead = chunk.length - offset;
    if (n <= inHead) {
      const out = offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n);
      this.consume(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const current = this.chunks[this.head];
      const available = current.length - this.offset;
      const count = Math.min(n - written, available);
      current.copy(out, written, this.offset, this.offset + count);
      written += count;
      this.consume(count);
    }
    return out;
  }

  /**
   * Removes the next `n` bytes and appends them to `out` as views of the queued chunks, never
   * copying. Pass a reused array as `out` to avoid allocating one per call.
   * Throws {@link ByteQueueUnderflowError} when `n` exceeds `length`.
   * @returns `out`
   */
  takeChunks(n: number, out: Buffer[] = []): Buffer[] {
    this.checkCount(n);
    while (n > 0) {
      const chunk = this.chunks[this.head];
      const offset = this.offset;
      const available = chunk.length - offset;
      if (offset === 0 && n >= available) {
        out.push(chunk);
        this.consume(available);
        n -= available;
      } else {
        const count = Math.min(n, available);
        out.push(chunk.subarray(offset, offset + count));
        this.consume(count);
        n -= count;
      }
    }
    return out;
  }

  /** Discards the next `n` bytes. Throws {@link ByteQueueUnderflowError} when `n` exceeds `length`. */
  skip(n: number): void {
    this.checkCount(n);
    while (n > 0) {
      const available = this.chunks[this.head].length - this.offset;
      const count = Math.min(n, available);
      this.consume(count);
      n -= count;
    }
  }

  /**
   * All unconsumed bytes as one Buffer, without consuming them. A single remaining chunk is
   * returned as a view (no copy); several are concatenated into a new Buffer.
   */
  toBuffer(): Buffer {
    const chunks = this.chunks;
    const head = this.head;
    if (this.total === 0) return EMPTY;
    if (head === chunks.length - 1) {
      const chunk = chunks[head];
      return this.offset === 0 ? chunk : chunk.subarray(this.offset);
    }
    const out = Buffer.allocUnsafe(this.total);
    let written = chunks[head].copy(out, 0, this.offset);
    for (let k = head + 1; k < chunks.length; k++) written += chunks[k].copy(out, written);
    return out;
  }

  /** Drops every queued byte. */
  clear(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.offset = 0;
    this.total = 0;
  }

  private indexOfByte(byte: number, from: number): number {
    if (from >= this.total) return -1;
    const chunks = this.chunks;
    let k = this.head;
    let base = -this.offset;
    while (from >= base + chunks[k].length) {
      base += chunks[k].length;
      k++;
    }
    let start = from - base;
    for (; k < chunks.length; k++) {
      const chunk = chunks[k];
      const found = chunk.indexOf(byte, start);
      if (found !== -1) return base + found;
      base += chunk.length;
      start = 0;
    }
    return -1;
  }

  /** Whether `needle` occurs starting at byte `index` of chunks[k], following into later chunks. */
  private matchesAcross(k: number, index: number, needle: Buffer): boolean {
    const chunks = this.chunks;
    let chunk = chunks[k];
    for (let i = 0; i < needle.length; i++) {
      while (index === chunk.length) {
        if (++k === chunks.length) return false;
        chunk = chunks[k];
        index = 0;
      }
      if (chunk[index] !== needle[i]) return false;
      index++;
    }
    return true;
  }

  private checkCount(n: number): void {
    // `n >= 0` is false for NaN; `n % 1` rejects fractions.
    if (!(n >= 0 && n <= this.total && n % 1 === 0)) throw new ByteQueueUnderflowError(n, this.total);
  }

  /** Consumes `n` bytes, which must all lie in the head chunk. */
  private consume(n: number): void {
    this.total -= n;
    const chunks = this.chunks;
    const offset = this.offset + n;
    if (offset < chunks[this.head].length) {
      this.offset = offset;
      return;
    }
    chunks[this.head] = EMPTY;
    this.offset = 0;
    const head = this.head + 1;
    if (head === chunks.length) {
      chunks.length = 0;
      this.head = 0;
    } else if (head >= MIN_COMPACT_HEAD && head * 2 >= chunks.length) {
      chunks.copyWithin(0, head);
      chunks.length -= head;
      this.head = 0;
    } else {
      this.head = head;
    }
  }
}
