/**
 * WsConnection: the sans-I/O WebSocket protocol core of one endpoint (RFC 6455 §5, §7, with
 * permessage-deflate, RFC 7692 §6). Bytes go in with `receive`; messages, pings, pongs and the
 * peer's Close come out through a {@link WsConnectionHandler}; `send`, `ping`, `pong` and
 * `close` hand encoded frames to `handler.write` in the order they must go on the wire. No
 * sockets and no timers: the driver (websocket.ts) owns those.
 *
 * Rules kept here, on top of the frame rules of {@link WsFrameParser}:
 * - message reassembly from fragments (§5.4), with `maxMessageSize` checked at every frame
 *   header (close code 1009) and, for compressed messages, on the inflated output;
 * - text messages are valid UTF-8, checked incrementally so a bad byte fails the connection at
 *   once (§5.6, §8.1: 1007);
 * - control frames between fragments (§5.4), Ping answered with a Pong carrying the same
 *   payload (§5.5.2), Close payloads checked (§5.5.1, §7.4: 1002 / 1007);
 * - the close handshake (§7.1.2-§7.1.5): a Close is answered with a Close echoing the code
 *   (empty when the peer's had none); nothing is sent after our Close, nothing is read after
 *   the peer's;
 * - failing the connection (§7.1.7): on any violation a Close with the error's code is sent
 *   and `onProtocolError` tells the driver to close the transport.
 * Compressed messages are queued so that messages leave in `send` order; control frames may
 * overtake them (§5.4 allows control frames between a message's fragments).
 */
import { Buffer, isUtf8 } from 'node:buffer';
import type { PerMessageDeflate } from './per-message-deflate.js';
import { Utf8Validator } from './utf8-validator.js';
import { decodeClosePayload, encodeClosePayload, WsCloseCode } from './ws-close-code.js';
import { WsClosedError, WsProtocolError } from './ws-errors.js';
import { type WsFrameHandler, WsFrameParser } from './ws-frame-parser.js';
import { type WsEncodedFrame, WsFrameWriter } from './ws-frame-writer.js';
import { WsOpcode } from './ws-opcode.js';

/** Called once bytes were handed to the transport, or with the error that kept them from it. */
export type WsWriteCallback = (error?: Error | null) => void;

/** What a {@link WsConnection} reports and where it writes. Called synchronously. */
export interface WsConnectionHandler {
  /** Writes a frame: `header`, then `payload` when not null. `callback` runs once written. */
  write(header: Buffer, payload: Buffer | null, callback: WsWriteCallback | undefined): void;
  /** A whole message: text (UTF-8, already validated) or binary. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A Ping arrived (the Pong was already sent). */
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** The peer's Close arrived; our Close (a reply, if owed) is queued. Nothing more is read. */
  onCloseFrame(code: number, reason: string): void;
  /** The peer broke a rule: our Close with `error.closeCode` is queued; close the transport. */
  onProtocolError(error: WsProtocolError): void;
  /** Reading was paused for a compressed message and goes on again. */
  onReadResume(): void;
}

/** Options of {@link WsConnection}. */
export interface WsConnectionOptions {
  /** Which end this is: servers expect masked frames and send unmasked ones (RFC 6455 §5.1). */
  role: 'server' | 'client';
  /** Largest message (after inflating), in bytes; beyond it the connection fails with 1009. Default 104857600 (100 MiB). */
  maxMessageSize?: number;
  /** Largest single frame payload, in bytes (1009 beyond). Default: `maxMessageSize`. */
  maxFrameSize?: number;
  /** The negotiated permessage-deflate codec, if any. */
  deflate?: PerMessageDeflate;
}

/** A message waiting for its turn (behind a compression). */
interface SendJob {
  opcode: number;
  data: Buffer | string;
  compress: boolean;
  /** Bytes counted in `queuedBytes`. */
  size: number;
  callback: WsWriteCallback | undefined;
  /** A pre-encoded frame (broadcast), sent as is. */
  frame: WsEncodedFrame | undefined;
}

const EMPTY = Buffer.alloc(0);

/** The WebSocket protocol state of one connection. */
export class WsConnection implements WsFrameHandler {
  readonly isServer: boolean;
  /** Our Close frame was sent (or queued). */
  closeSent = false;
  /** The peer's Close frame arrived. */
  closeReceived = false;
  /** The connection was failed (a protocol error). */
  failed = false;
  /** Bytes of messages queued behind a compression, not yet handed to `write`. */
  queuedBytes = 0;

  private readonly handler: WsConnectionHandler;
  private readonly parser: WsFrameParser;
  private readonly writer: WsFrameWriter;
  private readonly deflate: PerMessageDeflate | undefined;
  private readonly maxMessageSize: number;

  // The message being received.
  private messageBinary = false;
  private messageCompressed = false;
  private messageBytes = 0;
  private firstPart: Buffer | null = null;
  private parts: Buffer[] = [];
  private readonly validator = new Utf8Validator();

  // Sending.
  private readonly queue: SendJob[] = [];
  private compressing = false;

  constructor(handler: WsConnectionHandler, options: WsConnectionOptions) {
    this.handler = handler;
    this.isServer = options.role === 'server';
    this.maxMessageSize = options.maxMessageSize ?? 104857600;
    this.deflate = options.deflate;
    this.parser = new WsFrameParser(this, {
      role: options.role,
      maxFramePayload: options.maxFrameSize ?? this.maxMessageSize,
      allowRsv1: this.deflate !== undefined,
    });
    this.writer = new WsFrameWriter(!this.isServer);
    this.onCompressed = this.onCompressed.bind(this);
    this.onInflated = this.onInflated.bind(this);
  }

  /** True while reading waits for a compressed message to inflate; input is held meanwhile. */
  get readPaused(): boolean {
    return this.parser.isPaused && !this.closeReceived && !this.failed;
  }

  /** The frame encoder (for broadcasting one encoding to many connections). */
  get frameWriter(): WsFrameWriter {
    return this.writer;
  }

  /** Feeds received bytes (which the connection now owns). */
  receive(data: Buffer): void {
    if (this.closeReceived || this.failed) return;
    try {
      this.parser.receive(data);
    } catch (err) {
      this.onError(err);
    }
  }

  /**
   * Sends a message. `compress` asks for permessage-deflate when negotiated (messages under
   * its threshold go uncompressed). Throws {@link WsClosedError} once our Close was sent.
   */
  send(data: Buffer | string, isBinary: boolean, compress: boolean, callback?: WsWriteCallback): void {
    if (this.closeSent || this.failed) throw new WsClosedError();
    const opcode = isBinary ? WsOpcode.Binary : WsOpcode.Text;
    const deflate = this.deflate;
    const doCompress = compress && deflate !== undefined && data.length >= deflate.threshold;
    if (!doCompress && this.queue.length === 0) {
      this.writeFrame(opcode, false, data, callback);
      return;
    }
    this.enqueue({ opcode, data, compress: doCompress, size: data.length, callback, frame: undefined });
  }

  /** Sends a frame encoded by {@link frameWriter} (an unmasked, uncompressed, final frame). */
  sendEncoded(frame: WsEncodedFrame, callback?: WsWriteCallback): void {
    if (this.closeSent || this.failed) throw new WsClosedError();
    if (this.queue.length === 0) {
      this.handler.write(frame.header, frame.payload, callback);
      return;
    }
    const size = frame.header.length + (frame.payload?.length ?? 0);
    this.enqueue({ opcode: 0, data: EMPTY, compress: false, size, callback, frame });
  }

  /** Sends a Ping (RFC 6455 §5.5.2). Payload at most 125 bytes. */
  ping(data: Buffer = EMPTY): void {
    this.sendControl(WsOpcode.Ping, data);
  }

  /** Sends an unsolicited Pong (RFC 6455 §5.5.3: a unidirectional heartbeat). */
  pong(data: Buffer = EMPTY): void {
    this.sendControl(WsOpcode.Pong, data);
  }

  /**
   * Starts (or answers) the close handshake (RFC 6455 §7.1.2): queues a Close behind pending
   * messages. `code` undefined sends an empty Close. Throws {@link WsUsageError} for a code or
   * reason that may not be sent; does nothing once our Close was sent.
   */
  close(code?: number, reason = ''): void {
    if (this.closeSent || this.failed) return;
    const payload = encodeClosePayload(code, reason);
    this.closeSent = true;
    if (this.queue.length === 0) {
      this.writeFrame(WsOpcode.Close, false, payload, undefined);
      return;
    }
    this.queue.push({
      opcode: WsOpcode.Close,
      data: payload,
      compress: false,
      size: 0,
      callback: undefined,
      frame: undefined,
    });
  }

  /** Drops queued messages (their callbacks get {@link WsClosedError}) and frees zlib. */
  destroy(): void {
    this.failed = true;
    this.dropQueue();
    this.deflate?.close();
  }

  // ---------------------------------------------------------------------------------------------
  // WsFrameHandler: frames from the parser.

  onDataFrame(opcode: number, _fin: boolean, rsv1: boolean, length: number): void {
    if (opcode !== WsOpcode.Continuation) {
      this.messageBinary = opcode === WsOpcode.Binary;
      this.messageCompressed = rsv1;
      this.messageBytes = 0;
      if (!this.messageBinary && !rsv1) this.validator.reset();
    }
    const total = this.messageBytes + length;
    if (total > this.maxMessageSize) {
      throw new WsProtocolError(
        'AVX_WS_MESSAGE_TOO_LARGE',
        1009,
        `a message of more than ${this.maxMessageSize} bytes arrived (the limit)`,
      );
    }
    this.messageBytes = total;
  }

  onDataPayload(data: Buffer): void {
    if (this.messageCompressed) {
      this.deflate!.decompressWrite(data);
      return;
    }
    if (!this.messageBinary && !this.validator.update(data, 0, data.length)) throw invalidUtf8();
    if (this.firstPart === null) this.firstPart = data;
    else this.parts.push(data);
  }

  onDataFrameEnd(fin: boolean): void {
    if (!fin) return;
    if (this.messageCompressed) {
      // RFC 7692 §7.2.2: inflate the whole message before reading on.
      this.parser.pause();
      this.deflate!.decompressEnd(this.onInflated);
      return;
    }
    if (!this.messageBinary && !this.validator.complete) throw invalidUtf8();
    let message: Buffer;
    const first = this.firstPart;
    if (first === null) {
      message = EMPTY;
    } else if (this.parts.length === 0) {
      message = first;
    } else {
      this.parts.unshift(first);
      message = Buffer.concat(this.parts, this.messageBytes);
      this.parts.length = 0;
    }
    this.firstPart = null;
    this.handler.onMessage(message, this.messageBinary);
  }

  onControlFrame(opcode: number, payload: Buffer): void {
    if (opcode === WsOpcode.Ping) {
      // RFC 6455 §5.5.2: answer with a Pong carrying the same data (not after our Close).
      if (!this.closeSent) this.writeFrame(WsOpcode.Pong, false, payload, undefined);
      this.handler.onPing(payload);
    } else if (opcode === WsOpcode.Pong) {
      this.handler.onPong(payload);
    } else {
      const { code, reason } = decodeClosePayload(payload);
      this.closeReceived = true;
      this.parser.pause(); // §5.5.1: nothing after a Close is read
      // §5.5.1: answer with a Close, echoing the status code.
      if (!this.closeSent) this.close(code === WsCloseCode.NoStatus ? undefined : code);
      this.handler.onCloseFrame(code, reason);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private onInflated(error: Error | null, data: Buffer): void {
    if (this.failed) return;
    try {
      if (error !== null) throw error;
      if (!this.messageBinary && !isUtf8(data)) throw invalidUtf8();
      this.handler.onMessage(data, this.messageBinary);
      if (this.closeReceived || this.failed) return;
      this.parser.resume();
    } catch (err) {
      this.onError(err);
      return;
    }
    if (!this.parser.isPaused) this.handler.onReadResume();
  }

  /** Fails the connection (RFC 6455 §7.1.7); rethrows what is not a protocol error. */
  private onError(err: unknown): void {
    if (err instanceof WsProtocolError) {
      this.fail(err);
      return;
    }
    this.fail(new WsProtocolError('AVX_WS_HANDLER_ERROR', 1011, 'a message handler threw', { cause: err }));
    throw err;
  }

  private fail(error: WsProtocolError): void {
    if (this.failed) return;
    this.dropQueue();
    if (!this.closeSent) {
      this.closeSent = true;
      this.writeFrame(WsOpcode.Close, false, encodeClosePayload(error.closeCode), undefined);
    }
    this.failed = true;
    this.deflate?.close();
    this.handler.onProtocolError(error);
  }

  private sendControl(opcode: number, data: Buffer): void {
    if (this.closeSent || this.failed) throw new WsClosedError();
    if (data.length > 125) {
      throw new WsProtocolError(
        'AVX_WS_CONTROL_TOO_LONG',
        1002,
        'a control frame payload is at most 125 bytes (RFC 6455 §5.5)',
      );
    }
    this.writeFrame(opcode, false, data, undefined);
  }

  private writeFrame(
    opcode: number,
    rsv1: boolean,
    data: Buffer | string,
    callback: WsWriteCallback | undefined,
  ): void {
    const frame = this.writer.encode(opcode, true, rsv1, data);
    this.handler.write(frame.header, frame.payload, callback);
  }

  private enqueue(job: SendJob): void {
    this.queue.push(job);
    this.queuedBytes += job.size;
    this.pump();
  }

  /** Sends queued jobs in order, one compression at a time. */
  private pump(): void {
    while (!this.compressing && this.queue.length > 0) {
      const job = this.queue[0];
      if (job.compress) {
        this.compressing = true;
        this.deflate!.compress(job.data, this.onCompressed);
        return;
      }
      this.queue.shift();
      this.queuedBytes -= job.size;
      if (job.frame !== undefined) this.handler.write(job.frame.header, job.frame.payload, job.callback);
      else this.writeFrame(job.opcode, false, job.data, job.callback);
    }
  }

  private onCompressed(error: Error | null, data: Buffer): void {
    this.compressing = false;
    if (this.failed) return;
    const job = this.queue.shift()!;
    this.queuedBytes -= job.size;
    if (error !== null) {
      job.callback?.(error);
      this.fail(
        new WsProtocolError('AVX_WS_DEFLATE_FAILED', 1011, 'compressing a message failed', { cause: error }),
      );
      return;
    }
    // RFC 7692 §6: RSV1 on the first (here: only) frame of a compressed message.
    this.writeFrame(job.opcode, true, data, job.callback);
    this.pump();
  }

  private dropQueue(): void {
    const jobs = this.queue.splice(0);
    this.queuedBytes = 0;
    for (const job of jobs) job.callback?.(new WsClosedError());
  }
}

function invalidUtf8(): WsProtocolError {
  return new WsProtocolError(
    'AVX_WS_INVALID_UTF8',
    1007,
    'a text message is not valid UTF-8 (RFC 6455 §8.1)',
  );
}
