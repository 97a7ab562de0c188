/**
 * The sans-I/O HTTP/2 connection (RFC 9113), for servers and clients: bytes in through
 * `receive(bytes, now)`, events out through an `H2ConnectionHandler`, commands in
 * (`sendHeaders`, `sendData`, `resetStream`, `goaway`, ...) and bytes out through
 * `takeOutgoing()`. No sockets and no timers: time is an argument, and `tick(now)` checks the
 * SETTINGS acknowledgement deadline (§6.5.3) and streams stalled on a zero window.
 *
 * What it implements: the connection preface (§3.4); every frame type (§6), unknown types
 * ignored (§5.5); SETTINGS exchange with ACK (§6.5); the stream state machine (§5.1) and
 * stream limits (§5.1.2); connection and stream flow control (§5.2, §6.9) with a
 * WINDOW_UPDATE policy that credits bytes back only as the driver consumes them (a slow
 * reader holds at most one window per stream); HPACK (RFC 7541) with header list limits;
 * CONTINUATION assembly (§6.10); header validation (§8.1-§8.3); PING (§6.7); RST_STREAM
 * (§6.4); GOAWAY (§6.8); PRIORITY parsed and ignored (§5.3.2); the RFC 9218 `priority` field
 * parsed; trailers (§8.1).
 *
 * Hardening (§10.5): rapid reset (CVE-2023-44487), CONTINUATION flood (CVE-2024-27316),
 * HPACK bombs, SETTINGS / PING / empty-frame floods end the connection with
 * ENHANCE_YOUR_CALM; limits come from `H2ConnectionOptions`.
 */

import {
  type H2ConnectionOptions,
  type ResolvedH2ConnectionOptions,
  resolveH2ConnectionOptions,
} from './h2-connection-options.js';
import { H2Error } from './h2-error.js';
import { H2ErrorCode } from './h2-error-codes.js';
import {
  checkRequestFields,
  checkResponseFields,
  checkTrailerFields,
  type H2FieldFacts,
} from './h2-field-validation.js';
import { H2FrameParser, type H2FrameSink } from './h2-frame-parser.js';
import {
  H2_CLIENT_PREFACE,
  H2_DEFAULT_WINDOW,
  H2_MAX_MAX_FRAME_SIZE,
  H2_MAX_STREAM_ID,
  H2_MAX_WINDOW,
  H2_MIN_MAX_FRAME_SIZE,
  H2Flag,
  H2FrameType,
  H2Setting,
} from './h2-frame-types.js';
import { H2FrameWriter } from './h2-frame-writer.js';
import { H2Stream, H2StreamState } from './h2-stream.js';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';
import { parsePriorityField } from './priority-field.js';
import { TokenBucket } from './token-bucket.js';

/** Which end of the connection this is. */
export type H2Role = 'server' | 'client';

/** Events of an {@link H2Connection}. Called synchronously from `receive` (and `tick`). */
export interface H2ConnectionHandler {
  /**
   * A header section arrived: a request (server), a response or an informational response
   * (client; `fields` holds `:status`), or trailers (`trailers` true, `endStream` true).
   */
  onHeaders(stream: H2Stream, fields: string[], endStream: boolean, trailers: boolean): void;
  /** Body bytes (possibly empty when only `endStream` is news). Call `consume` once they are used. */
  onData(stream: H2Stream, data: Buffer, endStream: boolean): void;
  /** A stream the handler knows ended: normally (NO_ERROR) or reset by either side. */
  onStreamClosed(stream: H2Stream, errorCode: number, byPeer: boolean): void;
  /** Data queued with `sendData` drained below the buffer limit: more may be sent. */
  onStreamWritable(stream: H2Stream): void;
  /** The peer sent GOAWAY (RFC 9113 §6.8). */
  onGoaway(lastStreamId: number, errorCode: number, debug: Buffer): void;
  /** The connection failed; a GOAWAY is queued. Flush `takeOutgoing()` and close. */
  onConnectionError(error: H2Error): void;
}

const EMPTY = Buffer.alloc(0);

/** An HTTP/2 connection endpoint. */
export class H2Connection implements H2FrameSink {
  readonly role: H2Role;
  /** The resolved options. */
  readonly options: ResolvedH2ConnectionOptions;
  /** Open streams by id. */
  readonly streams = new Map<number, H2Stream>();

  /** Peer's settings (RFC 9113 §6.5.2), as last received. */
  peerMaxConcurrentStreams = Number.POSITIVE_INFINITY;
  peerInitialWindowSize = H2_DEFAULT_WINDOW;
  peerMaxFrameSize = H2_MIN_MAX_FRAME_SIZE;
  peerMaxHeaderListSize = Number.POSITIVE_INFINITY;
  /** Connection-level send window (RFC 9113 §6.9.1). */
  sendWindow = H2_DEFAULT_WINDOW;
  /** Connection-level receive window. */
  recvWindow = H2_DEFAULT_WINDOW;

  /** Highest stream id the peer opened. */
  lastPeerStreamId = 0;
  /** We sent GOAWAY; `goawayLastStreamId` is what it said. */
  goawaySent = false;
  goawayLastStreamId = 0;
  /** The peer sent GOAWAY with this last-stream-id, or -1. */
  peerGoawayLastStreamId = -1;
  /** The connection failed (a GOAWAY with an error was queued). */
  failed = false;

  private readonly isServer: boolean;
  private readonly handler: H2ConnectionHandler;
  private readonly parser: H2FrameParser;
  private readonly writer = new H2FrameWriter();
  private readonly encoder: HpackEncoder;
  private readonly decoder: HpackDecoder;
  private now = 0;
  private nextStreamId: number;
  private peerStreams = 0;
  private localStreams = 0;
  private recvUnacked = 0;
  /** Send times of our SETTINGS frames not yet acknowledged. */
  private readonly settingsSentAt: number[] = [];
  /** Header block being assembled from HEADERS + CONTINUATION (§6.10), or 0. */
  private blockStreamId = 0;
  private blockEndStream = false;
  private blockBadPriority = false;
  private blockFragments: Buffer[] = [];
  private blockBytes = 0;
  private blockFrames = 0;
  private blockTooLarge = false;
  private readonly sendQueue: H2Stream[] = [];
  private flushing = false;
  private readonly writable: H2Stream[] = [];
  private readonly facts: H2FieldFacts = { contentLength: -1, priorityIndex: -1, method: '', status: 0 };
  private readonly resets: TokenBucket;
  private readonly settingsFlood: TokenBucket;
  private readonly pingFlood: TokenBucket;
  private readonly emptyFlood: TokenBucket;

  constructor(role: H2Role, handler: H2ConnectionHandler, options?: H2ConnectionOptions) {
    this.role = role;
    this.isServer = role === 'server';
    this.handler = handler;
    const o = resolveH2ConnectionOptions(options);
    this.options = o;
    this.nextStreamId = this.isServer ? 2 : 1;
    this.parser = new H2FrameParser(this, { expectPreface: this.isServer, maxFrameSize: o.maxFrameSize });
    this.encoder = new HpackEncoder({ maxTableSize: o.encoderTableSize });
    this.decoder = new HpackDecoder({
      maxTableSize: o.headerTableSize,
      maxHeaderListSize: o.maxHeaderListSize,
    });
    this.resets = new TokenBucket(o.maxResetsPerSecond, o.resetBurst);
    this.settingsFlood = new TokenBucket(o.maxSettingsPerSecond, o.maxSettingsPerSecond * 2);
    this.pingFlood = new TokenBucket(o.maxPingsPerSecond, o.maxPingsPerSecond * 2);
    this.emptyFlood = new TokenBucket(o.maxEmptyFramesPerSecond, o.maxEmptyFramesPerSecond * 2);
  }

  /**
   * Queues our opening: the client preface (client), our SETTINGS (RFC 9113 §3.4) and a
   * connection WINDOW_UPDATE up to `connectionWindowSize`. `prefaceConsumed` tells a server
   * that the 24-octet preface was already read (h2c prior knowledge detected by HTTP/1.1).
   */
  start(now: number, prefaceConsumed = false): void {
    this.now = now;
    const o = this.options;
    if (!this.isServer) this.writer.bytes(H2_CLIENT_PREFACE);
    else if (prefaceConsumed) this.parser.skipPreface();
    const settings = [
      H2Setting.HEADER_TABLE_SIZE,
      o.headerTableSize,
      H2Setting.MAX_CONCURRENT_STREAMS,
      o.maxConcurrentStreams,
      H2Setting.INITIAL_WINDOW_SIZE,
      o.initialWindowSize,
      H2Setting.MAX_FRAME_SIZE,
      o.maxFrameSize,
      H2Setting.MAX_HEADER_LIST_SIZE,
      o.maxHeaderListSize,
      H2Setting.NO_RFC7540_PRIORITIES,
      1,
    ];
    if (!this.isServer) settings.push(H2Setting.ENABLE_PUSH, 0);
    this.writer.settings(settings);
    this.settingsSentAt.push(now);
    if (o.connectionWindowSize > H2_DEFAULT_WINDOW) {
      this.writer.windowUpdate(0, o.connectionWindowSize - H2_DEFAULT_WINDOW);
      this.recvWindow = o.connectionWindowSize;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  /** Feeds bytes from the peer, received at time `now` (ms). */
  receive(bytes: Buffer, now: number): void {
    if (this.failed) return;
    this.now = now;
    try {
      this.parser.execute(bytes);
    } catch (err) {
      if (err instanceof H2Error) this.fail(err);
      else throw err;
    }
    this.flush();
  }

  /** Checks deadlines at time `now`: SETTINGS acknowledgement and stalled senders. */
  tick(now: number): void {
    if (this.failed) return;
    this.now = now;
    const o = this.options;
    if (this.settingsSentAt.length > 0 && now - this.settingsSentAt[0]! > o.settingsTimeout) {
      this.fail(
        new H2Error(
          'AVX_H2_SETTINGS_TIMEOUT',
          H2ErrorCode.SETTINGS_TIMEOUT,
          0,
          'SETTINGS not acknowledged in time (RFC 9113 §6.5.3)',
        ),
      );
      return;
    }
    for (const stream of this.sendQueue) {
      if (
        stream.stalledSince >= 0 &&
        now - stream.stalledSince > o.sendStallTimeout &&
        stream.state !== H2StreamState.Closed
      ) {
        // RFC 9113 §10.5: a peer that never opens its window cannot hold our memory forever.
        this.resetStream(stream, H2ErrorCode.CANCEL);
      }
    }
  }

  /** @internal H2FrameSink */
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.blockStreamId !== 0 && type !== H2FrameType.CONTINUATION) {
      throw this.protocolError('a header block was interrupted by another frame (RFC 9113 §6.10)');
    }
    switch (type) {
      case H2FrameType.DATA:
        this.onDataFrame(flags, streamId, payload);
        break;
      case H2FrameType.HEADERS:
        this.onHeadersFrame(flags, streamId, payload);
        break;
      case H2FrameType.PRIORITY:
        this.onPriorityFrame(streamId, payload);
        break;
      case H2FrameType.RST_STREAM:
        this.onRstStreamFrame(streamId, payload);
        break;
      case H2FrameType.SETTINGS:
        this.onSettingsFrame(flags, streamId, payload);
        break;
      case H2FrameType.PUSH_PROMISE:
        // RFC 9113 §8.4: clients never push, and we tell servers not to (ENABLE_PUSH = 0).
        throw this.protocolError('PUSH_PROMISE is not allowed on this connection (RFC 9113 §6.6, §8.4)');
      case H2FrameType.PING:
        this.onPingFrame(flags, streamId, payload);
        break;
      case H2FrameType.GOAWAY:
        this.onGoawayFrame(streamId, payload);
        break;
      case H2FrameType.WINDOW_UPDATE:
        this.onWindowUpdateFrame(streamId, payload);
        break;
      case H2FrameType.CONTINUATION:
        this.onContinuationFrame(flags, streamId, payload);
        break;
      default:
        // RFC 9113 §5.5: unknown frame types are ignored (but still count against floods).
        this.countEmpty();
    }
  }

  private onDataFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw this.protocolError('DATA on stream 0 (RFC 9113 §6.1)');
    const length = payload.length;
    let start = 0;
    let end = length;
    if (flags & H2Flag.PADDED) {
      if (length < 1) throw this.frameSizeError('padded DATA without a pad length');
      const pad = payload[0]!;
      // RFC 9113 §6.1: padding as long as the payload is a PROTOCOL_ERROR.
      if (pad >= length) throw this.protocolError('DATA padding exceeds the payload (RFC 9113 §6.1)');
      start = 1;
      end = length - pad;
    }
    const endStream = (flags & H2Flag.END_STREAM) !== 0;
    // RFC 9113 §6.9: the whole payload, padding included, counts against the windows.
    if (length > this.recvWindow) {
      throw new H2Error(
        'AVX_H2_FLOW_CONTROL',
        H2ErrorCode.FLOW_CONTROL_ERROR,
        0,
        'DATA exceeds the connection window (RFC 9113 §6.9.1)',
      );
    }
    this.recvWindow -= length;
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.isIdle(id)) throw this.protocolError(`DATA on idle stream ${id} (RFC 9113 §5.1)`);
      // A stream already closed (we may have reset it): the octets still count (§6.9).
      this.creditConnection(length);
      return;
    }
    if (!stream.canReceive) {
      this.creditConnection(length);
      this.streamError(stream, H2ErrorCode.STREAM_CLOSED);
      return;
    }
    if (length > stream.recvWindow) {
      this.creditConnection(length);
      this.streamError(stream, H2ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    stream.recvWindow -= length;
    const dataLength = end - start;
    if (dataLength !== length) this.consume(stream, length - dataLength);
    if (dataLength === 0 && !endStream) this.countEmpty();
    stream.receivedLength += dataLength;
    const expected = stream.expectedLength;
    if (
      expected >= 0 &&
      (stream.receivedLength > expected || (endStream && stream.receivedLength !== expected))
    ) {
      // RFC 9113 §8.1.1: DATA must add up to content-length.
      this.creditConnection(dataLength);
      this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    if (!stream.headersReceived) {
      this.creditConnection(dataLength);
      this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    this.handler.onData(stream, dataLength === length ? payload : payload.subarray(start, end), endStream);
    if (endStream) this.endRemote(stream);
  }

  private onHeadersFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw this.protocolError('HEADERS on stream 0 (RFC 9113 §6.2)');
    let start = 0;
    let end = payload.length;
    let pad = 0;
    if (flags & H2Flag.PADDED) {
      if (end < 1) throw this.frameSizeError('padded HEADERS without a pad length');
      pad = payload[0]!;
      start = 1;
    }
    let badPriority = false;
    if (flags & H2Flag.PRIORITY) {
      if (end - start < 5) throw this.frameSizeError('HEADERS too short for its priority fields');
      // RFC 9113 §5.3.1: a stream cannot depend on itself (a stream error).
      if ((payload.readUInt32BE(start) & 0x7fffffff) === id) badPriority = true;
      start += 5;
    }
    if (pad > end - start) throw this.protocolError('HEADERS padding exceeds the payload (RFC 9113 §6.2)');
    end -= pad;
    const fragment = payload.subarray(start, end);
    const endStream = (flags & H2Flag.END_STREAM) !== 0;
    if (flags & H2Flag.END_HEADERS) {
      this.onHeaderBlock(id, fragment, endStream, badPriority, false);
      return;
    }
    if (fragment.length === 0) this.countEmpty();
    this.blockStreamId = id;
    this.blockEndStream = endStream;
    this.blockBadPriority = badPriority;
    this.blockFragments = [fragment];
    this.blockBytes = fragment.length;
    this.blockFrames = 1;
    this.blockTooLarge = false;
    this.checkBlockSize();
  }

  private onContinuationFrame(flags: number, id: number, payload: Buffer): void {
    if (this.blockStreamId === 0 || id !== this.blockStreamId) {
      throw this.protocolError(
        'CONTINUATION without a preceding HEADERS on the same stream (RFC 9113 §6.10)',
      );
    }
    const last = (flags & H2Flag.END_HEADERS) !== 0;
    if (payload.length === 0 && !last) this.countEmpty();
    this.blockFrames++;
    this.blockBytes += payload.length;
    // CVE-2024-27316: count frames and bytes; keep nothing once over the limit.
    if (!this.blockTooLarge) this.blockFragments.push(payload);
    this.checkBlockSize();
    if (!last) return;
    const block =
      this.blockFragments.length === 1
        ? this.blockFragments[0]!
        : Buffer.concat(this.blockFragments, this.blockBytes);
    this.blockStreamId = 0;
    this.blockFragments = [];
    this.onHeaderBlock(id, block, this.blockEndStream, this.blockBadPriority, false);
  }

  private checkBlockSize(): void {
    const o = this.options;
    if (this.blockFrames > o.maxContinuationFrames + 1 || this.blockBytes > o.maxHeaderBlockSize) {
      // RFC 9113 §10.5.1: we cannot decode a partial block, so the connection ends.
      throw new H2Error(
        'AVX_H2_FLOOD',
        H2ErrorCode.ENHANCE_YOUR_CALM,
        0,
        `header block over ${o.maxHeaderBlockSize} octets or ${o.maxContinuationFrames} CONTINUATION frames (CVE-2024-27316)`,
      );
    }
  }

  private onHeaderBlock(
    id: number,
    block: Buffer,
    endStream: boolean,
    badPriority: boolean,
    _push: boolean,
  ): void {
    // Always decode, even for streams we refuse: the HPACK context must stay in step (§4.3).
    const fields = this.decoder.decode(block);
    const tooLarge = this.decoder.tooLarge;
    const facts = this.facts;
    const existing = this.streams.get(id);
    if (existing === undefined) {
      if (this.isServer) {
        if ((id & 1) === 0) throw this.protocolError(`client opened even stream ${id} (RFC 9113 §5.1.1)`);
        if (id <= this.lastPeerStreamId) {
          // A stream that is already closed: tolerated after we reset it (§5.1), else an error.
          return;
        }
        this.lastPeerStreamId = id;
        if (this.goawaySent && id > this.goawayLastStreamId) return; // §6.8: ignored
        if (this.peerStreams >= this.options.maxConcurrentStreams) {
          // RFC 9113 §5.1.2: over our limit.
          this.countReset();
          this.writer.rstStream(id, H2ErrorCode.REFUSED_STREAM);
          return;
        }
        const stream = new H2Stream(id, this.peerInitialWindowSize, this.options.initialWindowSize);
        stream.state = H2StreamState.Open;
        this.streams.set(id, stream);
        this.peerStreams++;
        if (tooLarge) {
          // RFC 9113 §10.5.1 / RFC 6585 §5: answer 431 and keep the connection.
          this.countReset();
          this.sendHeaders(stream, [':status', '431'], true);
          if (this.streams.has(id)) this.streamError(stream, H2ErrorCode.NO_ERROR);
          return;
        }
        const problem = badPriority
          ? 'stream depends on itself (RFC 9113 §5.3.1)'
          : checkRequestFields(fields, facts);
        if (problem !== undefined || (endStream && facts.contentLength > 0)) {
          // RFC 9113 §8.1.1: malformed requests are stream errors.
          this.countReset();
          this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
          return;
        }
        stream.headersReceived = true;
        stream.expectedLength = facts.contentLength;
        if (facts.priorityIndex >= 0) stream.priority = parsePriorityField(fields[facts.priorityIndex]!);
        stream.announced = true;
        this.handler.onHeaders(stream, fields, endStream, false);
        if (endStream) this.endRemote(stream);
        return;
      }
      if ((id & 1) === 0)
        throw this.protocolError(`server opened stream ${id} without PUSH_PROMISE (RFC 9113 §8.4)`);
      if (id >= this.nextStreamId) throw this.protocolError(`HEADERS on idle stream ${id} (RFC 9113 §5.1)`);
      return; // a stream we closed
    }
    const stream = existing;
    if (!stream.canReceive) {
      this.streamError(stream, H2ErrorCode.STREAM_CLOSED);
      return;
    }
    if (tooLarge || badPriority) {
      this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    if (stream.headersReceived || this.isServer) {
      // RFC 9113 §8.1: trailers end the stream and carry no pseudo-headers.
      const problem = endStream
        ? checkTrailerFields(fields, facts)
        : 'trailers without END_STREAM (RFC 9113 §8.1)';
      if (
        problem !== undefined ||
        (stream.expectedLength >= 0 && stream.receivedLength !== stream.expectedLength)
      ) {
        this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
        return;
      }
      this.handler.onHeaders(stream, fields, true, true);
      this.endRemote(stream);
      return;
    }
    const problem = checkResponseFields(fields, facts);
    if (problem !== undefined || facts.status === 101 || (facts.status < 200 && endStream)) {
      this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    if (facts.status >= 200) {
      stream.headersReceived = true;
      stream.expectedLength = facts.contentLength;
    }
    this.handler.onHeaders(stream, fields, endStream, false);
    if (endStream) this.endRemote(stream);
  }

  private onPriorityFrame(id: number, payload: Buffer): void {
    if (id === 0) throw this.protocolError('PRIORITY on stream 0 (RFC 9113 §6.3)');
    if (payload.length !== 5) {
      this.writer.rstStream(id, H2ErrorCode.FRAME_SIZE_ERROR);
      return;
    }
    // RFC 9113 §5.3.2: the RFC 7540 priority scheme is deprecated; parsed and ignored.
    this.countEmpty();
    if ((payload.readUInt32BE(0) & 0x7fffffff) === id) {
      const stream = this.streams.get(id);
      if (stream !== undefined) this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
      else this.writer.rstStream(id, H2ErrorCode.PROTOCOL_ERROR);
    }
  }

  private onRstStreamFrame(id: number, payload: Buffer): void {
    if (id === 0) throw this.protocolError('RST_STREAM on stream 0 (RFC 9113 §6.4)');
    if (payload.length !== 4) throw this.frameSizeError('RST_STREAM payload is not 4 octets (RFC 9113 §6.4)');
    if (this.isIdle(id)) throw this.protocolError(`RST_STREAM on idle stream ${id} (RFC 9113 §6.4)`);
    // CVE-2023-44487: streams opened and reset in a loop cost us work and cost the peer nothing.
    this.countReset();
    const stream = this.streams.get(id);
    if (stream !== undefined) this.closeStream(stream, payload.readUInt32BE(0), true);
  }

  private onSettingsFrame(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw this.protocolError('SETTINGS on a stream (RFC 9113 §6.5)');
    if (flags & H2Flag.ACK) {
      if (payload.length !== 0) throw this.frameSizeError('SETTINGS ACK with a payload (RFC 9113 §6.5)');
      this.settingsSentAt.shift();
      return;
    }
    if (payload.length % 6 !== 0)
      throw this.frameSizeError('SETTINGS payload not a multiple of 6 (RFC 9113 §6.5)');
    if (!this.settingsFlood.take(this.now)) throw this.flood('SETTINGS flood');
    for (let p = 0; p < payload.length; p += 6) {
      const key = payload.readUInt16BE(p);
      const value = payload.readUInt32BE(p + 2);
      switch (key) {
        case H2Setting.HEADER_TABLE_SIZE:
          this.encoder.setPeerMaxTableSize(value);
          break;
        case H2Setting.ENABLE_PUSH:
          if (value > 1 || (!this.isServer && value !== 0))
            throw this.protocolError('invalid SETTINGS_ENABLE_PUSH (RFC 9113 §6.5.2)');
          break;
        case H2Setting.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrentStreams = value;
          break;
        case H2Setting.INITIAL_WINDOW_SIZE: {
          if (value > H2_MAX_WINDOW) {
            throw new H2Error(
              'AVX_H2_FLOW_CONTROL',
              H2ErrorCode.FLOW_CONTROL_ERROR,
              0,
              'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (RFC 9113 §6.5.2)',
            );
          }
          // RFC 9113 §6.9.2: the change applies to every open stream's window.
          const delta = value - this.peerInitialWindowSize;
          this.peerInitialWindowSize = value;
          for (const stream of this.streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > H2_MAX_WINDOW) {
              throw new H2Error(
                'AVX_H2_FLOW_CONTROL',
                H2ErrorCode.FLOW_CONTROL_ERROR,
                0,
                'a stream window overflowed (RFC 9113 §6.9.2)',
              );
            }
            if (delta > 0 && stream.pendingBytes > 0) this.enqueue(stream);
          }
          break;
        }
        case H2Setting.MAX_FRAME_SIZE:
          if (value < H2_MIN_MAX_FRAME_SIZE || value > H2_MAX_MAX_FRAME_SIZE) {
            throw this.protocolError('SETTINGS_MAX_FRAME_SIZE out of range (RFC 9113 §6.5.2)');
          }
          this.peerMaxFrameSize = value;
          break;
        case H2Setting.MAX_HEADER_LIST_SIZE:
          this.peerMaxHeaderListSize = value;
          break;
        default:
        // RFC 9113 §6.5.2: unknown settings are ignored.
      }
    }
    this.writer.settingsAck();
  }

  private onPingFrame(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw this.protocolError('PING on a stream (RFC 9113 §6.7)');
    if (payload.length !== 8) throw this.frameSizeError('PING payload is not 8 octets (RFC 9113 §6.7)');
    if (flags & H2Flag.ACK) return;
    if (!this.pingFlood.take(this.now)) throw this.flood('PING flood');
    this.writer.ping(payload, true);
  }

  private onGoawayFrame(id: number, payload: Buffer): void {
    if (id !== 0) throw this.protocolError('GOAWAY on a stream (RFC 9113 §6.8)');
    if (payload.length < 8) throw this.frameSizeError('GOAWAY shorter than 8 octets (RFC 9113 §6.8)');
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    this.peerGoawayLastStreamId = last;
    // RFC 9113 §6.8: our streams above last-stream-id were not processed: safe to retry.
    for (const stream of [...this.streams.values()]) {
      if (stream.id > last && this.isLocal(stream.id))
        this.closeStream(stream, H2ErrorCode.REFUSED_STREAM, true);
    }
    this.handler.onGoaway(last, code, payload.subarray(8));
  }

  private onWindowUpdateFrame(id: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw this.frameSizeError('WINDOW_UPDATE payload is not 4 octets (RFC 9113 §6.9)');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) throw this.protocolError('WINDOW_UPDATE of 0 on the connection (RFC 9113 §6.9)');
      this.sendWindow += increment;
      if (this.sendWindow > H2_MAX_WINDOW) {
        throw new H2Error(
          'AVX_H2_FLOW_CONTROL',
          H2ErrorCode.FLOW_CONTROL_ERROR,
          0,
          'connection window above 2^31-1 (RFC 9113 §6.9.1)',
        );
      }
      return;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.isIdle(id)) throw this.protocolError(`WINDOW_UPDATE on idle stream ${id} (RFC 9113 §5.1)`);
      return;
    }
    if (increment === 0) {
      this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > H2_MAX_WINDOW) {
      this.streamError(stream, H2ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    if (stream.pendingBytes > 0 || stream.pendingEnd) this.enqueue(stream);
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /** Opens a stream (client) with a request header section. Throws H2Error when it cannot. */
  openStream(fields: readonly string[], endStream: boolean): H2Stream {
    if (this.isServer) throw new Error('a server cannot open streams (no push)');
    if (this.failed || this.peerGoawayLastStreamId >= 0) {
      throw new H2Error('AVX_H2_PEER_GOAWAY', H2ErrorCode.REFUSED_STREAM, 0, 'the connection is going away');
    }
    if (this.nextStreamId > H2_MAX_STREAM_ID) {
      throw new H2Error(
        'AVX_H2_STREAM_IDS_EXHAUSTED',
        H2ErrorCode.NO_ERROR,
        0,
        'stream identifiers exhausted (RFC 9113 §5.1.1)',
      );
    }
    if (this.localStreams >= this.peerMaxConcurrentStreams) {
      throw new H2Error(
        'AVX_H2_REFUSED_STREAM',
        H2ErrorCode.REFUSED_STREAM,
        0,
        'the peer allows no more concurrent streams',
      );
    }
    const stream = new H2Stream(
      this.nextStreamId,
      this.peerInitialWindowSize,
      this.options.initialWindowSize,
    );
    this.nextStreamId += 2;
    stream.state = H2StreamState.Open;
    stream.announced = true;
    this.streams.set(stream.id, stream);
    this.localStreams++;
    this.sendHeaders(stream, fields, endStream);
    return stream;
  }

  /** Streams this endpoint may still open before the identifiers run out. */
  get streamIdsLeft(): number {
    return this.isServer ? 0 : Math.max(0, Math.floor((H2_MAX_STREAM_ID - this.nextStreamId) / 2) + 1);
  }

  /** @internal For tests: the next stream id this endpoint would use. */
  set nextLocalStreamId(id: number) {
    this.nextStreamId = id;
  }

  /** Sends a header section (response, informational response, or request trailers). */
  sendHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void {
    if (!stream.canSend) return;
    const block = this.encoder.encode(fields);
    this.writer.headers(stream.id, block, endStream, this.peerMaxFrameSize);
    if (endStream) this.endLocal(stream);
  }

  /**
   * Queues body bytes (and END_STREAM) as DATA within the flow-control windows. Returns false
   * when the stream's queue is over `streamWriteBufferSize`: wait for `onStreamWritable`.
   */
  sendData(stream: H2Stream, data: Buffer, endStream: boolean): boolean {
    if (!stream.canSend || stream.pendingEnd) return false;
    if (data.length > 0) {
      stream.pending.push(data);
      stream.pendingBytes += data.length;
    }
    if (endStream) stream.pendingEnd = true;
    this.enqueue(stream);
    this.flush();
    if (stream.pendingBytes > this.options.streamWriteBufferSize) {
      stream.needsDrain = true;
      return false;
    }
    return true;
  }

  /** Ends the stream with trailers after the queued data (RFC 9113 §8.1). */
  sendTrailers(stream: H2Stream, fields: readonly string[]): void {
    if (!stream.canSend || stream.pendingEnd) return;
    stream.pendingTrailers = fields.slice();
    stream.pendingEnd = true;
    this.enqueue(stream);
    this.flush();
  }

  /** Resets a stream (RFC 9113 §6.4). */
  resetStream(stream: H2Stream, errorCode: number = H2ErrorCode.CANCEL): void {
    if (stream.state === H2StreamState.Closed) return;
    this.streamError(stream, errorCode);
  }

  /**
   * The driver used `n` octets of a stream's data: credit them back. WINDOW_UPDATE goes out
   * once half a window is owed, so a reader that keeps up never starves the sender.
   */
  consume(stream: H2Stream, n: number): void {
    if (n <= 0) return;
    this.creditConnection(n);
    if (!stream.canReceive) return;
    stream.recvUnacked += n;
    if (stream.recvUnacked >= this.options.initialWindowSize >> 1) {
      this.writer.windowUpdate(stream.id, stream.recvUnacked);
      stream.recvWindow += stream.recvUnacked;
      stream.recvUnacked = 0;
    }
  }

  /** Sends a PING (RFC 9113 §6.7). */
  ping(payload: Buffer = Buffer.alloc(8)): void {
    this.writer.ping(payload, false);
  }

  /**
   * Graceful shutdown (RFC 9113 §6.8): GOAWAY with the last stream we will process; later
   * streams are ignored. Close once `activeStreams` reaches 0.
   */
  goaway(errorCode: number = H2ErrorCode.NO_ERROR, debug?: string): void {
    if (this.goawaySent || this.failed) return;
    this.goawaySent = true;
    this.goawayLastStreamId = this.isServer ? this.lastPeerStreamId : 0;
    this.writer.goaway(
      this.goawayLastStreamId,
      errorCode,
      debug === undefined ? undefined : Buffer.from(debug),
    );
  }

  /** Streams currently open. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** Bytes waiting in `takeOutgoing`. */
  get outgoingBytes(): number {
    return this.writer.size;
  }

  /** The bytes to send, in order (empty when there are none). */
  takeOutgoing(): Buffer[] {
    return this.writer.take();
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private isLocal(id: number): boolean {
    return (id & 1) === (this.isServer ? 0 : 1);
  }

  /** RFC 9113 §5.1: a stream id never used yet. */
  private isIdle(id: number): boolean {
    return this.isLocal(id) ? id >= this.nextStreamId : id > this.lastPeerStreamId;
  }

  private creditConnection(n: number): void {
    if (n <= 0) return;
    this.recvUnacked += n;
    if (this.recvUnacked >= this.options.connectionWindowSize >> 1) {
      this.writer.windowUpdate(0, this.recvUnacked);
      this.recvWindow += this.recvUnacked;
      this.recvUnacked = 0;
    }
  }

  private endRemote(stream: H2Stream): void {
    if (stream.state === H2StreamState.Open) stream.state = H2StreamState.HalfClosedRemote;
    else if (stream.state === H2StreamState.HalfClosedLocal)
      this.closeStream(stream, H2ErrorCode.NO_ERROR, false);
  }

  private endLocal(stream: H2Stream): void {
    if (stream.state === H2StreamState.Open) stream.state = H2StreamState.HalfClosedLocal;
    else if (stream.state === H2StreamState.HalfClosedRemote)
      this.closeStream(stream, H2ErrorCode.NO_ERROR, false);
  }

  private streamError(stream: H2Stream, errorCode: number): void {
    this.writer.rstStream(stream.id, errorCode);
    this.closeStream(stream, errorCode, false);
  }

  private closeStream(stream: H2Stream, errorCode: number, byPeer: boolean): void {
    if (stream.state === H2StreamState.Closed) return;
    stream.state = H2StreamState.Closed;
    stream.pending = [];
    stream.pendingBytes = 0;
    stream.pendingTrailers = undefined;
    if (this.streams.delete(stream.id)) {
      if (this.isLocal(stream.id)) this.localStreams--;
      else this.peerStreams--;
    }
    // Octets received but never consumed still count for the connection window.
    if (stream.announced) this.handler.onStreamClosed(stream, errorCode, byPeer);
  }

  private enqueue(stream: H2Stream): void {
    if (!stream.queued) {
      stream.queued = true;
      this.sendQueue.push(stream);
    }
  }

  /** Sends queued DATA, one frame per stream per round, within the windows. */
  private flush(): void {
    if (this.flushing || this.sendQueue.length === 0) return;
    this.flushing = true;
    const queue = this.sendQueue;
    let progress = true;
    while (progress && queue.length > 0) {
      progress = false;
      let keep = 0;
      for (let i = 0; i < queue.length; i++) {
        const stream = queue[i]!;
        if (stream.state === H2StreamState.Closed || !stream.canSend) {
          stream.queued = false;
          continue;
        }
        if (this.sendFrameOf(stream)) progress = true;
        if (stream.pendingBytes > 0 || stream.pendingEnd) queue[keep++] = stream;
        else stream.queued = false;
      }
      queue.length = keep;
    }
    this.flushing = false;
    if (this.writable.length > 0) {
      const ready = this.writable.splice(0);
      for (const stream of ready)
        if (stream.state !== H2StreamState.Closed) this.handler.onStreamWritable(stream);
    }
  }

  /** Sends one DATA (or trailers) frame of `stream`; false when blocked by flow control. */
  private sendFrameOf(stream: H2Stream): boolean {
    if (stream.pendingBytes > 0) {
      const window = Math.min(stream.sendWindow, this.sendWindow);
      if (window <= 0) {
        if (stream.stalledSince < 0) stream.stalledSince = this.now;
        return false;
      }
      stream.stalledSince = -1;
      const first = stream.pending[0]!;
      const n = Math.min(first.length, window, this.peerMaxFrameSize);
      let chunk: Buffer;
      if (n === first.length) {
        stream.pending.shift();
        chunk = first;
      } else {
        chunk = first.subarray(0, n);
        stream.pending[0] = first.subarray(n);
      }
      stream.pendingBytes -= n;
      stream.sendWindow -= n;
      this.sendWindow -= n;
      const last = stream.pendingBytes === 0 && stream.pendingEnd && stream.pendingTrailers === undefined;
      this.writer.data(stream.id, chunk, last);
      if (last) {
        stream.pendingEnd = false;
        this.endLocal(stream);
      }
      if (stream.needsDrain && stream.pendingBytes <= this.options.streamWriteBufferSize >> 1) {
        stream.needsDrain = false;
        this.writable.push(stream);
      }
      return true;
    }
    if (stream.pendingEnd) {
      stream.pendingEnd = false;
      const trailers = stream.pendingTrailers;
      stream.pendingTrailers = undefined;
      if (trailers !== undefined) this.sendHeaders(stream, trailers, true);
      else {
        this.writer.data(stream.id, EMPTY, true);
        this.endLocal(stream);
      }
      return true;
    }
    return false;
  }

  private countReset(): void {
    if (!this.resets.take(this.now))
      throw this.flood('too many streams reset or refused (CVE-2023-44487 rapid reset)');
  }

  private countEmpty(): void {
    if (!this.emptyFlood.take(this.now)) throw this.flood('too many empty or ignored frames');
  }

  private fail(error: H2Error): void {
    if (this.failed) return;
    this.failed = true;
    this.parser.stopped = true;
    this.goawaySent = true;
    this.goawayLastStreamId = this.lastPeerStreamId;
    this.writer.goaway(this.lastPeerStreamId, error.errorCode, Buffer.from(error.message.slice(0, 200)));
    for (const stream of [...this.streams.values()]) this.closeStream(stream, error.errorCode, false);
    this.handler.onConnectionError(error);
  }

  private protocolError(message: string): H2Error {
    return new H2Error('AVX_H2_PROTOCOL', H2ErrorCode.PROTOCOL_ERROR, 0, message);
  }

  private frameSizeError(message: string): H2Error {
    return new H2Error('AVX_H2_FRAME_SIZE', H2ErrorCode.FRAME_SIZE_ERROR, 0, message);
  }

  private flood(message: string): H2Error {
    return new H2Error('AVX_H2_FLOOD', H2ErrorCode.ENHANCE_YOUR_CALM, 0, `${message} (RFC 9113 §10.5)`);
  }
}
