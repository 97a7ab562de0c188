/**
 * WsFrameParser: the receiving half of WebSocket base framing (RFC 6455 §5.2), as an explicit
 * state machine: `Info` (2 bytes), `Length16`, `Length64`, `MaskKey`, then `DataPayload` or
 * `ControlPayload`. Every rule that can be judged from a frame header is checked the moment the
 * header byte arrives, before any payload is read:
 * - RSV2/RSV3 always, RSV1 unless an extension (permessage-deflate) negotiated it, and never on
 *   continuation or control frames (RFC 6455 §5.2, RFC 7692 §6.1);
 * - reserved opcodes 0x3-0x7, 0xB-0xF (§5.2);
 * - masking direction: a server gets masked frames only, a client unmasked only (§5.1, §5.3);
 * - control frames: FIN set, payload at most 125 bytes (§5.5);
 * - fragmentation order: a continuation needs an open message, a new message needs none (§5.4);
 * - 64-bit lengths with the most significant bit set (§5.2), and `maxFramePayload`.
 * All of these fail with {@link WsProtocolError} (close code 1002; 1009 for the size limit).
 *
 * Payloads are unmasked in place (§5.3) and handed to the handler as zero-copy views of the
 * input, so `receive` takes ownership of the buffers it is given. Control payloads (at most 125
 * bytes) are delivered whole. The handler may throw (the parser then stays failed) or call
 * `pause()` (e.g. while a compressed message inflates); input that arrives meanwhile is held.
 */

import { Buffer } from 'node:buffer';
import { WsProtocolError } from './ws-errors.js';
import { applyWsMask } from './ws-mask.js';
import { WsOpcode } from './ws-opcode.js';

/** What the parser reports. Methods are called synchronously from `receive` / `resume`. */
export interface WsFrameHandler {
  /**
   * A data frame's header: `opcode` is Text or Binary for a message's first frame, Continuation
   * for the others; `length` is the payload length of this frame.
   */
  onDataFrame(opcode: number, fin: boolean, rsv1: boolean, length: number): void;
  /** A piece of the current data frame's payload, unmasked (a view of the input). */
  onDataPayload(data: Buffer): void;
  /** The current data frame's payload is complete. */
  onDataFrameEnd(fin: boolean): void;
  /** A whole control frame (Close, Ping, Pong) with its unmasked payload. */
  onControlFrame(opcode: number, payload: Buffer): void;
}

/** Options of {@link WsFrameParser}. */
export interface WsFrameParserOptions {
  /** `'server'`: frames must be masked; `'client'`: frames must not be (RFC 6455 §5.1). */
  role: 'server' | 'client';
  /** Largest payload of one frame, in bytes; larger fails with 1009. Default 104857600 (100 MiB). */
  maxFramePayload?: number;
  /** RSV1 may be set on a message's first frame (permessage-deflate, RFC 7692 §6). Default false. */
  allowRsv1?: boolean;
}

const enum State {
  Info,
  Length16,
  Length64,
  MaskKey,
  DataPayload,
  ControlPayload,
  Failed,
}

/** 2^32, to combine the two halves of a 64-bit length. */
const TWO_POW_32 = 4294967296;

/** Incremental frame parser for one direction of one connection. */
export class WsFrameParser {
  private readonly handler: WsFrameHandler;
  private readonly expectMasked: boolean;
  private readonly maxFramePayload: number;
  /** RSV1 admitted on first data frames; set when an extension is negotiated. */
  allowRsv1: boolean;

  private state: State = State.Info;
  // The frame being parsed.
  private fin = false;
  private rsv1 = false;
  private opcode = 0;
  private masked = false;
  /** Payload bytes of the current frame not yet delivered. */
  private remaining = 0;
  /** Payload bytes of the current frame already delivered (the mask phase). */
  private payloadDone = 0;
  private readonly mask = Buffer.alloc(4);
  /** A data message has started and its final frame has not arrived (RFC 6455 §5.4). */
  private inMessage = false;

  // Header bytes split across inputs are collected in `stash`.
  private readonly stash = Buffer.alloc(8);
  private stashLength = 0;
  /** The buffer where the bytes `gather` found live (the input or `stash`). */
  private source: Buffer = this.stash;
  // A control payload split across inputs is collected in `control`.
  private readonly control = Buffer.alloc(125);
  private controlLength = 0;

  // The input being worked on.
  private input: Buffer = this.stash;
  private pos = 0;
  private paused = false;
  private held: Buffer[] = [];

  constructor(handler: WsFrameHandler, options: WsFrameParserOptions) {
    this.handler = handler;
    this.expectMasked = options.role === 'server';
    this.maxFramePayload = options.maxFramePayload ?? 104857600;
    this.allowRsv1 = options.allowRsv1 ?? false;
  }

  /** True once a rule was broken or a handler threw; the parser then ignores its input. */
  get failed(): boolean {
    return this.state === State.Failed;
  }

  /** True while paused. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes held while paused. */
  get heldBytes(): number {
    let n = 0;
    for (const b of this.held) n += b.length;
    return n;
  }

  /**
   * Parses `data` (which the parser now owns: payloads are unmasked in place). Throws
   * {@link WsProtocolError} on a broken rule, or what a handler threw; the parser is then failed.
   */
  receive(data: Buffer): void {
    if (this.state === State.Failed) return;
    if (this.paused) {
      this.held.push(data);
      return;
    }
    this.run(data);
  }

  /** Stops delivering events after the current one; input is held until `resume`. */
  pause(): void {
    this.paused = true;
  }

  /** Continues with the held input. Throws like `receive`. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    while (!this.paused && this.held.length > 0 && this.state !== State.Failed) {
      this.run(this.held.shift()!);
    }
  }

  private run(data: Buffer): void {
    this.input = data;
    this.pos = 0;
    try {
      this.loop();
    } catch (err) {
      this.state = State.Failed;
      this.held.length = 0;
      throw err;
    }
    if (this.paused && this.pos < data.length) this.held.unshift(data.subarray(this.pos));
  }

  private loop(): void {
    const input = this.input;
    const end = input.length;
    while (!this.paused) {
      switch (this.state) {
        case State.Info: {
          const at = this.gather(2);
          if (at < 0) return;
          this.readInfo(this.source[at], this.source[at + 1]);
          break;
        }
        case State.Length16: {
          const at = this.gather(2);
          if (at < 0) return;
          this.setLength((this.source[at] << 8) | this.source[at + 1]);
          break;
        }
        case State.Length64: {
          const at = this.gather(8);
          if (at < 0) return;
          const src = this.source;
          const high = src.readUInt32BE(at);
          if (high >= 0x80000000) {
            throw new WsProtocolError(
              'AVX_WS_LENGTH_MSB',
              1002,
              'the most significant bit of a 64-bit payload length must be 0 (RFC 6455 §5.2)',
            );
          }
          this.setLength(high * TWO_POW_32 + src.readUInt32BE(at + 4));
          break;
        }
        case State.MaskKey: {
          const at = this.gather(4);
          if (at < 0) return;
          const src = this.source;
          const mask = this.mask;
          mask[0] = src[at];
          mask[1] = src[at + 1];
          mask[2] = src[at + 2];
          mask[3] = src[at + 3];
          this.startPayload();
          break;
        }
        case State.DataPayload: {
          const available = end - this.pos;
          if (available === 0) return;
          const take = Math.min(available, this.remaining);
          const start = this.pos;
          this.pos = start + take;
          if (this.masked) applyWsMask(input, start, start + take, this.mask, 0, this.payloadDone);
          this.payloadDone += take;
          this.remaining -= take;
          this.handler.onDataPayload(input.subarray(start, start + take));
          if (this.remaining === 0) {
            this.state = State.Info;
            this.handler.onDataFrameEnd(this.fin);
          }
          break;
        }
        case State.ControlPayload: {
          const available = end - this.pos;
          if (available === 0) return;
          const start = this.pos;
          if (this.controlLength === 0 && available >= this.remaining) {
            // The whole payload is in this input: deliver a view.
            const stop = start + this.remaining;
            this.pos = stop;
            if (this.masked) applyWsMask(input, start, stop, this.mask, 0, 0);
            this.state = State.Info;
            this.handler.onControlFrame(this.opcode, input.subarray(start, stop));
            break;
          }
          const take = Math.min(available, this.remaining);
          input.copy(this.control, this.controlLength, start, start + take);
          this.pos = start + take;
          this.controlLength += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            const length = this.controlLength;
            this.controlLength = 0;
            const payload = Buffer.from(this.control.subarray(0, length));
            if (this.masked) applyWsMask(payload, 0, length, this.mask, 0, 0);
            this.state = State.Info;
            this.handler.onControlFrame(this.opcode, payload);
          }
          break;
        }
        default:
          return;
      }
    }
  }

  /**
   * Finds `n` contiguous header bytes: returns their index in `this.source`, or -1 when the
   * input ran out first (what there was is kept in `stash`).
   */
  private gather(n: number): number {
    const available = this.input.length - this.pos;
    if (this.stashLength === 0 && available >= n) {
      this.source = this.input;
      const at = this.pos;
      this.pos = at + n;
      return at;
    }
    const need = n - this.stashLength;
    const take = Math.min(available, need);
    this.input.copy(this.stash, this.stashLength, this.pos, this.pos + take);
    this.stashLength += take;
    this.pos += take;
    if (this.stashLength < n) return -1;
    this.stashLength = 0;
    this.source = this.stash;
    return 0;
  }

  /** RFC 6455 §5.2: FIN, RSV1-3, opcode, MASK, payload length (7 bits). */
  private readInfo(b0: number, b1: number): void {
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x30) !== 0) {
      throw new WsProtocolError(
        'AVX_WS_RESERVED_BITS',
        1002,
        'RSV2 and RSV3 must be 0: no extension defining them was negotiated (RFC 6455 §5.2)',
      );
    }
    const length7 = b1 & 0x7f;
    if (opcode >= 0x8) {
      // RFC 6455 §5.5: control frames.
      if (opcode > WsOpcode.Pong) {
        throw new WsProtocolError(
          'AVX_WS_RESERVED_OPCODE',
          1002,
          `opcode 0x${opcode.toString(16)} is reserved (RFC 6455 §5.2)`,
        );
      }
      if (!fin) {
        throw new WsProtocolError(
          'AVX_WS_FRAGMENTED_CONTROL',
          1002,
          'control frames must not be fragmented (RFC 6455 §5.5)',
        );
      }
      if (length7 > 125) {
        throw new WsProtocolError(
          'AVX_WS_CONTROL_TOO_LONG',
          1002,
          'a control frame payload is at most 125 bytes (RFC 6455 §5.5)',
        );
      }
      if (rsv1) {
        throw new WsProtocolError(
          'AVX_WS_RESERVED_BITS',
          1002,
          'RSV1 must be 0 on control frames (RFC 7692 §6.1)',
        );
      }
    } else if (opcode === WsOpcode.Continuation) {
      if (!this.inMessage) {
        throw new WsProtocolError(
          'AVX_WS_UNEXPECTED_CONTINUATION',
          1002,
          'a continuation frame arrived with no fragmented message open (RFC 6455 §5.4)',
        );
      }
      if (rsv1) {
        throw new WsProtocolError(
          'AVX_WS_RESERVED_BITS',
          1002,
          'RSV1 is only set on the first frame of a message (RFC 7692 §6.1)',
        );
      }
      if (fin) this.inMessage = false;
    } else if (opcode === WsOpcode.Text || opcode === WsOpcode.Binary) {
      if (this.inMessage) {
        throw new WsProtocolError(
          'AVX_WS_EXPECTED_CONTINUATION',
          1002,
          'a new message started before the fragmented one finished (RFC 6455 §5.4)',
        );
      }
      if (rsv1 && !this.allowRsv1) {
        throw new WsProtocolError(
          'AVX_WS_RESERVED_BITS',
          1002,
          'RSV1 must be 0: no extension defining it was negotiated (RFC 6455 §5.2)',
        );
      }
      this.inMessage = !fin;
    } else {
      throw new WsProtocolError(
        'AVX_WS_RESERVED_OPCODE',
        1002,
        `opcode 0x${opcode.toString(16)} is reserved (RFC 6455 §5.2)`,
      );
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.expectMasked) {
      throw new WsProtocolError(
        'AVX_WS_MASKING',
        1002,
        masked
          ? 'a server must not mask the frames it sends (RFC 6455 §5.1)'
          : 'a client must mask every frame it sends (RFC 6455 §5.1)',
      );
    }
    this.fin = fin;
    this.rsv1 = rsv1;
    this.opcode = opcode;
    this.masked = masked;
    if (length7 === 126) this.state = State.Length16;
    else if (length7 === 127) this.state = State.Length64;
    else this.setLength(length7);
  }

  private setLength(length: number): void {
    if (length > this.maxFramePayload) {
      throw new WsProtocolError(
        'AVX_WS_FRAME_TOO_LARGE',
        1009,
        `a frame of ${length} bytes exceeds the limit of ${this.maxFramePayload} bytes`,
      );
    }
    this.remaining = length;
    // Report a data frame's header now, so that message limits apply before the mask key.
    if (this.opcode < 0x8) this.handler.onDataFrame(this.opcode, this.fin, this.rsv1, length);
    if (this.masked) this.state = State.MaskKey;
    else this.startPayload();
  }

  /** The header is complete (mask key included): read (or finish) the payload. */
  private startPayload(): void {
    this.payloadDone = 0;
    if (this.opcode >= 0x8) {
      this.controlLength = 0;
      if (this.remaining === 0) {
        this.state = State.Info;
        this.handler.onControlFrame(this.opcode, EMPTY);
      } else {
        this.state = State.ControlPayload;
      }
      return;
    }
    if (this.remaining === 0) {
      this.state = State.Info;
      this.handler.onDataFrameEnd(this.fin);
    } else {
      this.state = State.DataPayload;
    }
  }
}

const EMPTY = Buffer.alloc(0);
