/**
 * The sans-I/O HTTP/3 connection (RFC 9114), for clients and servers. It sits above an
 * abstract QUIC stream transport and never touches one: the driver tells it about stream
 * events (`streamOpened`, `streamData`, `streamReset`, `stopSending`), each of which returns
 * the events for the application, and takes the transport commands it produced with
 * `takeCommands()` (write, open a unidirectional stream, reset, stop sending, close).
 *
 * What it implements: the control stream with SETTINGS first (§6.2.1, §7.2.4) and the QPACK
 * encoder and decoder streams (RFC 9204 §4.2), opened at construction; validation of the
 * peer's unidirectional streams (§6.2: one control stream, SETTINGS first, critical streams
 * never closed; unknown types discarded with H3_STREAM_CREATION_ERROR); the frame sequence
 * of request streams (§4.1: HEADERS, DATA*, trailing HEADERS); field validation (§4.2, §4.3)
 * and Content-Length against DATA (§4.1.2), malformed messages being stream errors of type
 * H3_MESSAGE_ERROR; QPACK with blocked streams (a HEADERS frame whose field section is
 * blocked is delivered, with what follows it on that stream, once the encoder stream
 * unblocks it, RFC 9204 §2.2.1); GOAWAY both ways with graceful shutdown (§5.2); server push
 * refused by never sending MAX_PUSH_ID, so that PUSH_PROMISE and push streams are H3_ID_ERROR
 * (§4.6, §7.2.5). Stream ids follow QUIC (RFC 9000 §2.1): this core allocates the ids of the
 * streams it opens (client requests 0, 4, 8, ...; unidirectional 2 or 3 mod 4).
 *
 * Connection errors (§8) produce a `close` command and a `connectionError` event, after which
 * every input is ignored; stream errors reset the stream and produce a `streamError` event.
 * Misuse of the send API throws an {@link H3Error} with scope 'local'.
 */
import { Buffer } from 'node:buffer';
import { encodeVarint, readVarint, varintLengthOf } from '../quic/quic-varint.js';
import { H3Error, H3ErrorCode } from './h3-error.js';
import {
  checkRequestFields,
  checkResponseFields,
  checkTrailerFields,
  emptyFieldFacts,
} from './h3-field-validation.js';
import { H3FrameReader, type H3FrameReaderLimits, type H3FrameSink } from './h3-frame-reader.js';
import { H3FrameType, H3StreamType, isReservedH2FrameType } from './h3-frame-types.js';
import {
  decodeIdFrame,
  encodeDataFrameHeader,
  encodeGoawayFrame,
  encodeHeadersFrame,
} from './h3-frame-writer.js';
import { H3MessageState, H3RequestStream } from './h3-request-stream.js';
import { decodeSettingsPayload, encodeSettingsFrame, type H3Settings } from './h3-settings.js';
import { QpackDecoder, type QpackFieldSection } from './qpack-decoder.js';
import { QpackEncoder } from './qpack-encoder.js';
import { QpackError } from './qpack-error.js';

/** Which end of the connection this is. */
export type H3Role = 'client' | 'server';

/** Options of an {@link H3Connection}. */
export interface H3ConnectionOptions {
  /** Client or server. Required. */
  role: H3Role;
  /**
   * SETTINGS_MAX_FIELD_SECTION_SIZE we announce (§4.2.2), octets as RFC 9114 counts them
   * (name + value + 32 per field); a larger section received is a stream error of type
   * H3_EXCESSIVE_LOAD. Default 65536.
   */
  maxFieldSectionSize?: number;
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY we announce, octets (RFC 9204 §5). Default 4096. */
  qpackMaxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS we announce (RFC 9204 §5). Default 16. */
  qpackBlockedStreams?: number;
  /** Largest dynamic table our encoder uses, octets (capped by the peer's setting). Default 4096. */
  qpackEncoderTableCapacity?: number;
  /** Huffman-code QPACK strings when shorter (RFC 9204 §4.1.2). Default true. */
  qpackHuffman?: boolean;
  /** Largest HEADERS frame payload accepted, octets. Default: `maxFieldSectionSize`. */
  maxFieldSectionFrameSize?: number;
  /** Largest SETTINGS, GOAWAY, CANCEL_PUSH or MAX_PUSH_ID payload accepted, octets. Default 16384. */
  maxControlFrameSize?: number;
  /**
   * Octets buffered on a request stream behind a QPACK-blocked HEADERS frame; more is a
   * connection error of type H3_EXCESSIVE_LOAD. Default 65536.
   */
  maxBlockedStreamBytes?: number;
  /** Announce SETTINGS_ENABLE_CONNECT_PROTOCOL and accept extended CONNECT (RFC 9220). Default false. */
  enableConnectProtocol?: boolean;
}

/** What the connection asks of the QUIC transport. */
export type H3Command =
  /** Open the unidirectional stream `streamId`; its bytes, stream type first, follow as writes. */
  | { kind: 'openUni'; streamId: number; type: number }
  /** Send `bytes` on the stream, then end it when `fin`. A bidirectional stream opens on its first write. */
  | { kind: 'write'; streamId: number; bytes: Buffer; fin: boolean }
  /** Abort our sending side of the stream (QUIC RESET_STREAM). */
  | { kind: 'reset'; streamId: number; code: number }
  /** Ask the peer to stop sending on the stream (QUIC STOP_SENDING). */
  | { kind: 'stopSending'; streamId: number; code: number }
  /** Close the QUIC connection with an HTTP/3 error code (§8). */
  | { kind: 'close'; code: number; reason: string };

/** What the connection tells the application. */
export type H3Event =
  /** The peer's SETTINGS (§7.2.4). */
  | { type: 'settings'; settings: H3Settings }
  /**
   * A header section: a request (server), a response (client; `informational` for 1xx), or
   * trailers. `fields` is `[name0, value0, name1, value1, ...]`.
   */
  | { type: 'headers'; streamId: number; fields: string[]; trailers: boolean; informational: boolean }
  /** Body octets. A view of the bytes given to `streamData`: copy it if that buffer is reused. */
  | { type: 'data'; streamId: number; data: Buffer }
  /** The peer's message is complete (FIN after a valid message). */
  | { type: 'end'; streamId: number }
  /** The peer reset its sending side of the stream (QUIC RESET_STREAM). */
  | { type: 'streamReset'; streamId: number; code: number }
  /** The peer asked us to stop sending: our sending side was reset with its code. */
  | { type: 'stopSending'; streamId: number; code: number }
  /** We refused the peer's message (malformed, too large, ...): the stream was reset. */
  | { type: 'streamError'; streamId: number; error: H3Error }
  /** A request the peer will not process because of GOAWAY (§5.2); it may be retried elsewhere. */
  | { type: 'requestRejected'; streamId: number }
  /** The peer sent GOAWAY (§5.2): a stream id from a server, a push id from a client. */
  | { type: 'goaway'; id: number }
  /** The connection failed; a `close` command was queued. */
  | { type: 'connectionError'; error: H3Error };

/** A peer-initiated unidirectional stream (§6.2). */
interface PeerUniStream {
  readonly id: number;
  /** The stream type once read, -1 before. */
  type: number;
  readonly typeBytes: Buffer;
  typeFill: number;
  reader: H3FrameReader | undefined;
  /** Unknown type: data is discarded (§6.2). */
  discard: boolean;
}

const isUni = (id: number): boolean => (id & 2) !== 0;
const isClientInitiated = (id: number): boolean => (id & 1) === 0;

function fieldSectionSize(fields: readonly string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) size += fields[i]!.length + fields[i + 1]!.length + 32;
  return size;
}

/** One HTTP/3 connection, client or server. */
export class H3Connection {
  readonly role: H3Role;
  /** The QPACK encoder for what we send (exposed for tests and diagnostics). */
  readonly qpackEncoder: QpackEncoder;
  /** The QPACK decoder for what we receive. */
  readonly qpackDecoder: QpackDecoder;

  private readonly limits: H3FrameReaderLimits;
  private readonly maxBlockedStreamBytes: number;
  private readonly extendedConnect: boolean;
  private commands: H3Command[] = [];
  private events: H3Event[] = [];
  private closedWith: H3Error | undefined;
  private closedLocally = false;

  private readonly streams = new Map<number, H3RequestStream>();
  private readonly peerUni = new Map<number, PeerUniStream>();
  private peerControl: PeerUniStream | undefined;
  private peerEncoderStream = -1;
  private peerDecoderStream = -1;
  private peerSettingsValue: H3Settings | undefined;

  private nextUniId: number;
  private nextBidiId = 0;
  private readonly controlStreamId: number;
  private readonly encoderStreamId: number;
  private readonly decoderStreamId: number;

  /** Peer-initiated request streams below this id are all finished (server). */
  private peerClosedBelow = 0;
  private readonly peerClosedAbove = new Set<number>();
  /** Highest request stream id the peer opened (server), -1 before any. */
  private highestPeerRequest = -1;

  private goawaySentId = -1;
  private goawayReceivedId = -1;
  /** The peer's MAX_PUSH_ID (server), -1 before any (§7.2.7). */
  private peerMaxPushId = -1;

  constructor(options: H3ConnectionOptions) {
    this.role = options.role;
    const maxFieldSectionSize = options.maxFieldSectionSize ?? 65536;
    const tableCapacity = options.qpackMaxTableCapacity ?? 4096;
    const blockedStreams = options.qpackBlockedStreams ?? 16;
    this.extendedConnect = options.enableConnectProtocol ?? false;
    this.limits = {
      maxFieldSectionFrameSize: options.maxFieldSectionFrameSize ?? maxFieldSectionSize,
      maxControlFrameSize: options.maxControlFrameSize ?? 16384,
    };
    this.maxBlockedStreamBytes = options.maxBlockedStreamBytes ?? 65536;
    this.qpackEncoder = new QpackEncoder({
      maxTableCapacity: options.qpackEncoderTableCapacity ?? 4096,
      huffman: options.qpackHuffman ?? true,
    });
    this.qpackDecoder = new QpackDecoder({
      maxTableCapacity: tableCapacity,
      maxBlockedStreams: blockedStreams,
      maxFieldSectionSize,
    });
    // RFC 9000 §2.1: client unidirectional streams are 2 mod 4, server ones 3 mod 4.
    this.nextUniId = this.role === 'client' ? 2 : 3;
    this.controlStreamId = this.openUni(H3StreamType.CONTROL);
    this.encoderStreamId = this.openUni(H3StreamType.QPACK_ENCODER);
    this.decoderStreamId = this.openUni(H3StreamType.QPACK_DECODER);
    // RFC 9114 §6.2.1: SETTINGS is the first frame of the control stream.
    this.write(
      this.controlStreamId,
      encodeSettingsFrame({
        qpackMaxTableCapacity: tableCapacity,
        maxFieldSectionSize,
        qpackBlockedStreams: blockedStreams,
        enableConnectProtocol: this.extendedConnect,
      }),
      false,
    );
  }

  // ---------------------------------------------------------------- state

  /** The peer's SETTINGS, undefined until they arrive (§7.2.4.2: defaults apply meanwhile). */
  get peerSettings(): H3Settings | undefined {
    return this.peerSettingsValue;
  }

  /** Request streams not yet finished in both directions. */
  get activeStreamCount(): number {
    return this.streams.size;
  }

  /** The id of the GOAWAY we sent, or -1. */
  get goawaySent(): number {
    return this.goawaySentId;
  }

  /** The id of the last GOAWAY received, or -1. */
  get goawayReceived(): number {
    return this.goawayReceivedId;
  }

  /** The connection error that closed the connection, if any. */
  get error(): H3Error | undefined {
    return this.closedWith;
  }

  /** True once closed by an error or by {@link close}. */
  get closed(): boolean {
    return this.closedWith !== undefined || this.closedLocally;
  }

  /** The commands produced so far, in order; the queue is emptied. */
  takeCommands(): H3Command[] {
    const out = this.commands;
    this.commands = [];
    return out;
  }

  // ---------------------------------------------------------------- transport input

  /** The peer opened a stream (optional: `streamData` opens it as well). */
  streamOpened(streamId: number, uni: boolean = isUni(streamId)): H3Event[] {
    return this.run(() => {
      if (uni !== isUni(streamId)) {
        throw H3Error.connection(
          H3ErrorCode.H3_STREAM_CREATION_ERROR,
          `stream ${streamId} direction mismatch`,
        );
      }
      if (this.isLocal(streamId)) return;
      if (uni) this.peerUniStream(streamId);
      else this.peerRequestStream(streamId);
    });
  }

  /** Bytes arrived on a stream; `fin` when the peer ended it. */
  streamData(streamId: number, bytes: Uint8Array, fin: boolean): H3Event[] {
    return this.run(() => {
      const chunk = Buffer.isBuffer(bytes)
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      if (isUni(streamId)) {
        if (this.isLocal(streamId)) return;
        const s = this.peerUniStream(streamId);
        if (s !== undefined) this.feedUni(s, chunk, fin);
        return;
      }
      const stream = this.isLocal(streamId) ? this.streams.get(streamId) : this.peerRequestStream(streamId);
      if (stream !== undefined) this.feedRequest(stream, chunk, fin);
    });
  }

  /** The peer reset its sending side of a stream (QUIC RESET_STREAM). */
  streamReset(streamId: number, code: number): H3Event[] {
    return this.run(() => {
      if (isUni(streamId)) {
        const s = this.peerUni.get(streamId);
        if (s === undefined) return;
        this.checkNotCritical(s, 'reset');
        this.peerUni.delete(streamId);
        return;
      }
      const stream = this.streams.get(streamId);
      if (stream === undefined || stream.receiving >= H3MessageState.Done) return;
      stream.receiving = H3MessageState.Aborted;
      stream.pending = [];
      // RFC 9204 §4.4.2: the decoder forgets the stream's field sections.
      this.qpackDecoder.cancelStream(streamId);
      this.events.push({ type: 'streamReset', streamId, code });
      this.finishIfDone(stream);
    });
  }

  /** The peer asked us to stop sending on a stream (QUIC STOP_SENDING). */
  stopSending(streamId: number, code: number): H3Event[] {
    return this.run(() => {
      if (isUni(streamId)) {
        // RFC 9114 §6.2.1, RFC 9204 §4.2: our critical streams must not be closed.
        if (
          streamId === this.controlStreamId ||
          streamId === this.encoderStreamId ||
          streamId === this.decoderStreamId
        ) {
          throw H3Error.connection(
            H3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
            `peer asked to stop our critical stream ${streamId} (RFC 9114 §6.2.1)`,
          );
        }
        return;
      }
      const stream = this.streams.get(streamId);
      if (stream === undefined || stream.sending >= H3MessageState.Done) return;
      stream.sending = H3MessageState.Aborted;
      this.commands.push({ kind: 'reset', streamId, code });
      this.events.push({ type: 'stopSending', streamId, code });
      this.finishIfDone(stream);
    });
  }

  // ---------------------------------------------------------------- application commands

  /**
   * Client: sends a request (§4.1) on a new stream and returns its id. The stream ends after
   * `body` (and `trailers`) unless `endStream` is false, for a body sent with {@link sendData}.
   */
  sendRequest(
    fields: string[],
    body?: Uint8Array,
    options: { trailers?: string[]; endStream?: boolean } = {},
  ): number {
    this.checkOpen();
    if (this.role !== 'client') throw this.misuse('only a client sends requests');
    if (this.goawayReceivedId !== -1) {
      throw this.misuse('the server sent GOAWAY: no new request on this connection (RFC 9114 §5.2)');
    }
    const facts = emptyFieldFacts();
    const problem = checkRequestFields(fields, facts, this.peerSettingsValue?.enableConnectProtocol ?? false);
    if (problem !== undefined) throw this.misuse(`malformed request: ${problem}`);
    const id = this.nextBidiId;
    this.nextBidiId += 4;
    const stream = this.newRequestStream(id);
    stream.method = facts.method;
    const end = options.endStream ?? true;
    const trailers = options.trailers;
    const headersEnd = end && body === undefined && trailers === undefined;
    this.writeHeaders(stream, fields, headersEnd);
    stream.sending = headersEnd ? H3MessageState.Done : H3MessageState.Body;
    if (body !== undefined) this.writeData(stream, body, end && trailers === undefined);
    if (trailers !== undefined) this.sendTrailers(id, trailers);
    return id;
  }

  /**
   * Server: sends a whole response on a request stream: headers, then `body`, then `trailers`,
   * and ends the stream (§4.1). Informational responses go through {@link sendHeaders}.
   */
  sendResponse(streamId: number, fields: string[], body?: Uint8Array, trailers?: string[]): void {
    this.sendHeaders(streamId, fields, body === undefined && trailers === undefined);
    if (body !== undefined) this.sendData(streamId, body, trailers === undefined);
    if (trailers !== undefined) this.sendTrailers(streamId, trailers);
  }

  /**
   * Server: sends a response header section (an informational one, 1xx, may come first); the
   * stream ends with it when `endStream`.
   */
  sendHeaders(streamId: number, fields: string[], endStream = false): void {
    this.checkOpen();
    if (this.role !== 'server') throw this.misuse('a client sends its headers with sendRequest');
    const stream = this.sendableStream(streamId);
    if (stream.sending !== H3MessageState.Headers)
      throw this.misuse(`stream ${streamId}: headers already sent`);
    const facts = emptyFieldFacts();
    const problem = checkResponseFields(fields, facts);
    if (problem !== undefined) throw this.misuse(`malformed response: ${problem}`);
    const informational = facts.status < 200;
    if (informational && endStream) throw this.misuse('an informational response cannot end the stream');
    this.writeHeaders(stream, fields, endStream);
    if (!informational) stream.sending = endStream ? H3MessageState.Done : H3MessageState.Body;
    this.finishIfDone(stream);
  }

  /** Sends body octets in one DATA frame (§7.2.1); ends the stream when `endStream`. */
  sendData(streamId: number, data: Uint8Array, endStream = false): void {
    this.checkOpen();
    const stream = this.sendableStream(streamId);
    if (stream.sending !== H3MessageState.Body) {
      throw this.misuse(
        `stream ${streamId}: DATA only after the header section and before trailers (RFC 9114 §4.1)`,
      );
    }
    this.writeData(stream, data, endStream);
    this.finishIfDone(stream);
  }

  /** Sends trailers (§4.1) and ends the stream. */
  sendTrailers(streamId: number, fields: string[]): void {
    this.checkOpen();
    const stream = this.sendableStream(streamId);
    if (stream.sending !== H3MessageState.Body) throw this.misuse(`stream ${streamId}: no trailers here`);
    const problem = checkTrailerFields(fields, emptyFieldFacts());
    if (problem !== undefined) throw this.misuse(`malformed trailers: ${problem}`);
    this.writeHeaders(stream, fields, true);
    stream.sending = H3MessageState.Done;
    this.finishIfDone(stream);
  }

  /** Ends our side of a stream without more frames. */
  endStream(streamId: number): void {
    this.checkOpen();
    const stream = this.sendableStream(streamId);
    if (stream.sending !== H3MessageState.Body) throw this.misuse(`stream ${streamId}: no message to end`);
    this.write(streamId, Buffer.alloc(0), true);
    stream.sending = H3MessageState.Done;
    this.finishIfDone(stream);
  }

  /**
   * Abandons a request stream in both directions with `code` (default H3_REQUEST_CANCELLED,
   * §4.1.1): resets our side and asks the peer to stop.
   */
  resetStream(streamId: number, code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    this.checkOpen();
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.abortStream(stream, code);
    this.flushDecoderStream();
  }

  /**
   * Sends GOAWAY (§5.2, §7.2.6). A server's id is the first request stream it will not
   * process, by default the one after the last it received, so that the requests under way
   * complete; requests at or above it that exist already are rejected (H3_REQUEST_REJECTED)
   * and later ones too. A client's id is a push id (by default 0: we accept no push). Several
   * GOAWAY frames may be sent, never with a larger id. Returns the events this caused.
   */
  goaway(id?: number): H3Event[] {
    this.checkOpen();
    let goawayId: number;
    if (this.role === 'server') {
      goawayId = id ?? this.highestPeerRequest + 4;
      if (!Number.isSafeInteger(goawayId) || goawayId < 0 || goawayId % 4 !== 0) {
        throw this.misuse(
          `GOAWAY id ${goawayId} is not a client-initiated bidirectional stream id (RFC 9114 §5.2)`,
        );
      }
    } else {
      goawayId = id ?? 0;
    }
    if (this.goawaySentId !== -1 && goawayId > this.goawaySentId) {
      throw this.misuse(`GOAWAY id ${goawayId} above the previous ${this.goawaySentId} (RFC 9114 §5.2)`);
    }
    this.goawaySentId = goawayId;
    this.write(this.controlStreamId, encodeGoawayFrame(goawayId), false);
    if (this.role === 'server') {
      for (const stream of [...this.streams.values()]) {
        if (stream.id >= goawayId) {
          this.events.push({ type: 'requestRejected', streamId: stream.id });
          this.abortStream(stream, H3ErrorCode.H3_REQUEST_REJECTED);
        }
      }
    }
    this.flushDecoderStream();
    return this.takeEvents();
  }

  /** Closes the connection with `code` (default H3_NO_ERROR). */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    if (this.closed) return;
    this.closedLocally = true;
    this.commands.push({ kind: 'close', code, reason });
  }

  // ---------------------------------------------------------------- plumbing

  private run(body: () => void): H3Event[] {
    if (this.closed) return [];
    try {
      body();
    } catch (err) {
      this.fail(err);
    }
    if (!this.closed) this.flushDecoderStream();
    return this.takeEvents();
  }

  private takeEvents(): H3Event[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** A connection error: close with its code (§8). Anything else escaping is a bug: H3_INTERNAL_ERROR. */
  private fail(err: unknown): void {
    let error: H3Error;
    if (err instanceof H3Error && err.scope === 'connection') error = err;
    else if (err instanceof QpackError) error = H3Error.connection(err.errorCode, err.message, err);
    else {
      error = H3Error.connection(H3ErrorCode.H3_INTERNAL_ERROR, `internal error: ${String(err)}`, err);
    }
    this.closedWith = error;
    this.commands.push({ kind: 'close', code: error.errorCode, reason: error.message });
    this.events.push({ type: 'connectionError', error });
  }

  private misuse(message: string): H3Error {
    return new H3Error('local', H3ErrorCode.H3_INTERNAL_ERROR, -1, message);
  }

  private checkOpen(): void {
    if (this.closed) throw this.misuse('the connection is closed');
  }

  private isLocal(streamId: number): boolean {
    return isClientInitiated(streamId) === (this.role === 'client');
  }

  private openUni(type: number): number {
    const id = this.nextUniId;
    this.nextUniId += 4;
    this.commands.push({ kind: 'openUni', streamId: id, type });
    this.write(id, encodeVarint(type), false);
    return id;
  }

  private write(streamId: number, bytes: Uint8Array, fin: boolean): void {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.commands.push({ kind: 'write', streamId, bytes: buf, fin });
  }

  private flushEncoderStream(): void {
    const bytes = this.qpackEncoder.takeEncoderStreamBytes();
    if (bytes.length > 0) this.write(this.encoderStreamId, bytes, false);
  }

  private flushDecoderStream(): void {
    const bytes = this.qpackDecoder.takeDecoderStreamBytes();
    if (bytes.length > 0) this.write(this.decoderStreamId, bytes, false);
  }

  private sendableStream(streamId: number): H3RequestStream {
    const stream = this.streams.get(streamId);
    if (stream === undefined || stream.sending >= H3MessageState.Done) {
      throw this.misuse(`stream ${streamId} is not open for sending`);
    }
    return stream;
  }

  /** Encodes a field section (RFC 9204) into a HEADERS frame; encoder-stream data goes first. */
  private writeHeaders(stream: H3RequestStream, fields: string[], fin: boolean): void {
    const limit = this.peerSettingsValue?.maxFieldSectionSize ?? Number.POSITIVE_INFINITY;
    const size = fieldSectionSize(fields);
    if (size > limit) {
      throw this.misuse(
        `field section of ${size} octets exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE ${limit} (RFC 9114 §4.2.2)`,
      );
    }
    const section = this.qpackEncoder.encodeFieldSection(stream.id, fields);
    this.flushEncoderStream();
    this.write(stream.id, encodeHeadersFrame(section), fin);
  }

  private writeData(stream: H3RequestStream, data: Uint8Array, fin: boolean): void {
    if (data.length > 0)
      this.write(stream.id, Buffer.concat([encodeDataFrameHeader(data.length), data]), fin);
    else this.write(stream.id, Buffer.alloc(0), fin);
    if (fin) stream.sending = H3MessageState.Done;
  }

  private newRequestStream(id: number): H3RequestStream {
    let stream: H3RequestStream | undefined;
    const sink: H3FrameSink = {
      onFrameStart: (type, length) => this.onRequestFrameStart(stream!, type, length),
      onFrame: (type, payload) => this.onRequestFrame(stream!, type, payload),
      onData: (chunk) => this.onRequestData(stream!, chunk),
    };
    stream = new H3RequestStream(id, new H3FrameReader(sink, this.limits));
    this.streams.set(id, stream);
    return stream;
  }

  /** Both directions done (or aborted): forget the stream. */
  private finishIfDone(stream: H3RequestStream): void {
    if (!stream.finished || this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (!this.isLocal(stream.id)) this.markPeerStreamClosed(stream.id);
  }

  private markPeerStreamClosed(id: number): void {
    this.peerClosedAbove.add(id);
    while (this.peerClosedAbove.delete(this.peerClosedBelow)) this.peerClosedBelow += 4;
  }

  /** Aborts both directions of a request stream with `code` (a stream error or cancellation). */
  private abortStream(stream: H3RequestStream, code: number): void {
    if (stream.receiving < H3MessageState.Done) {
      stream.receiving = H3MessageState.Aborted;
      stream.pending = [];
      this.commands.push({ kind: 'stopSending', streamId: stream.id, code });
      // RFC 9204 §4.4.2: Stream Cancellation for a stream whose sections we will not read.
      this.qpackDecoder.cancelStream(stream.id);
    }
    if (stream.sending < H3MessageState.Done) {
      stream.sending = H3MessageState.Aborted;
      this.commands.push({ kind: 'reset', streamId: stream.id, code });
    }
    this.finishIfDone(stream);
  }

  /** A stream error (§8): reset the stream, tell the application. */
  private streamError(stream: H3RequestStream, error: H3Error): void {
    this.events.push({ type: 'streamError', streamId: stream.id, error });
    this.abortStream(stream, error.errorCode);
  }

  /** Runs `body` for a stream; a stream error aborts that stream only. */
  private onStream(stream: H3RequestStream, body: () => void): void {
    try {
      body();
    } catch (err) {
      if (err instanceof H3Error && err.scope === 'stream') this.streamError(stream, err);
      else throw err;
    }
  }

  // ---------------------------------------------------------------- request streams

  /** The peer's request stream `id` (server), created when new; undefined when finished or refused. */
  private peerRequestStream(id: number): H3RequestStream | undefined {
    const existing = this.streams.get(id);
    if (existing !== undefined) return existing;
    if (id < this.peerClosedBelow || this.peerClosedAbove.has(id)) return undefined;
    if (this.role === 'client') {
      // RFC 9114 §6.1: HTTP/3 has no server-initiated bidirectional streams.
      throw H3Error.connection(
        H3ErrorCode.H3_STREAM_CREATION_ERROR,
        `server-initiated bidirectional stream ${id} (RFC 9114 §6.1)`,
      );
    }
    if (this.goawaySentId !== -1 && id >= this.goawaySentId) {
      // RFC 9114 §5.2: requests at or above our GOAWAY id are not processed.
      this.commands.push({ kind: 'stopSending', streamId: id, code: H3ErrorCode.H3_REQUEST_REJECTED });
      this.commands.push({ kind: 'reset', streamId: id, code: H3ErrorCode.H3_REQUEST_REJECTED });
      this.markPeerStreamClosed(id);
      return undefined;
    }
    if (id > this.highestPeerRequest) this.highestPeerRequest = id;
    return this.newRequestStream(id);
  }

  private feedRequest(stream: H3RequestStream, chunk: Buffer, fin: boolean): void {
    if (stream.receiving >= H3MessageState.Done) return;
    if (stream.blocked) {
      this.stash(stream, chunk, fin);
      return;
    }
    this.onStream(stream, () => {
      const used = stream.reader.push(chunk);
      if (stream.blocked) {
        this.stash(stream, chunk.subarray(used), fin);
        return;
      }
      if (fin && stream.receiving < H3MessageState.Done) this.onRequestEnd(stream);
    });
  }

  /** Keeps bytes that arrive behind a blocked HEADERS frame (RFC 9204 §2.2.1). */
  private stash(stream: H3RequestStream, chunk: Buffer, fin: boolean): void {
    if (chunk.length > 0) {
      stream.pendingBytes += chunk.length;
      if (stream.pendingBytes > this.maxBlockedStreamBytes) {
        throw H3Error.connection(
          H3ErrorCode.H3_EXCESSIVE_LOAD,
          `more than ${this.maxBlockedStreamBytes} octets behind a blocked field section on stream ${stream.id}`,
        );
      }
      stream.pending.push(Buffer.from(chunk));
    }
    if (fin) stream.pendingFin = true;
  }

  private onRequestFrameStart(stream: H3RequestStream, type: number, _length: number): void {
    switch (type) {
      case H3FrameType.DATA:
        // RFC 9114 §4.1: DATA only between the header section and the trailers.
        if (stream.receiving !== H3MessageState.Body) {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            `DATA frame ${stream.receiving === H3MessageState.Headers ? 'before HEADERS' : 'after trailers'} on stream ${stream.id} (RFC 9114 §4.1)`,
          );
        }
        return;
      case H3FrameType.HEADERS:
        if (stream.receiving === H3MessageState.Trailers) {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            `HEADERS frame after trailers on stream ${stream.id} (RFC 9114 §4.1)`,
          );
        }
        return;
      case H3FrameType.PUSH_PROMISE:
        if (this.role === 'server') {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            'PUSH_PROMISE received by a server (RFC 9114 §7.2.5)',
          );
        }
        // RFC 9114 §4.6, §7.2.5: we sent no MAX_PUSH_ID, so every push id is above the maximum.
        throw H3Error.connection(
          H3ErrorCode.H3_ID_ERROR,
          'PUSH_PROMISE without MAX_PUSH_ID (RFC 9114 §7.2.5)',
        );
      case H3FrameType.CANCEL_PUSH:
      case H3FrameType.SETTINGS:
      case H3FrameType.GOAWAY:
      case H3FrameType.MAX_PUSH_ID:
        throw H3Error.connection(
          H3ErrorCode.H3_FRAME_UNEXPECTED,
          `frame type 0x${type.toString(16)} on request stream ${stream.id}: control stream only (RFC 9114 §7.2)`,
        );
      default:
        if (isReservedH2FrameType(type)) {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            `HTTP/2 frame type 0x${type.toString(16)} (RFC 9114 §7.2.8)`,
          );
        }
    }
  }

  private onRequestFrame(stream: H3RequestStream, _type: number, payload: Buffer): void {
    // Only HEADERS gets here (onRequestFrameStart refuses the other gathered types).
    const section = this.qpackDecoder.decodeFieldSection(stream.id, payload);
    if (section === undefined) {
      // RFC 9204 §2.2.1: blocked; read nothing more on this stream until it is decoded.
      stream.blocked = true;
      stream.reader.pause();
      return;
    }
    this.onFieldSection(stream, section);
  }

  private onFieldSection(stream: H3RequestStream, section: QpackFieldSection): void {
    const id = stream.id;
    if (section.tooLarge) {
      throw H3Error.stream(
        id,
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        `field section of ${section.size} octets exceeds our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2)`,
      );
    }
    const fields = section.fields;
    const facts = emptyFieldFacts();
    if (stream.receiving === H3MessageState.Body) {
      const problem = checkTrailerFields(fields, facts);
      if (problem !== undefined)
        throw H3Error.stream(id, H3ErrorCode.H3_MESSAGE_ERROR, `malformed trailers: ${problem}`);
      stream.receiving = H3MessageState.Trailers;
      this.events.push({ type: 'headers', streamId: id, fields, trailers: true, informational: false });
      return;
    }
    if (this.role === 'server') {
      const problem = checkRequestFields(fields, facts, this.extendedConnect);
      if (problem !== undefined)
        throw H3Error.stream(id, H3ErrorCode.H3_MESSAGE_ERROR, `malformed request: ${problem}`);
      stream.method = facts.method;
      stream.contentLength = facts.contentLength;
    } else {
      const problem = checkResponseFields(fields, facts);
      if (problem !== undefined)
        throw H3Error.stream(id, H3ErrorCode.H3_MESSAGE_ERROR, `malformed response: ${problem}`);
      if (facts.status < 200) {
        this.events.push({ type: 'headers', streamId: id, fields, trailers: false, informational: true });
        return;
      }
      // RFC 9110 §8.6: a response to HEAD, or a 304, announces a length it does not carry.
      const bodyless = stream.method === 'HEAD' || facts.status === 304;
      stream.contentLength = bodyless ? -1 : facts.contentLength;
    }
    stream.receiving = H3MessageState.Body;
    this.events.push({ type: 'headers', streamId: id, fields, trailers: false, informational: false });
  }

  private onRequestData(stream: H3RequestStream, chunk: Buffer): void {
    stream.received += chunk.length;
    if (stream.contentLength !== -1 && stream.received > stream.contentLength) {
      throw H3Error.stream(
        stream.id,
        H3ErrorCode.H3_MESSAGE_ERROR,
        `DATA beyond the content-length of ${stream.contentLength} (RFC 9114 §4.1.2)`,
      );
    }
    if (chunk.length > 0) this.events.push({ type: 'data', streamId: stream.id, data: chunk });
  }

  /** The peer ended the stream (FIN) outside a blocked section. */
  private onRequestEnd(stream: H3RequestStream): void {
    const id = stream.id;
    // The peer is done sending: a stream error now resets our side only (no STOP_SENDING).
    const state = stream.receiving;
    stream.receiving = H3MessageState.Done;
    if (!stream.reader.atFrameBoundary) {
      throw H3Error.connection(
        H3ErrorCode.H3_FRAME_ERROR,
        `stream ${id} ends inside a frame (RFC 9114 §7.1)`,
      );
    }
    if (state === H3MessageState.Headers) {
      // RFC 9114 §4.1: the message is incomplete.
      throw H3Error.stream(
        id,
        this.role === 'server' ? H3ErrorCode.H3_REQUEST_INCOMPLETE : H3ErrorCode.H3_MESSAGE_ERROR,
        `stream ${id} ended before a complete header section (RFC 9114 §4.1)`,
      );
    }
    if (stream.contentLength !== -1 && stream.received !== stream.contentLength) {
      throw H3Error.stream(
        id,
        H3ErrorCode.H3_MESSAGE_ERROR,
        `${stream.received} octets of DATA for a content-length of ${stream.contentLength} (RFC 9114 §4.1.2)`,
      );
    }
    this.events.push({ type: 'end', streamId: id });
    this.finishIfDone(stream);
  }

  /** Field sections the encoder stream unblocked: deliver each, then what waited behind it. */
  private onUnblocked(sections: QpackFieldSection[]): void {
    for (const section of sections) {
      const stream = this.streams.get(section.streamId);
      if (stream === undefined || !stream.blocked) continue;
      stream.blocked = false;
      stream.reader.resume();
      const rest = stream.pending.length === 1 ? stream.pending[0]! : Buffer.concat(stream.pending);
      const fin = stream.pendingFin;
      stream.pending = [];
      stream.pendingBytes = 0;
      stream.pendingFin = false;
      this.onStream(stream, () => this.onFieldSection(stream, section));
      this.feedRequest(stream, rest, fin);
    }
  }

  // ---------------------------------------------------------------- unidirectional streams

  private peerUniStream(id: number): PeerUniStream | undefined {
    let s = this.peerUni.get(id);
    if (s === undefined) {
      s = { id, type: -1, typeBytes: Buffer.alloc(8), typeFill: 0, reader: undefined, discard: false };
      this.peerUni.set(id, s);
    }
    return s;
  }

  private feedUni(s: PeerUniStream, chunk: Buffer, fin: boolean): void {
    let offset = 0;
    if (s.type === -1) {
      // RFC 9114 §6.2: the stream type, a varint, opens the stream.
      while (offset < chunk.length) {
        s.typeBytes[s.typeFill++] = chunk[offset++]!;
        if (s.typeFill === varintLengthOf(s.typeBytes[0]!)) break;
      }
      if (s.typeFill === 0 || s.typeFill < varintLengthOf(s.typeBytes[0]!)) {
        // RFC 9114 §6.2: a stream closed before its type is tolerated.
        if (fin) this.peerUni.delete(s.id);
        return;
      }
      let type: number;
      try {
        type = readVarint(s.typeBytes, 0);
      } catch {
        type = Number.MAX_SAFE_INTEGER;
      }
      this.bindUniStream(s, type);
    }
    const rest = offset === 0 ? chunk : chunk.subarray(offset);
    if (s.discard) {
      if (fin) this.peerUni.delete(s.id);
      return;
    }
    switch (s.type) {
      case H3StreamType.CONTROL:
        s.reader!.push(rest);
        break;
      case H3StreamType.QPACK_ENCODER:
        if (rest.length > 0) this.onUnblocked(this.qpackDecoder.receiveEncoderStream(rest));
        break;
      case H3StreamType.QPACK_DECODER:
        if (rest.length > 0) this.qpackEncoder.receiveDecoderStream(rest);
        break;
    }
    if (fin) this.checkNotCritical(s, 'closed');
  }

  private bindUniStream(s: PeerUniStream, type: number): void {
    s.type = type;
    const duplicate = (what: string, section: string): H3Error =>
      H3Error.connection(
        H3ErrorCode.H3_STREAM_CREATION_ERROR,
        `second ${what} stream from the peer (${section})`,
      );
    switch (type) {
      case H3StreamType.CONTROL:
        if (this.peerControl !== undefined) throw duplicate('control', 'RFC 9114 §6.2.1');
        this.peerControl = s;
        s.reader = new H3FrameReader(this.controlSink, this.limits);
        return;
      case H3StreamType.PUSH:
        if (this.role === 'server') {
          throw H3Error.connection(
            H3ErrorCode.H3_STREAM_CREATION_ERROR,
            'push stream from a client (RFC 9114 §6.2.2)',
          );
        }
        // RFC 9114 §4.6: we sent no MAX_PUSH_ID, so no push id is valid.
        throw H3Error.connection(H3ErrorCode.H3_ID_ERROR, 'push stream without MAX_PUSH_ID (RFC 9114 §4.6)');
      case H3StreamType.QPACK_ENCODER:
        if (this.peerEncoderStream !== -1) throw duplicate('QPACK encoder', 'RFC 9204 §4.2');
        this.peerEncoderStream = s.id;
        return;
      case H3StreamType.QPACK_DECODER:
        if (this.peerDecoderStream !== -1) throw duplicate('QPACK decoder', 'RFC 9204 §4.2');
        this.peerDecoderStream = s.id;
        return;
      default:
        // RFC 9114 §6.2, §9: unknown (and greasing) types are not read.
        s.discard = true;
        this.commands.push({
          kind: 'stopSending',
          streamId: s.id,
          code: H3ErrorCode.H3_STREAM_CREATION_ERROR,
        });
    }
  }

  /** RFC 9114 §6.2.1, RFC 9204 §4.2: closing a critical stream fails the connection. */
  private checkNotCritical(s: PeerUniStream, how: string): void {
    if (
      s.type === H3StreamType.CONTROL ||
      s.type === H3StreamType.QPACK_ENCODER ||
      s.type === H3StreamType.QPACK_DECODER
    ) {
      if (!s.discard) {
        throw H3Error.connection(
          H3ErrorCode.H3_CLOSED_CRITICAL_STREAM,
          `the peer ${how} its critical stream ${s.id} of type ${s.type} (RFC 9114 §6.2.1, RFC 9204 §4.2)`,
        );
      }
    }
  }

  // ---------------------------------------------------------------- control stream

  private readonly controlSink: H3FrameSink = {
    onFrameStart: (type) => this.onControlFrameStart(type),
    onFrame: (type, payload) => this.onControlFrame(type, payload),
    onData: () => {},
  };

  private onControlFrameStart(type: number): void {
    if (this.peerSettingsValue === undefined && type !== H3FrameType.SETTINGS) {
      throw H3Error.connection(
        H3ErrorCode.H3_MISSING_SETTINGS,
        `first frame on the control stream is of type 0x${type.toString(16)}, not SETTINGS (RFC 9114 §6.2.1)`,
      );
    }
    switch (type) {
      case H3FrameType.DATA:
      case H3FrameType.HEADERS:
      case H3FrameType.PUSH_PROMISE:
        throw H3Error.connection(
          H3ErrorCode.H3_FRAME_UNEXPECTED,
          `frame type 0x${type.toString(16)} on the control stream (RFC 9114 §7.2)`,
        );
      case H3FrameType.SETTINGS:
        if (this.peerSettingsValue !== undefined) {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            'second SETTINGS frame (RFC 9114 §7.2.4)',
          );
        }
        return;
      case H3FrameType.MAX_PUSH_ID:
        if (this.role === 'client') {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            'MAX_PUSH_ID received by a client (RFC 9114 §7.2.7)',
          );
        }
        return;
      default:
        if (isReservedH2FrameType(type)) {
          throw H3Error.connection(
            H3ErrorCode.H3_FRAME_UNEXPECTED,
            `HTTP/2 frame type 0x${type.toString(16)} (RFC 9114 §7.2.8)`,
          );
        }
    }
  }

  private onControlFrame(type: number, payload: Buffer): void {
    switch (type) {
      case H3FrameType.SETTINGS: {
        const settings = decodeSettingsPayload(payload);
        this.peerSettingsValue = settings;
        // RFC 9204 §5: the peer's limits bound our encoder's dynamic table.
        this.qpackEncoder.setPeerSettings(settings.qpackMaxTableCapacity, settings.qpackBlockedStreams);
        this.flushEncoderStream();
        this.events.push({ type: 'settings', settings });
        return;
      }
      case H3FrameType.GOAWAY:
        this.onGoaway(decodeIdFrame(payload, 'GOAWAY'));
        return;
      case H3FrameType.MAX_PUSH_ID: {
        const id = decodeIdFrame(payload, 'MAX_PUSH_ID');
        if (id < this.peerMaxPushId) {
          throw H3Error.connection(
            H3ErrorCode.H3_ID_ERROR,
            `MAX_PUSH_ID went down to ${id} (RFC 9114 §7.2.7)`,
          );
        }
        this.peerMaxPushId = id;
        return;
      }
      case H3FrameType.CANCEL_PUSH: {
        const id = decodeIdFrame(payload, 'CANCEL_PUSH');
        // RFC 9114 §7.2.3: we neither push (server) nor allow pushes (client), so no push id is known.
        throw H3Error.connection(
          H3ErrorCode.H3_ID_ERROR,
          `CANCEL_PUSH for unknown push id ${id} (RFC 9114 §7.2.3)`,
        );
      }
    }
  }

  /** RFC 9114 §5.2, §7.2.6. */
  private onGoaway(id: number): void {
    if (this.role === 'client' && id % 4 !== 0) {
      throw H3Error.connection(
        H3ErrorCode.H3_ID_ERROR,
        `GOAWAY id ${id} is not a client-initiated bidirectional stream (RFC 9114 §7.2.6)`,
      );
    }
    if (this.goawayReceivedId !== -1 && id > this.goawayReceivedId) {
      throw H3Error.connection(
        H3ErrorCode.H3_ID_ERROR,
        `GOAWAY id ${id} above the previous ${this.goawayReceivedId} (RFC 9114 §5.2)`,
      );
    }
    this.goawayReceivedId = id;
    this.events.push({ type: 'goaway', id });
    if (this.role === 'client') {
      // RFC 9114 §5.2: requests at or above the id were not and will not be processed.
      for (const stream of [...this.streams.values()]) {
        if (stream.id >= id) {
          this.events.push({ type: 'requestRejected', streamId: stream.id });
          this.abortStream(stream, H3ErrorCode.H3_REQUEST_CANCELLED);
        }
      }
    }
  }
}
