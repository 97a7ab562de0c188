/**
 * The HTTP/3 frame reader (RFC 9114 §7.1): splits the bytes of one stream into frames, fed in
 * pieces of any size. An explicit state machine (type, length, payload) that reads each
 * variable-length integer across chunk boundaries; DATA payloads (§7.2.1) are streamed as
 * zero-copy slices, never buffered; frames of unknown and greasing types are skipped without
 * buffering (§7.2.8, §9); every other frame is gathered whole (a zero-copy slice when it lies
 * in one chunk) within a size limit, over which the connection fails with H3_EXCESSIVE_LOAD
 * (§10.5). Which frame may appear on which stream is the connection's business: it is asked
 * through `onFrameStart` before any payload is read, and may throw.
 */
import { Buffer } from 'node:buffer';
import { readVarintBig, varintLengthOf } from '../quic/quic-varint.js';
import { H3Error, H3ErrorCode } from './h3-error.js';
import { H3FrameType } from './h3-frame-types.js';

/** Receives the frames of one stream. Buffers are only valid during the call. */
export interface H3FrameSink {
  /** A frame header was read (before any payload). Throw an {@link H3Error} to refuse it. */
  onFrameStart(type: number, length: number): void;
  /** A complete frame other than DATA or an unknown type (HEADERS, SETTINGS, GOAWAY, ...). */
  onFrame(type: number, payload: Buffer): void;
  /** A piece of a DATA frame's payload; `frameEnd` on its last piece (empty for an empty frame). */
  onData(chunk: Buffer, frameEnd: boolean): void;
}

/** Limits of an {@link H3FrameReader}, in octets of frame payload. */
export interface H3FrameReaderLimits {
  /** Largest HEADERS or PUSH_PROMISE payload gathered. */
  maxFieldSectionFrameSize: number;
  /** Largest payload of any other gathered frame (SETTINGS, GOAWAY, CANCEL_PUSH, MAX_PUSH_ID). */
  maxControlFrameSize: number;
}

const enum ReadState {
  Type,
  Length,
  Gather,
  Data,
  Skip,
}

/** The type of a frame whose type does not fit a JavaScript number: unknown by definition. */
export const H3_UNKNOWN_FRAME_TYPE = -1;

const EMPTY = Buffer.alloc(0);

/** Incremental frame reader for one stream. */
export class H3FrameReader {
  private readonly sink: H3FrameSink;
  private readonly limits: H3FrameReaderLimits;
  private state = ReadState.Type;
  private readonly varint = Buffer.alloc(8);
  private varintFill = 0;
  private type = 0;
  /** Payload octets still to come. */
  private remaining = 0;
  private gather: Buffer = EMPTY;
  private gatherFill = 0;
  private paused = false;

  constructor(sink: H3FrameSink, limits: H3FrameReaderLimits) {
    this.sink = sink;
    this.limits = limits;
  }

  /** True between frames: a stream may end cleanly only there (§7.1). */
  get atFrameBoundary(): boolean {
    return this.state === ReadState.Type && this.varintFill === 0;
  }

  /** Stops reading after the current callback (the connection's QPACK-blocked HEADERS). */
  pause(): void {
    this.paused = true;
  }

  /** Allows reading again after {@link pause}. */
  resume(): void {
    this.paused = false;
  }

  /**
   * Reads `chunk`; returns the octets consumed, fewer than its length only when a callback
   * paused the reader (feed the rest again after `resume`). Throws what the sink throws, and
   * {@link H3Error} H3_EXCESSIVE_LOAD for a frame over the limits.
   */
  push(chunk: Buffer): number {
    let pos = 0;
    const n = chunk.length;
    while (!this.paused) {
      switch (this.state) {
        case ReadState.Type:
        case ReadState.Length: {
          if (pos >= n) return pos;
          const value = this.readVarint(chunk, pos);
          pos = this.varintEnd;
          if (value === undefined) return pos;
          if (this.state === ReadState.Type) {
            this.type = value > BigInt(Number.MAX_SAFE_INTEGER) ? H3_UNKNOWN_FRAME_TYPE : Number(value);
            this.state = ReadState.Length;
          } else {
            if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
              throw H3Error.connection(H3ErrorCode.H3_EXCESSIVE_LOAD, 'frame length above 2^53 - 1');
            }
            this.startPayload(Number(value));
            if ((this.state as ReadState) === ReadState.Gather && this.remaining === 0)
              this.finishGather(EMPTY);
          }
          break;
        }
        case ReadState.Data: {
          if (this.remaining === 0) {
            this.state = ReadState.Type;
            this.sink.onData(EMPTY, true);
            break;
          }
          if (pos >= n) return pos;
          const take = Math.min(this.remaining, n - pos);
          this.remaining -= take;
          const piece = chunk.subarray(pos, pos + take);
          pos += take;
          if (this.remaining === 0) this.state = ReadState.Type;
          this.sink.onData(piece, this.remaining === 0);
          break;
        }
        case ReadState.Skip: {
          const take = Math.min(this.remaining, n - pos);
          this.remaining -= take;
          pos += take;
          if (this.remaining > 0) return pos;
          this.state = ReadState.Type;
          break;
        }
        case ReadState.Gather: {
          if (pos >= n) return pos;
          const take = Math.min(this.remaining, n - pos);
          if (this.gatherFill === 0 && take === this.remaining) {
            // The whole payload is in this chunk: hand over a slice.
            pos += take;
            this.finishGather(chunk.subarray(pos - take, pos));
            break;
          }
          if (this.gather.length === 0) this.gather = Buffer.allocUnsafe(this.remaining);
          chunk.copy(this.gather, this.gatherFill, pos, pos + take);
          this.gatherFill += take;
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) {
            const payload = this.gather;
            this.gather = EMPTY;
            this.gatherFill = 0;
            this.finishGather(payload);
          }
          break;
        }
      }
    }
    return pos;
  }

  private varintEnd = 0;

  /** Reads a varint at `pos`, across calls; undefined while incomplete. Sets `varintEnd`. */
  private readVarint(chunk: Buffer, pos: number): bigint | undefined {
    const buf = this.varint;
    if (this.varintFill === 0) {
      const length = varintLengthOf(chunk[pos]!);
      if (pos + length <= chunk.length) {
        this.varintEnd = pos + length;
        return readVarintBig(chunk, pos);
      }
    }
    const length = varintLengthOf(this.varintFill === 0 ? chunk[pos]! : buf[0]!);
    while (this.varintFill < length && pos < chunk.length) buf[this.varintFill++] = chunk[pos++]!;
    this.varintEnd = pos;
    if (this.varintFill < length) return undefined;
    this.varintFill = 0;
    return readVarintBig(buf.subarray(0, length), 0);
  }

  private startPayload(length: number): void {
    const type = this.type;
    this.sink.onFrameStart(type, length);
    this.remaining = length;
    switch (type) {
      case H3FrameType.DATA:
        this.state = ReadState.Data;
        return;
      case H3FrameType.HEADERS:
      case H3FrameType.PUSH_PROMISE:
        this.checkLimit(length, this.limits.maxFieldSectionFrameSize);
        this.state = ReadState.Gather;
        return;
      case H3FrameType.CANCEL_PUSH:
      case H3FrameType.SETTINGS:
      case H3FrameType.GOAWAY:
      case H3FrameType.MAX_PUSH_ID:
        this.checkLimit(length, this.limits.maxControlFrameSize);
        this.state = ReadState.Gather;
        return;
      default:
        // RFC 9114 §7.2.8, §9: unknown and reserved types are ignored.
        this.state = ReadState.Skip;
    }
  }

  private checkLimit(length: number, limit: number): void {
    if (length > limit) {
      throw H3Error.connection(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        `frame of type 0x${this.type.toString(16)} with a ${length}-octet payload exceeds our limit of ${limit} (RFC 9114 §10.5)`,
      );
    }
  }

  private finishGather(payload: Buffer): void {
    this.remaining = 0;
    this.state = ReadState.Type;
    this.sink.onFrame(this.type, payload);
  }
}
