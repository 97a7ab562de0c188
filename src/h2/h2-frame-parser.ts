/**
 * The HTTP/2 frame reader (RFC 9113 §4.1, §3.4): splits a byte stream into frames, checking
 * the client preface first when asked to and refusing frames larger than our
 * SETTINGS_MAX_FRAME_SIZE (§4.2). An explicit state machine (preface, header, payload); a
 * frame that lies whole in one chunk is handed over as a zero-copy slice, one split across
 * chunks is gathered into a buffer of its exact size. The meaning of each frame is the
 * connection's business (`H2Connection`).
 */

import { Buffer } from 'node:buffer';
import { H2Error } from './h2-error.js';
import { H2ErrorCode } from './h2-error-codes.js';
import { H2_CLIENT_PREFACE, H2_FRAME_HEADER_LENGTH } from './h2-frame-types.js';

/** Receives each complete frame. `payload` is only valid during the call (it may be a slice). */
export interface H2FrameSink {
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void;
}

const enum ReadState {
  Preface,
  Header,
  Payload,
}

const EMPTY = Buffer.alloc(0);

/** Incremental frame reader. */
export class H2FrameParser {
  /** Largest payload accepted (our SETTINGS_MAX_FRAME_SIZE); larger is FRAME_SIZE_ERROR. */
  maxFrameSize: number;
  /** Set to stop delivering frames (after a connection error). */
  stopped = false;

  private readonly sink: H2FrameSink;
  private state: ReadState;
  private prefaceSeen = 0;
  private readonly header = Buffer.alloc(H2_FRAME_HEADER_LENGTH);
  private headerFill = 0;
  private payload: Buffer = EMPTY;
  private payloadFill = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;

  constructor(sink: H2FrameSink, options: { expectPreface: boolean; maxFrameSize: number }) {
    this.sink = sink;
    this.maxFrameSize = options.maxFrameSize;
    this.state = options.expectPreface ? ReadState.Preface : ReadState.Header;
  }

  /** Feeds bytes; throws {@link H2Error} (a connection error) on a bad preface or frame size. */
  execute(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n && !this.stopped) {
      switch (this.state) {
        case ReadState.Preface: {
          // RFC 9113 §3.4: the 24 octets must match exactly.
          while (pos < n && this.prefaceSeen < H2_CLIENT_PREFACE.length) {
            if (chunk[pos] !== H2_CLIENT_PREFACE[this.prefaceSeen]) {
              throw new H2Error(
                'AVX_H2_BAD_PREFACE',
                H2ErrorCode.PROTOCOL_ERROR,
                0,
                'invalid connection preface (RFC 9113 §3.4)',
              );
            }
            pos++;
            this.prefaceSeen++;
          }
          if (this.prefaceSeen === H2_CLIENT_PREFACE.length) this.state = ReadState.Header;
          break;
        }
        case ReadState.Header: {
          if (this.headerFill === 0 && n - pos >= H2_FRAME_HEADER_LENGTH) {
            // Fast path: the header, and maybe the whole frame, is in this chunk.
            const length = (chunk[pos]! << 16) | (chunk[pos + 1]! << 8) | chunk[pos + 2]!;
            this.type = chunk[pos + 3]!;
            this.flags = chunk[pos + 4]!;
            this.streamId = chunk.readUInt32BE(pos + 5) & 0x7fffffff; // §4.1: R bit ignored
            pos += H2_FRAME_HEADER_LENGTH;
            this.checkLength(length);
            if (n - pos >= length) {
              const payload = length === 0 ? EMPTY : chunk.subarray(pos, pos + length);
              pos += length;
              this.sink.onFrame(this.type, this.flags, this.streamId, payload);
              break;
            }
            this.startPayload(length);
            break;
          }
          const take = Math.min(H2_FRAME_HEADER_LENGTH - this.headerFill, n - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + take);
          this.headerFill += take;
          pos += take;
          if (this.headerFill === H2_FRAME_HEADER_LENGTH) {
            this.headerFill = 0;
            const h = this.header;
            const length = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
            this.type = h[3]!;
            this.flags = h[4]!;
            this.streamId = h.readUInt32BE(5) & 0x7fffffff;
            this.checkLength(length);
            if (length === 0) this.sink.onFrame(this.type, this.flags, this.streamId, EMPTY);
            else this.startPayload(length);
          }
          break;
        }
        case ReadState.Payload: {
          const take = Math.min(this.payload.length - this.payloadFill, n - pos);
          chunk.copy(this.payload, this.payloadFill, pos, pos + take);
          this.payloadFill += take;
          pos += take;
          if (this.payloadFill === this.payload.length) {
            const payload = this.payload;
            this.payload = EMPTY;
            this.state = ReadState.Header;
            this.sink.onFrame(this.type, this.flags, this.streamId, payload);
          }
          break;
        }
      }
    }
  }

  /** The preface was already consumed elsewhere (h2c detected by the HTTP/1.1 parser). */
  skipPreface(): void {
    if (this.state === ReadState.Preface && this.prefaceSeen === 0) this.state = ReadState.Header;
  }

  /** True while in the middle of a frame or the preface. */
  get inFrame(): boolean {
    return this.state !== ReadState.Header || this.headerFill > 0;
  }

  private startPayload(length: number): void {
    this.payload = Buffer.allocUnsafe(length);
    this.payloadFill = 0;
    this.state = ReadState.Payload;
  }

  private checkLength(length: number): void {
    // RFC 9113 §4.2: a frame larger than SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR.
    if (length > this.maxFrameSize) {
      throw new H2Error(
        'AVX_H2_FRAME_SIZE',
        H2ErrorCode.FRAME_SIZE_ERROR,
        0,
        `frame of ${length} octets exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize} (RFC 9113 §4.2)`,
      );
    }
  }
}
