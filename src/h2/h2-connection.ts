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
 * (§6.4); GOAWAY (§6.8); PRIORITY validated and otherwise ignored (§5.3.2); the RFC 9218
 * `priority` field and PRIORITY_UPDATE frame (§7.1), which order queued DATA
 * (`H2PriorityScheduler`), a server's own response `priority` field overriding the client's
 * signal (§5, §8), and PRIORITY_UPDATE sent by a client (`updatePriority`); server push
 * (§8.4): `pushPromise` when the client allows it, and PUSH_PROMISE received by a client with
 * `enablePush`; frames on closed streams answered as §5.1 asks (`ClosedStreamLog`); the
 * peer's SETTINGS_MAX_HEADER_LIST_SIZE enforced on what we send; trailers (§8.1); extended
 * CONNECT (RFC 8441 §3, §4) behind `enableConnectProtocol`.
 *
 * Hardening (§10.5): rapid reset (CVE-2023-44487), CONTINUATION flood (CVE-2024-27316),
 * HPACK bombs, SETTINGS / PING / empty-frame floods end the connection with
 * ENHANCE_YOUR_CALM; limits come from `H2ConnectionOptions`.
 */

import { Buffer } from 'node:buffer';
import { AvxError } from '../core/errors.js';
import { ClosedStreamEnd, ClosedStreamLog } from './closed-stream-log.js';
import { fieldSectionSize } from './field-section-size.js';
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
import { type PriorityParams, parsePriorityField, serializePriorityField } from './priority-field.js';
import { H2PriorityScheduler } from './priority-scheduler.js';
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
  /**
   * A SETTINGS frame from the peer was applied (its values are in the `peer*` fields). Optional:
   * a client that must know a setting before it sends (RFC 8441 §3) waits for the first one.
   */
  onSettings?(): void;
  /**
   * Client role with `enablePush`: the server promised `promised` (state reserved (remote)) on
   * `associated`, for the request in `fields` (RFC 9113 §8.4). Its response arrives through
   * `onHeaders` / `onData` like any other; `resetStream(promised, CANCEL)` declines it (§8.4.2).
   * Without this method, promises are refused with CANCEL.
   */
  onPushPromise?(associated: H2Stream, promised: H2Stream, fields: string[]): void;
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
  /** The peer's SETTINGS_ENABLE_PUSH (RFC 9113 §6.5.2; initially 1): a server may push. */
  peerEnablePush = true;
  /** The peer announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3). */
  peerEnableConnectProtocol = false;
  /** The peer's first SETTINGS frame arrived (RFC 9113 §3.4). */
  peerSettingsReceived = false;
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
  /** The stream a PUSH_PROMISE block being assembled promises, or 0 for a HEADERS block. */
  private blockPromisedId = 0;
  /** Streams with DATA, trailers or END_STREAM waiting, in RFC 9218 priority order. */
  private readonly scheduler: H2PriorityScheduler;
  /** How recently closed streams ended (RFC 9113 §5.1: late frames ignored or STREAM_CLOSED). */
  private readonly closedStreams: ClosedStreamLog;
  /** RFC 9218 §7.1: PRIORITY_UPDATE received for request streams not open yet. */
  private earlyPriorities: Map<number, PriorityParams> | undefined;
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
    this.scheduler = new H2PriorityScheduler((stream) => this.sendFrameOf(stream));
    // One stream limit's worth of closed streams: 8 octets each, allocated on the first close.
    this.closedStreams = new ClosedStreamLog(Math.min(Math.max(64, o.maxConcurrentStreams), 4096));
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
    // RFC 9113 §8.4: a client refuses push unless asked to accept it (the initial value is 1).
    if (!this.isServer) {
      if (!o.enablePush) settings.push(H2Setting.ENABLE_PUSH, 0);
    } else if (o.enableConnectProtocol) {
      // RFC 8441 §3: a server that accepts extended CONNECT says so.
      settings.push(H2Setting.ENABLE_CONNECT_PROTOCOL, 1);
    }
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
    for (const stream of this.streams.values()) {
      if (
        stream.queued &&
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
        this.onPushPromiseFrame(flags, streamId, payload);
        break;
      case H2FrameType.PRIORITY_UPDATE:
        this.onPriorityUpdateFrame(streamId, payload);
        break;
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
      // A stream already closed: the octets still count (§6.9), and unless we reset it (then
      // the peer may not have known yet) the peer broke §5.1.
      this.creditConnection(length);
      this.checkClosedStream(id, 'DATA');
      return;
    }
    if (!stream.canReceive) {
      // RFC 9113 §5.1: only HEADERS may arrive on a stream the peer reserved.
      if (stream.state === H2StreamState.ReservedRemote)
        throw this.protocolError(`DATA on reserved stream ${id} (RFC 9113 §5.1)`);
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
    const promised = this.blockPromisedId;
    if (promised !== 0) {
      this.blockPromisedId = 0;
      this.onPushPromiseBlock(id, promised, block);
      return;
    }
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
          // A stream that is already closed: ignored after we reset it (§5.1), else an error.
          this.checkClosedStream(id, 'HEADERS');
          return;
        }
        this.lastPeerStreamId = id;
        if (this.goawaySent && id > this.goawayLastStreamId) {
          // §6.8: ignored, and so are its later frames.
          this.closedStreams.add(id, ClosedStreamEnd.ResetByUs);
          return;
        }
        if (this.peerStreams >= this.options.maxConcurrentStreams) {
          // RFC 9113 §5.1.2: over our limit.
          this.countReset();
          this.writer.rstStream(id, H2ErrorCode.REFUSED_STREAM);
          this.closedStreams.add(id, ClosedStreamEnd.ResetByUs);
          return;
        }
        const stream = new H2Stream(id, this.peerInitialWindowSize, this.options.initialWindowSize);
        stream.state = H2StreamState.Open;
        this.streams.set(id, stream);
        this.peerStreams++;
        if (tooLarge) {
          // RFC 9113 §10.5.1 / RFC 6585 §5: answer 431 and keep the connection.
          this.countReset();
          this.writeHeaders(stream, [':status', '431'], true);
          if (this.streams.has(id)) this.streamError(stream, H2ErrorCode.NO_ERROR);
          return;
        }
        const problem = badPriority
          ? 'stream depends on itself (RFC 9113 §5.3.1)'
          : checkRequestFields(fields, facts, this.options.enableConnectProtocol);
        if (problem !== undefined || (endStream && facts.contentLength > 0)) {
          // RFC 9113 §8.1.1: malformed requests are stream errors.
          this.countReset();
          this.streamError(stream, H2ErrorCode.PROTOCOL_ERROR);
          return;
        }
        stream.headersReceived = true;
        stream.expectedLength = facts.contentLength;
        if (facts.priorityIndex >= 0) stream.priority = parsePriorityField(fields[facts.priorityIndex]!);
        const earlyMap = this.earlyPriorities;
        if (earlyMap !== undefined && earlyMap.size > 0) {
          // RFC 9218 §7.1: a PRIORITY_UPDATE sent before the request wins over its field.
          const early = earlyMap.get(id);
          if (early !== undefined) stream.priority = early;
          // Streams up to this one can no longer open (RFC 9113 §5.1.1): drop their updates.
          for (const key of earlyMap.keys()) if (key <= id) earlyMap.delete(key);
        }
        stream.announced = true;
        this.handler.onHeaders(stream, fields, endStream, false);
        if (endStream) this.endRemote(stream);
        return;
      }
      if ((id & 1) === 0 && id > this.lastPeerStreamId)
        throw this.protocolError(`server opened stream ${id} without PUSH_PROMISE (RFC 9113 §8.4)`);
      if (id >= this.nextStreamId && (id & 1) === 1)
        throw this.protocolError(`HEADERS on idle stream ${id} (RFC 9113 §5.1)`);
      this.checkClosedStream(id, 'HEADERS');
      return;
    }
    const stream = existing;
    // RFC 9113 §5.1: the promised response's HEADERS make a reserved stream half-closed (local).
    if (stream.state === H2StreamState.ReservedRemote) stream.state = H2StreamState.HalfClosedLocal;
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
    // RFC 9113 §5.3.2: the RFC 7540 priority scheme is deprecated; validated, then ignored.
    this.countEmpty();
    let code = -1;
    // RFC 9113 §6.3: a length other than 5 is a stream error FRAME_SIZE_ERROR.
    if (payload.length !== 5) code = H2ErrorCode.FRAME_SIZE_ERROR;
    // RFC 9113 §5.3.1: a stream cannot depend on itself (a stream error PROTOCOL_ERROR).
    else if ((payload.readUInt32BE(0) & 0x7fffffff) === id) code = H2ErrorCode.PROTOCOL_ERROR;
    if (code < 0) return;
    // Each answer costs us a frame: count it like a reset (CVE-2023-44487).
    this.countReset();
    const stream = this.streams.get(id);
    if (stream !== undefined) this.streamError(stream, code);
    else this.writer.rstStream(id, code);
  }

  /**
   * RFC 9113 §6.6, §8.4: PUSH_PROMISE. Servers never receive one (clients cannot push), and a
   * client that refused push (SETTINGS_ENABLE_PUSH 0) treats one as a connection error.
   */
  private onPushPromiseFrame(flags: number, id: number, payload: Buffer): void {
    if (this.isServer) throw this.protocolError('a client sent PUSH_PROMISE (RFC 9113 §8.4)');
    if (!this.options.enablePush)
      throw this.protocolError('PUSH_PROMISE after SETTINGS_ENABLE_PUSH = 0 (RFC 9113 §6.5.2, §8.4)');
    if (id === 0) throw this.protocolError('PUSH_PROMISE on stream 0 (RFC 9113 §6.6)');
    let start = 0;
    let end = payload.length;
    let pad = 0;
    if (flags & H2Flag.PADDED) {
      if (end < 1) throw this.frameSizeError('padded PUSH_PROMISE without a pad length');
      pad = payload[0]!;
      start = 1;
    }
    if (end - start < 4) throw this.frameSizeError('PUSH_PROMISE too short for its promised stream id');
    const promised = payload.readUInt32BE(start) & 0x7fffffff;
    start += 4;
    if (pad > end - start)
      throw this.protocolError('PUSH_PROMISE padding exceeds the payload (RFC 9113 §6.6)');
    end -= pad;
    // RFC 9113 §6.6, §5.1.1: the promised id must be a new server stream id.
    if (promised === 0 || (promised & 1) !== 0 || promised <= this.lastPeerStreamId) {
      throw this.protocolError(`PUSH_PROMISE promises illegal stream ${promised} (RFC 9113 §6.6)`);
    }
    this.lastPeerStreamId = promised;
    const fragment = payload.subarray(start, end);
    if (flags & H2Flag.END_HEADERS) {
      this.onPushPromiseBlock(id, promised, fragment);
      return;
    }
    if (fragment.length === 0) this.countEmpty();
    this.blockStreamId = id;
    this.blockPromisedId = promised;
    this.blockEndStream = false;
    this.blockBadPriority = false;
    this.blockFragments = [fragment];
    this.blockBytes = fragment.length;
    this.blockFrames = 1;
    this.blockTooLarge = false;
    this.checkBlockSize();
  }

  /** A complete PUSH_PROMISE header block (client role, `enablePush`). */
  private onPushPromiseBlock(associatedId: number, promisedId: number, block: Buffer): void {
    // Always decode: the HPACK context must stay in step (§4.3), even for refused promises.
    const fields = this.decoder.decode(block);
    const tooLarge = this.decoder.tooLarge;
    const associated = this.streams.get(associatedId);
    if (associated === undefined || !associated.canReceive || !this.isLocal(associatedId)) {
      // RFC 9113 §6.6: only on a stream we opened that is open or half-closed (local); but a
      // promise may cross our RST_STREAM of its stream (§5.1): then the promise is refused.
      if (
        associated !== undefined ||
        !this.isLocal(associatedId) ||
        this.isIdle(associatedId) ||
        this.closedStreams.get(associatedId) === ClosedStreamEnd.EndedByPeer
      ) {
        throw this.protocolError(`PUSH_PROMISE on stream ${associatedId}, which is not open (RFC 9113 §6.6)`);
      }
      this.refusePromise(promisedId, H2ErrorCode.CANCEL);
      return;
    }
    const facts = this.facts;
    // RFC 9113 §8.4.1: a promised request is well-formed, safe and cacheable, else a stream error.
    const problem = tooLarge ? 'too large' : checkRequestFields(fields, facts);
    if (problem !== undefined || (facts.method !== 'GET' && facts.method !== 'HEAD')) {
      this.refusePromise(promisedId, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    // §8.4.2: SETTINGS_MAX_CONCURRENT_STREAMS limits pushes too; after our GOAWAY we take none.
    if (
      this.peerStreams >= this.options.maxConcurrentStreams ||
      this.goawaySent ||
      this.handler.onPushPromise === undefined
    ) {
      this.refusePromise(promisedId, this.goawaySent ? H2ErrorCode.REFUSED_STREAM : H2ErrorCode.CANCEL);
      return;
    }
    const stream = new H2Stream(promisedId, this.peerInitialWindowSize, this.options.initialWindowSize);
    stream.state = H2StreamState.ReservedRemote;
    stream.associatedId = associatedId;
    stream.announced = true;
    this.streams.set(promisedId, stream);
    this.peerStreams++;
    this.handler.onPushPromise(associated, stream, fields);
  }

  /** Declines a promised stream at once (RST_STREAM, RFC 9113 §8.4.2); its later frames are ignored. */
  private refusePromise(promisedId: number, errorCode: number): void {
    this.countReset();
    this.writer.rstStream(promisedId, errorCode);
    this.closedStreams.add(promisedId, ClosedStreamEnd.ResetByUs);
  }

  /**
   * RFC 9218 §7.1: PRIORITY_UPDATE, from a client, on stream 0: the new priority of a request
   * (or pushed) stream. For a request stream not open yet it is kept (at most
   * `maxConcurrentStreams` of them) and applied when the request arrives.
   */
  private onPriorityUpdateFrame(id: number, payload: Buffer): void {
    if (!this.isServer) throw this.protocolError('a server sent PRIORITY_UPDATE (RFC 9218 §7.1)');
    if (id !== 0) throw this.protocolError('PRIORITY_UPDATE on a stream other than 0 (RFC 9218 §7.1)');
    if (payload.length < 4)
      throw this.frameSizeError('PRIORITY_UPDATE shorter than 4 octets (RFC 9218 §7.1)');
    this.countEmpty();
    const target = payload.readUInt32BE(0) & 0x7fffffff;
    if (target === 0) throw this.protocolError('PRIORITY_UPDATE for stream 0 (RFC 9218 §7.1)');
    if (this.isLocal(target) && this.isIdle(target)) {
      throw this.protocolError(`PRIORITY_UPDATE for push stream ${target} never promised (RFC 9218 §7.1)`);
    }
    const params = parsePriorityField(payload.toString('latin1', 4));
    const stream = this.streams.get(target);
    if (stream !== undefined) {
      // RFC 9218 §8: what our response said about its own priority still wins over the client.
      const local = stream.localPriority;
      stream.priority = local === undefined ? params : parsePriorityField(local, params);
      this.scheduler.reprioritize(stream);
      return;
    }
    if (!this.isIdle(target)) return; // closed: nothing to do
    let early = this.earlyPriorities;
    if (early === undefined) {
      early = new Map();
      this.earlyPriorities = early;
    }
    if (!early.has(target) && early.size >= this.options.maxConcurrentStreams) {
      throw this.protocolError('too many PRIORITY_UPDATE frames for streams not open (RFC 9218 §7.1)');
    }
    early.set(target, params);
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
          this.peerEnablePush = value === 1;
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
        case H2Setting.ENABLE_CONNECT_PROTOCOL:
          // RFC 8441 §3: 0 or 1, and never withdrawn once announced.
          if (value > 1 || (value === 0 && this.peerEnableConnectProtocol))
            throw this.protocolError('invalid SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)');
          this.peerEnableConnectProtocol = value === 1;
          break;
        default:
        // RFC 9113 §6.5.2: unknown settings are ignored.
      }
    }
    this.writer.settingsAck();
    this.peerSettingsReceived = true;
    this.handler.onSettings?.();
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
    if (this.isServer) throw new Error('a server opens streams only by pushing (see pushPromise)');
    this.checkFieldSectionSize(fields, 0);
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
    this.writeHeaders(stream, fields, endStream);
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

  /**
   * Sends a header section (response, informational response, or request trailers); on a
   * stream we promised (reserved (local)) it starts the pushed response (RFC 9113 §5.1, §8.4).
   * Throws {@link H2Error} `AVX_H2_HEADER_LIST_TOO_LARGE` (and sends nothing) when the section
   * exceeds the peer's SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2, §10.5.1).
   */
  sendHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void {
    if (stream.state === H2StreamState.ReservedLocal) {
      this.checkFieldSectionSize(fields, stream.id);
      stream.state = H2StreamState.HalfClosedRemote;
    }
    if (!stream.canSend) return;
    this.checkFieldSectionSize(fields, stream.id);
    if (this.isServer && !endStream) this.applyResponsePriority(stream, fields);
    this.writeHeaders(stream, fields, endStream);
  }

  /**
   * RFC 9218 §7.1: tells the server the new priority of one of our open streams (a request, or
   * a response pushed to us) with PRIORITY_UPDATE on stream 0. Sent whatever the server's
   * SETTINGS_NO_RFC7540_PRIORITIES: a server that does not know the frame ignores it (RFC 9113
   * §5.5, RFC 9218 §2.1). Returns false, sending nothing, when the stream is closed already
   * (the server has forgotten it; §7.1 lets it ignore such updates anyway). Throws on a server
   * (§7.1: only clients send it) and RangeError for an urgency outside 0..7.
   */
  updatePriority(stream: H2Stream, params: PriorityParams): boolean {
    if (this.isServer) {
      throw new AvxError('AVX_H2_CLIENT_ONLY', 'only a client sends PRIORITY_UPDATE (RFC 9218 §7.1)');
    }
    const value = serializePriorityField(params);
    if (stream.state === H2StreamState.Closed || this.failed || this.streams.get(stream.id) !== stream)
      return false;
    stream.priority = { urgency: params.urgency, incremental: params.incremental };
    this.writer.priorityUpdate(stream.id, value);
    return true;
  }

  /**
   * Promises a pushed response (RFC 9113 §8.4, §6.6): sends PUSH_PROMISE on `associated` (a
   * request stream we may still send on) for the request in `fields` (`:method` GET or HEAD,
   * `:scheme`, `:authority`, `:path`, §8.4.1) and returns the promised stream, in state
   * reserved (local): answer it with `sendHeaders` and `sendData` like any response. Returns
   * undefined when pushing is not possible now: the client set SETTINGS_ENABLE_PUSH to 0, its
   * SETTINGS_MAX_CONCURRENT_STREAMS is reached, either side is going away, or `associated` is
   * not open. Throws {@link H2Error} when called on a client, for a request that is not a safe
   * and cacheable GET or HEAD, or one over the peer's SETTINGS_MAX_HEADER_LIST_SIZE.
   */
  pushPromise(associated: H2Stream, fields: readonly string[]): H2Stream | undefined {
    if (!this.isServer) {
      // RFC 9113 §8.4: "A client cannot push."
      throw this.protocolError('a client cannot push (RFC 9113 §8.4)');
    }
    const problem = checkRequestFields(fields, this.facts);
    const method = this.facts.method;
    if (problem !== undefined || (method !== 'GET' && method !== 'HEAD')) {
      throw new H2Error(
        'AVX_H2_MALFORMED_HEADERS',
        H2ErrorCode.PROTOCOL_ERROR,
        0,
        `a pushed request must be a well-formed GET or HEAD (RFC 9113 §8.4.1): ${problem ?? method}`,
      );
    }
    this.checkFieldSectionSize(fields, associated.id);
    if (
      !this.peerEnablePush ||
      this.failed ||
      this.goawaySent ||
      this.peerGoawayLastStreamId >= 0 ||
      this.isLocal(associated.id) ||
      !associated.canSend ||
      this.nextStreamId > H2_MAX_STREAM_ID ||
      this.localStreams >= this.peerMaxConcurrentStreams
    ) {
      return undefined;
    }
    const stream = new H2Stream(
      this.nextStreamId,
      this.peerInitialWindowSize,
      this.options.initialWindowSize,
    );
    this.nextStreamId += 2;
    stream.state = H2StreamState.ReservedLocal;
    stream.associatedId = associated.id;
    stream.announced = true;
    this.streams.set(stream.id, stream);
    this.localStreams++;
    this.writer.pushPromise(associated.id, stream.id, this.encoder.encode(fields), this.peerMaxFrameSize);
    return stream;
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

  /**
   * Ends the stream with trailers after the queued data (RFC 9113 §8.1). Throws like
   * {@link sendHeaders} when they exceed the peer's SETTINGS_MAX_HEADER_LIST_SIZE.
   */
  sendTrailers(stream: H2Stream, fields: readonly string[]): void {
    if (!stream.canSend || stream.pendingEnd) return;
    this.checkFieldSectionSize(fields, stream.id);
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
    // The last stream the peer opened: requests for a server, promised pushes for a client.
    this.goawayLastStreamId = this.lastPeerStreamId;
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
    const out = this.writer.take();
    // With no stream open the connection may stay idle for long: it keeps no scratch buffer.
    if (this.streams.size === 0) this.writer.release();
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private isLocal(id: number): boolean {
    return (id & 1) === (this.isServer ? 0 : 1);
  }

  /**
   * RFC 9218 §5, §8: a `priority` field in our own response is the server's view of that
   * response's priority; it is merged over the client's (request field or PRIORITY_UPDATE) and
   * the scheduler uses the result from now on. The field still goes to the client (§5).
   */
  private applyResponsePriority(stream: H2Stream, fields: readonly string[]): void {
    let value: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      // RFC 9113 §8.2.1: field names are lowercase on the wire; repeated lines form one list.
      if (fields[i] === 'priority')
        value = value === undefined ? fields[i + 1]! : `${value}, ${fields[i + 1]!}`;
    }
    if (value === undefined) return;
    stream.localPriority = value;
    stream.priority = parsePriorityField(value, stream.priority);
    this.scheduler.reprioritize(stream);
  }

  /** Encodes and queues a header section, unchecked (callers checked its size). */
  private writeHeaders(stream: H2Stream, fields: readonly string[], endStream: boolean): void {
    const block = this.encoder.encode(fields);
    this.writer.headers(stream.id, block, endStream, this.peerMaxFrameSize);
    if (endStream) this.endLocal(stream);
  }

  /** RFC 9113 §6.5.2, §10.5.1: refuses a field section the peer announced it will not take. */
  private checkFieldSectionSize(fields: readonly string[], streamId: number): void {
    const limit = this.peerMaxHeaderListSize;
    if (limit === Number.POSITIVE_INFINITY) return;
    const size = fieldSectionSize(fields);
    if (size > limit) {
      throw new H2Error(
        'AVX_H2_HEADER_LIST_TOO_LARGE',
        H2ErrorCode.INTERNAL_ERROR,
        streamId,
        `a field section of ${size} octets exceeds the peer's SETTINGS_MAX_HEADER_LIST_SIZE ${limit} (RFC 9113 §6.5.2)`,
      );
    }
  }

  /**
   * DATA or HEADERS arrived on stream `id`, which is closed (not idle, not open). RFC 9113 §5.1:
   * ignored when we reset the stream (the peer may have sent before it saw our RST_STREAM);
   * a connection error STREAM_CLOSED when the peer had ended or reset it (§5.1, §6.1), or
   * PROTOCOL_ERROR for HEADERS on a peer stream id that was never opened (§5.1.1). A stream
   * closed so long ago that it is forgotten is given the benefit of the doubt.
   */
  private checkClosedStream(id: number, frame: string): void {
    const end = this.closedStreams.get(id);
    if (end === ClosedStreamEnd.ResetByUs) return;
    if (end === ClosedStreamEnd.EndedByPeer) {
      throw new H2Error(
        'AVX_H2_STREAM_CLOSED',
        H2ErrorCode.STREAM_CLOSED,
        0,
        `${frame} on stream ${id} after it was closed (RFC 9113 §5.1)`,
      );
    }
    if (id <= this.closedStreams.forgottenUpTo || this.isLocal(id)) return;
    // A peer stream id below one already used, never opened: implicitly closed (§5.1.1).
    if (frame === 'HEADERS') {
      throw this.protocolError(`HEADERS on stream ${id}, below a stream already opened (RFC 9113 §5.1.1)`);
    }
    throw new H2Error(
      'AVX_H2_STREAM_CLOSED',
      H2ErrorCode.STREAM_CLOSED,
      0,
      `${frame} on stream ${id}, which was never opened and is closed (RFC 9113 §5.1, §6.1)`,
    );
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
    this.closeStream(stream, errorCode, false, ClosedStreamEnd.ResetByUs);
  }

  /**
   * Closes `stream`. `end` says how late frames on it are treated (§5.1): by default the peer
   * is done with it (both END_STREAMs seen, or its RST_STREAM, or its GOAWAY).
   */
  private closeStream(
    stream: H2Stream,
    errorCode: number,
    byPeer: boolean,
    end: ClosedStreamEnd = ClosedStreamEnd.EndedByPeer,
  ): void {
    if (stream.state === H2StreamState.Closed) return;
    stream.state = H2StreamState.Closed;
    this.closedStreams.add(stream.id, end);
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
    if (!stream.queued) this.scheduler.add(stream);
  }

  /** Sends queued DATA within the windows, in RFC 9218 priority order (`H2PriorityScheduler`). */
  private flush(): void {
    if (this.flushing || this.scheduler.size === 0) return;
    this.flushing = true;
    try {
      this.scheduler.run();
    } finally {
      this.flushing = false;
    }
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
      if (trailers !== undefined) this.writeHeaders(stream, trailers, true);
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
