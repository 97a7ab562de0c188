/**
 * The HTTP/2 frame writer (RFC 9113 §4.1, §6): serializes every frame type into an outgoing
 * byte queue. Small frames are packed back to back into one scratch buffer, so a burst of
 * control frames leaves as one write; large DATA payloads are queued by reference, not
 * copied. Header blocks larger than the peer's SETTINGS_MAX_FRAME_SIZE are split into
 * HEADERS + CONTINUATION frames (§6.10). `take()` hands the queued bytes to the driver.
 */
import { Buffer } from 'node:buffer';
import { H2_FRAME_HEADER_LENGTH, H2Flag, H2FrameType } from './h2-frame-types.js';

/** The largest scratch buffer; a connection grows to it only when it writes that much at once. */
const SCRATCH = 16384;
/**
 * The first scratch buffer: small enough to come from Node's shared allocation pool, so an idle
 * connection that only ever wrote small frames holds no 16 KiB buffer of its own (that buffer
 * was most of the memory of an idle HTTP/2 connection).
 */
const FIRST_SCRATCH = 1024;
/** The scratch buffer of a writer that holds none. */
const NO_SCRATCH = Buffer.alloc(0);
/** DATA payloads at least this large are queued by reference instead of copied. */
const COPY_LIMIT = 1024;

/** An outgoing frame queue. */
export class H2FrameWriter {
  private chunks: Buffer[] = [];
  /** Made on the first write, and let go by {@link release} (then {@link NO_SCRATCH}). */
  private scratch: Buffer = NO_SCRATCH;
  /** The size of the next scratch buffer: doubles each time one fills up, up to SCRATCH. */
  private scratchSize = FIRST_SCRATCH;
  private start = 0;
  private pos = 0;
  private queued = 0;

  /** Bytes queued and not yet taken. */
  get size(): number {
    return this.queued + (this.pos - this.start);
  }

  /** The queued bytes, in order, or an empty array; the queue is empty afterwards. */
  take(): Buffer[] {
    this.seal();
    const chunks = this.chunks;
    this.chunks = [];
    this.queued = 0;
    return chunks;
  }

  /** Writes a frame header (RFC 9113 §4.1) into the scratch buffer. */
  frameHeader(length: number, type: number, flags: number, streamId: number): void {
    this.reserve(H2_FRAME_HEADER_LENGTH);
    const b = this.scratch;
    let p = this.pos;
    b[p++] = (length >>> 16) & 0xff;
    b[p++] = (length >>> 8) & 0xff;
    b[p++] = length & 0xff;
    b[p++] = type;
    b[p++] = flags;
    b.writeUInt32BE(streamId & 0x7fffffff, p);
    this.pos = p + 4;
  }

  /** Appends raw payload bytes (copied when small). */
  payload(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (bytes.length >= COPY_LIMIT) {
      this.seal();
      const buf = Buffer.isBuffer(bytes)
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.chunks.push(buf);
      this.queued += buf.length;
      return;
    }
    this.reserve(bytes.length);
    this.scratch.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** RFC 9113 §6.1: a DATA frame. */
  data(streamId: number, payload: Uint8Array, endStream: boolean): void {
    this.frameHeader(payload.length, H2FrameType.DATA, endStream ? H2Flag.END_STREAM : 0, streamId);
    this.payload(payload);
  }

  /**
   * RFC 9113 §6.2, §6.10: a header block as HEADERS plus CONTINUATION frames of at most
   * `maxFrameSize` octets each.
   */
  headers(streamId: number, block: Uint8Array, endStream: boolean, maxFrameSize: number): void {
    const endFlag = endStream ? H2Flag.END_STREAM : 0;
    if (block.length <= maxFrameSize) {
      this.frameHeader(block.length, H2FrameType.HEADERS, endFlag | H2Flag.END_HEADERS, streamId);
      this.copy(block, 0, block.length);
      return;
    }
    this.frameHeader(maxFrameSize, H2FrameType.HEADERS, endFlag, streamId);
    this.copy(block, 0, maxFrameSize);
    let offset = maxFrameSize;
    while (offset < block.length) {
      const length = Math.min(maxFrameSize, block.length - offset);
      const last = offset + length === block.length;
      this.frameHeader(length, H2FrameType.CONTINUATION, last ? H2Flag.END_HEADERS : 0, streamId);
      this.copy(block, offset, offset + length);
      offset += length;
    }
  }

  /**
   * RFC 9113 §6.6, §6.10: PUSH_PROMISE on `streamId` promising `promisedId`, the request's header
   * block split into CONTINUATION frames as needed (the first frame also carries the 4-octet
   * promised stream id).
   */
  pushPromise(streamId: number, promisedId: number, block: Uint8Array, maxFrameSize: number): void {
    const first = Math.min(block.length, maxFrameSize - 4);
    const last = first === block.length;
    this.frameHeader(4 + first, H2FrameType.PUSH_PROMISE, last ? H2Flag.END_HEADERS : 0, streamId);
    this.uint32(promisedId & 0x7fffffff);
    this.copy(block, 0, first);
    let offset = first;
    while (offset < block.length) {
      const length = Math.min(maxFrameSize, block.length - offset);
      const end = offset + length === block.length;
      this.frameHeader(length, H2FrameType.CONTINUATION, end ? H2Flag.END_HEADERS : 0, streamId);
      this.copy(block, offset, offset + length);
      offset += length;
    }
  }

  /** RFC 9218 §7.1: PRIORITY_UPDATE (on stream 0) for `prioritizedId` with a `priority` field value. */
  priorityUpdate(prioritizedId: number, fieldValue: string): void {
    const value = Buffer.from(fieldValue, 'latin1');
    this.frameHeader(4 + value.length, H2FrameType.PRIORITY_UPDATE, 0, 0);
    this.uint32(prioritizedId & 0x7fffffff);
    this.copy(value, 0, value.length);
  }

  /** RFC 9113 §6.3: a PRIORITY frame. */
  priority(streamId: number, dependency: number, exclusive: boolean, weight: number): void {
    this.frameHeader(5, H2FrameType.PRIORITY, 0, streamId);
    this.reserve(5);
    this.scratch.writeUInt32BE(((exclusive ? 0x80000000 : 0) | dependency) >>> 0, this.pos);
    this.scratch[this.pos + 4] = weight;
    this.pos += 5;
  }

  /** RFC 9113 §6.4: RST_STREAM. */
  rstStream(streamId: number, errorCode: number): void {
    this.frameHeader(4, H2FrameType.RST_STREAM, 0, streamId);
    this.uint32(errorCode);
  }

  /** RFC 9113 §6.5: SETTINGS with `[id, value, id, value, ...]`. */
  settings(values: readonly number[]): void {
    const count = values.length >> 1;
    this.frameHeader(count * 6, H2FrameType.SETTINGS, 0, 0);
    this.reserve(count * 6);
    for (let i = 0; i < count; i++) {
      this.scratch.writeUInt16BE(values[2 * i]!, this.pos);
      this.scratch.writeUInt32BE(values[2 * i + 1]! >>> 0, this.pos + 2);
      this.pos += 6;
    }
  }

  /** RFC 9113 §6.5.3: SETTINGS acknowledgement. */
  settingsAck(): void {
    this.frameHeader(0, H2FrameType.SETTINGS, H2Flag.ACK, 0);
  }

  /** RFC 9113 §6.7: PING (8 octets of opaque data). */
  ping(payload: Uint8Array, ack: boolean): void {
    this.frameHeader(8, H2FrameType.PING, ack ? H2Flag.ACK : 0, 0);
    this.copy(payload, 0, 8);
  }

  /** RFC 9113 §6.8: GOAWAY. */
  goaway(lastStreamId: number, errorCode: number, debug?: Uint8Array): void {
    const extra = debug?.length ?? 0;
    this.frameHeader(8 + extra, H2FrameType.GOAWAY, 0, 0);
    this.uint32(lastStreamId & 0x7fffffff);
    this.uint32(errorCode);
    if (debug !== undefined) this.copy(debug, 0, debug.length);
  }

  /** RFC 9113 §6.9: WINDOW_UPDATE. */
  windowUpdate(streamId: number, increment: number): void {
    this.frameHeader(4, H2FrameType.WINDOW_UPDATE, 0, streamId);
    this.uint32(increment & 0x7fffffff);
  }

  /** Any frame, for tests and extensions: header plus payload as given. */
  raw(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    this.frameHeader(payload.length, type, flags, streamId);
    this.copy(payload, 0, payload.length);
  }

  /** Appends raw bytes (the client preface). */
  bytes(bytes: Uint8Array): void {
    this.copy(bytes, 0, bytes.length);
  }

  private uint32(value: number): void {
    this.reserve(4);
    this.scratch.writeUInt32BE(value >>> 0, this.pos);
    this.pos += 4;
  }

  private copy(bytes: Uint8Array, from: number, to: number): void {
    const length = to - from;
    if (length === 0) return;
    if (length >= SCRATCH) {
      this.seal();
      const copy = Buffer.allocUnsafe(length);
      copy.set(bytes.subarray(from, to));
      this.chunks.push(copy);
      this.queued += length;
      return;
    }
    this.reserve(length);
    this.scratch.set(bytes.subarray(from, to), this.pos);
    this.pos += length;
  }

  /**
   * Lets go of the scratch buffer once everything written was taken; the next write takes a
   * new one (of the size reached so far). The connection calls it when no stream is open: an
   * idle connection then holds no buffer, not even the part of one its last frames left free.
   */
  release(): void {
    if (this.pos !== this.start || this.chunks.length > 0) return;
    this.scratch = NO_SCRATCH;
    this.start = 0;
    this.pos = 0;
  }

  /** Makes room for `length` more bytes in the scratch buffer. */
  private reserve(length: number): void {
    if (this.pos + length <= this.scratch.length) return;
    this.seal();
    // The first buffer after none (at the start, or after release) keeps the size reached.
    if (this.scratch !== NO_SCRATCH) this.scratchSize = Math.min(SCRATCH, this.scratchSize * 2);
    this.scratch = Buffer.allocUnsafe(Math.max(this.scratchSize, length));
    this.start = 0;
    this.pos = 0;
  }

  /** Moves the written part of the scratch buffer to the chunk list. */
  private seal(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.scratch.subarray(this.start, this.pos));
      this.queued += this.pos - this.start;
      this.start = this.pos;
    }
  }
}
