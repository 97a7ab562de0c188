/**
 * The HTTP/3 server driver (RFC 9114): one per QUIC connection of a {@link QuicServerEndpoint}.
 * Once the QUIC handshake completes it runs a sans-I/O {@link H3Connection} in the server role
 * on the connection's streams, turns each request stream into a protocol-neutral `Request`
 * (protocol 'h3'), runs it through the app, and writes the result as HEADERS + DATA (+ trailing
 * HEADERS) frames (§4.1). Request bodies stream into `req.receivedBody` up to the app's
 * `bodyLimit` (more: STOP_SENDING H3_REQUEST_CANCELLED, and the body fails). Shutdown sends
 * GOAWAY (§5.2), lets the requests in flight finish, then closes with H3_NO_ERROR.
 *
 * Backpressure: request body bytes are credited back to the client (MAX_STREAM_DATA / MAX_DATA,
 * RFC 9000 §4.2) only while the body's reader keeps up; while the body pauses its source they
 * are held, so a slow reader stops the client at the stream window (the listener creates the
 * QUIC connections with `manualCredit`). The QUIC core exposes no per-stream send buffer level
 * yet, so a streamed response yields to the event loop between chunks but is not held back by
 * the peer's flow control.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { AvxError } from '../core/errors.js';
import { CONNECTION_SPECIFIC_FIELDS } from '../core/field-value-rules.js';
import { Headers } from '../core/headers.js';
import { type BodySource, IncomingBody } from '../core/incoming-body.js';
import { H3Connection, type H3Event } from '../h3/h3-connection.js';
import { H3ErrorCode } from '../h3/h3-error.js';
import type { QuicConnection, QuicConnectionEvent } from '../quic/quic-connection.js';
import type {
  QuicEndpointConnection,
  QuicEndpointConnectionHandler,
} from '../runtime/quic-server-endpoint.js';
import type { TimerHandle, TimerWheel } from '../runtime/timer-wheel.js';
import type { App } from './app.js';
import { bufferView, trailerFieldList } from './multiplexed-body-parts.js';
import { finalResponseStatus, multiplexedResponseHead } from './multiplexed-response-head.js';
import { Request } from './request.js';
import { closeStreamBody, type HandlerResult, handlerFailedResponse } from './response.js';
import {
  connectionCloseChannel,
  connectionOpenChannel,
  requestStartChannel,
  responseFinishChannel,
  streamCloseChannel,
  streamOpenChannel,
} from './server-diagnostics.js';

/** The peer reset the stream or the connection went away before the response was complete. */
export class H3StreamGoneError extends AvxError {
  /** RFC 9114 §8.1 error code of the reset, when there was one. */
  readonly errorCode: number;

  constructor(errorCode: number) {
    super(
      'AVX_H3_STREAM_GONE',
      `the HTTP/3 stream was closed before the response completed (error 0x${errorCode.toString(16)})`,
    );
    this.errorCode = errorCode;
  }
}

/** RFC 9114 §4.2: connection-specific fields are malformed in HTTP/3; TE means nothing in a response. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC_FIELDS, 'te']);
/**
 * After the last response of a shutting-down connection, time left for its frames to be
 * acknowledged before CONNECTION_CLOSE (which discards unsent stream data), in smoothed RTTs,
 * and at least this many ms.
 */
const CLOSE_GRACE_RTTS = 4;
const CLOSE_GRACE_MIN_MS = 250;

type EndpointConnection = QuicEndpointConnection<QuicConnection, QuicConnectionEvent>;

/** One request stream and its response. */
class H3Exchange implements BodySource {
  readonly streamId: number;
  readonly conn: H3ServerConnection;
  req!: Request;
  isHead = false;
  /** The reader gave up or the body was refused: further body bytes are dropped. */
  discard = false;
  /** The stream was reset or the connection went away. */
  closed = false;
  closeCode = 0;
  /** The response is complete (or failed). */
  finished = false;
  status = 0;
  bytes = 0;
  /** The body's reader is behind: stream bytes received are held instead of credited. */
  paused = false;
  /** Stream bytes received while paused, credited on resume (RFC 9000 §4.2). */
  held = 0;

  constructor(streamId: number, conn: H3ServerConnection) {
    this.streamId = streamId;
    this.conn = conn;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.held > 0) {
      const n = this.held;
      this.held = 0;
      this.conn.credit(this, n);
    }
  }

  abandon(): void {
    this.discard = true;
    this.conn.release(this);
  }
}

/** The HTTP/3 side of one QUIC server connection. */
export class H3ServerConnection implements QuicEndpointConnectionHandler<QuicConnectionEvent> {
  /** Called once when the connection has closed. */
  onClose: ((conn: H3ServerConnection) => void) | undefined;
  readonly secure = true;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The HTTP/3 core, once the QUIC handshake completed (exposed for diagnostics and tests). */
  h3: H3Connection | undefined;

  private readonly conn: EndpointConnection;
  private readonly app: App;
  /** Handed to `avx:server:connection:*` subscribers as `socket`: the UDP socket. */
  private readonly socketForDiagnostics: unknown;
  /** QUIC streams the H3 core has been told about. */
  private readonly knownStreams = new Set<number>();
  private readonly exchanges = new Map<number, H3Exchange>();
  /** Exchanges whose request body is still arriving, by stream: their credit follows the reader. */
  private readonly receiving = new Map<number, H3Exchange>();
  private closing = false;
  private closed = false;
  private closeTimer: TimerHandle | undefined;
  private readonly wheel: TimerWheel;

  constructor(conn: EndpointConnection, app: App, wheel: TimerWheel, socketForDiagnostics: unknown) {
    this.conn = conn;
    this.app = app;
    this.wheel = wheel;
    this.remoteAddress = conn.remoteAddress;
    this.remotePort = conn.remotePort;
    this.socketForDiagnostics = socketForDiagnostics;
  }

  /** Requests whose response is not complete yet. */
  get activeRequests(): number {
    return this.exchanges.size;
  }

  // ---------------------------------------------------------------------------------------------
  // QUIC events

  onEvents(events: QuicConnectionEvent[]): void {
    for (const e of events) {
      if (e.type === 'handshake_complete') {
        this.start();
        continue;
      }
      if (e.type === 'connection_closed') {
        this.lost();
        continue;
      }
      const h3 = this.h3;
      if (h3 === undefined || h3.closed) continue;
      let out: H3Event[] | undefined;
      if ((e.type === 'stream_data' || e.type === 'stream_end') && !this.knownStreams.has(e.streamId)) {
        this.knownStreams.add(e.streamId);
        out = h3.streamOpened(e.streamId);
      }
      let more: H3Event[];
      if (e.type === 'stream_data') more = h3.streamData(e.streamId, e.data, false);
      else if (e.type === 'stream_end') more = h3.streamData(e.streamId, new Uint8Array(0), true);
      else if (e.type === 'stream_reset') more = h3.streamReset(e.streamId, Number(e.errorCode));
      else more = h3.stopSending(e.streamId, Number(e.errorCode));
      out = out === undefined || out.length === 0 ? more : out.concat(more);
      this.handle(out);
      if (e.type === 'stream_data') {
        // Bytes of a body whose reader is behind are credited when it catches up (resume).
        const ex = this.receiving.get(e.streamId);
        if (ex?.paused) ex.held += e.data.length;
        else this.conn.quic.consumeStream(e.streamId, e.data.length);
      }
    }
    this.runCommands();
  }

  /** @internal Credits `n` stream bytes back to the peer (a paused body resumed, RFC 9000 §4.2). */
  credit(ex: H3Exchange, n: number): void {
    if (this.closed) return;
    this.conn.quic.consumeStream(ex.streamId, n);
    this.conn.scheduleFlush();
  }

  /**
   * @internal Nothing more is read from the exchange's request stream (body ended, refused,
   * abandoned, or the stream is gone): the credit of what it holds goes back.
   */
  release(ex: H3Exchange): void {
    if (this.receiving.get(ex.streamId) === ex) this.receiving.delete(ex.streamId);
    ex.paused = false;
    ex.held = 0;
    if (this.closed) return;
    this.conn.quic.consumeStream(ex.streamId, Number.POSITIVE_INFINITY);
    this.conn.scheduleFlush();
  }

  onClosed(): void {
    this.lost();
    if (this.closed) return;
    this.closed = true;
    if (this.closeTimer !== undefined) this.wheel.cancel(this.closeTimer);
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({ socket: this.socketForDiagnostics, protocol: 'h3' });
    }
    this.onClose?.(this);
  }

  /** Graceful shutdown: GOAWAY (§5.2), finish the requests in flight, then close. */
  shutdown(): void {
    if (this.closing) return;
    this.closing = true;
    const h3 = this.h3;
    if (h3 === undefined || h3.closed) {
      // Still in the handshake: nothing was requested yet.
      this.conn.quic.close(BigInt(H3ErrorCode.H3_NO_ERROR), 'server shutting down');
      this.conn.scheduleFlush();
      return;
    }
    this.handle(h3.goaway());
    this.runCommands();
    this.closeIfDone();
  }

  private start(): void {
    if (this.h3 !== undefined) return;
    this.h3 = new H3Connection({ role: 'server' });
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({ socket: this.socketForDiagnostics, protocol: 'h3', secure: true });
    }
    this.runCommands();
    if (this.closing) {
      this.closing = false;
      this.shutdown();
    }
  }

  /** The connection is gone: every exchange in flight is aborted. */
  private lost(): void {
    for (const ex of this.exchanges.values()) this.endExchange(ex, H3ErrorCode.H3_NO_ERROR);
  }

  /** Carries out the H3 core's commands on the QUIC connection, then sends. */
  private runCommands(): void {
    const h3 = this.h3;
    if (h3 === undefined) return;
    const quic = this.conn.quic;
    for (const cmd of h3.takeCommands()) {
      try {
        if (cmd.kind === 'openUni') quic.openStream(false);
        else if (cmd.kind === 'write') quic.writeStream(cmd.streamId, cmd.bytes, cmd.fin);
        else if (cmd.kind === 'reset') quic.resetStream(cmd.streamId, BigInt(cmd.code));
        else if (cmd.kind === 'stopSending') quic.stopSending(cmd.streamId, BigInt(cmd.code));
        else quic.close(BigInt(cmd.code), cmd.reason);
      } catch {
        // The stream is already finished or reset on the QUIC side: nothing left to do on it.
      }
    }
    this.conn.scheduleFlush();
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP/3 events

  private handle(events: H3Event[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'headers': {
          const ex = this.exchanges.get(e.streamId);
          if (e.trailers) {
            if (ex !== undefined && !ex.discard && !ex.req.receivedBody.settled)
              ex.req.receivedBody.end(e.fields);
          } else if (ex === undefined) {
            const next = events[i + 1];
            const ended = next !== undefined && next.type === 'end' && next.streamId === e.streamId;
            if (ended) i++;
            this.request(e.streamId, e.fields, ended);
          }
          break;
        }
        case 'data': {
          const ex = this.exchanges.get(e.streamId);
          if (ex === undefined || ex.discard) break;
          const body = ex.req.receivedBody;
          // The view may point into a buffer the QUIC core reuses: copy it.
          if (body.settled || !body.push(Buffer.from(e.data))) this.refuseBody(ex);
          break;
        }
        case 'end': {
          const ex = this.exchanges.get(e.streamId);
          if (ex !== undefined && !ex.discard && !ex.req.receivedBody.settled) ex.req.receivedBody.end();
          const receiving = this.receiving.get(e.streamId);
          if (receiving !== undefined) this.release(receiving);
          break;
        }
        case 'streamReset':
        case 'stopSending':
        case 'requestRejected': {
          const ex = this.exchanges.get(e.streamId);
          const code = e.type === 'requestRejected' ? H3ErrorCode.H3_REQUEST_REJECTED : e.code;
          if (ex !== undefined) this.endExchange(ex, code);
          break;
        }
        case 'streamError': {
          const ex = this.exchanges.get(e.streamId);
          if (ex !== undefined) this.endExchange(ex, e.error.errorCode);
          break;
        }
        case 'goaway':
          this.closing = true;
          break;
        case 'connectionError':
          this.lost();
          break;
        default:
          break;
      }
    }
  }

  /** The body exceeded the limit or nobody wants it: stop the peer sending it (§4.1.1). */
  private refuseBody(ex: H3Exchange): void {
    ex.discard = true;
    this.release(ex);
    try {
      this.conn.quic.stopSending(ex.streamId, BigInt(H3ErrorCode.H3_REQUEST_CANCELLED));
    } catch {
      // Already finished receiving.
    }
    this.conn.scheduleFlush();
  }

  private request(streamId: number, fields: string[], ended: boolean): void {
    if (streamOpenChannel.hasSubscribers) streamOpenChannel.publish({ protocol: 'h3', streamId });
    const ex = new H3Exchange(streamId, this);
    this.exchanges.set(streamId, ex);
    if (!ended) this.receiving.set(streamId, ex);
    let method = '';
    let path = '';
    let authority: string | undefined;
    let cookie: string | undefined;
    let length: number | undefined;
    const regular: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (name.charCodeAt(0) === 0x3a) {
        if (name === ':method') method = value;
        else if (name === ':path') path = value;
        else if (name === ':authority') authority = value;
      } else if (name === 'cookie') {
        // RFC 9114 §4.2.1: cookie crumbs are joined with "; ".
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      } else {
        if (name === 'content-length') length = Number(value);
        regular.push(name, value);
      }
    }
    if (cookie !== undefined) regular.push('cookie', cookie);
    if (method === 'CONNECT' && path === '') path = authority ?? '';
    const body = ended
      ? IncomingBody.empty()
      : new IncomingBody({
          limit: this.app.bodyLimit,
          source: ex,
          expectedLength: length !== undefined && Number.isSafeInteger(length) ? length : undefined,
        });
    const req = new Request({
      method,
      target: path,
      headers: Headers.fromFlat(regular, { trusted: true }),
      body,
      protocol: 'h3',
      connection: this,
      authority,
    });
    ex.req = req;
    ex.isHead = method === 'HEAD';
    if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ request: req });
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.app.dispatch(req);
    } catch (err) {
      result = handlerFailedResponse(err);
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.respond(ex, value),
        (err) => this.respond(ex, handlerFailedResponse(err)),
      );
    } else {
      this.respond(ex, result);
    }
  }

  private endExchange(ex: H3Exchange, code: number): void {
    if (ex.closed) return;
    ex.closed = true;
    ex.closeCode = code;
    ex.req.markAborted(new H3StreamGoneError(code));
    this.release(ex);
    if (streamCloseChannel.hasSubscribers) {
      streamCloseChannel.publish({ protocol: 'h3', streamId: ex.streamId, errorCode: code });
    }
    if (ex.finished) return;
    // The response will not complete: the pump notices `closed`; a pending handler's result is dropped.
  }

  // ---------------------------------------------------------------------------------------------
  // Responses

  private respond(ex: H3Exchange, result: HandlerResult): void {
    try {
      this.writeResponse(ex, result);
    } catch (err) {
      // The core refused the fields (malformed for HTTP/3) or the connection is gone.
      this.resetExchange(ex);
      this.finish(ex, err);
    }
  }

  private resetExchange(ex: H3Exchange): void {
    const h3 = this.h3;
    if (h3 !== undefined && !h3.closed && !ex.closed) {
      try {
        h3.resetStream(ex.streamId, H3ErrorCode.H3_INTERNAL_ERROR);
      } catch {
        // Already finished.
      }
    }
    this.runCommands();
  }

  private writeResponse(ex: H3Exchange, result: HandlerResult): void {
    const h3 = this.h3;
    if (ex.closed || h3 === undefined || h3.closed) {
      closeStreamBody(result);
      this.finish(ex, new H3StreamGoneError(ex.closeCode));
      return;
    }
    const streamId = ex.streamId;
    const status = finalResponseStatus(result);
    ex.status = status;
    const head = multiplexedResponseHead(result, status, CONNECTION_SPECIFIC, undefined);
    const res = head.response;
    const fields = head.fields;
    const body = head.body;
    // RFC 9110 §6.4.1: 204 and 304 never have content; HEAD responses send none.
    const noContent = status === 204 || status === 304;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : bufferView(body);
      if (!noContent) fields.push('content-length', String(bytes.length));
      if (ex.isHead || noContent || bytes.length === 0) {
        h3.sendHeaders(streamId, fields, true);
      } else {
        ex.bytes = bytes.length;
        h3.sendResponse(streamId, fields, bytes);
      }
      this.runCommands();
      this.finish(ex);
      return;
    }
    const trailers = res?.trailers !== undefined && res.trailers.size > 0 ? res.trailers : undefined;
    if (body === null || body === undefined || noContent || ex.isHead) {
      if (!noContent && !ex.isHead && trailers === undefined) fields.push('content-length', '0');
      if (trailers !== undefined && !noContent && !ex.isHead) {
        h3.sendHeaders(streamId, fields, false);
        h3.sendTrailers(streamId, trailerFieldList(trailers, CONNECTION_SPECIFIC));
      } else {
        h3.sendHeaders(streamId, fields, true);
      }
      closeStreamBody(body);
      this.runCommands();
      this.finish(ex);
      return;
    }
    const length = res?.hasHeaders ? res.headers.get('content-length') : undefined;
    if (length !== undefined && /^\d+$/.test(length)) fields.push('content-length', length);
    h3.sendHeaders(streamId, fields, false);
    this.runCommands();
    this.pump(ex, h3, body as AsyncIterable<Uint8Array | string>, trailers).then(
      () => this.finish(ex),
      (err: unknown) => {
        this.resetExchange(ex);
        this.finish(ex, err);
      },
    );
  }

  private async pump(
    ex: H3Exchange,
    h3: H3Connection,
    body: AsyncIterable<Uint8Array | string>,
    trailers: Headers | undefined,
  ): Promise<void> {
    const iterator = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (ex.closed || h3.closed) throw new H3StreamGoneError(ex.closeCode);
        const step = await iterator.next();
        if (step.done) break;
        if (ex.closed || h3.closed) throw new H3StreamGoneError(ex.closeCode);
        const value = step.value;
        const chunk = typeof value === 'string' ? Buffer.from(value) : bufferView(value);
        if (chunk.length === 0) continue;
        ex.bytes += chunk.length;
        h3.sendData(ex.streamId, chunk, false);
        this.runCommands();
        // Let the datagrams go out (and acknowledgements come in) before the next chunk.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (ex.closed || h3.closed) throw new H3StreamGoneError(ex.closeCode);
      if (trailers !== undefined)
        h3.sendTrailers(ex.streamId, trailerFieldList(trailers, CONNECTION_SPECIFIC));
      else h3.endStream(ex.streamId);
      this.runCommands();
    } catch (err) {
      await iterator.return?.();
      throw err;
    }
  }

  private finish(ex: H3Exchange, error?: unknown): void {
    if (ex.finished) return;
    ex.finished = true;
    this.exchanges.delete(ex.streamId);
    if (!ex.closed && streamCloseChannel.hasSubscribers) {
      streamCloseChannel.publish({ protocol: 'h3', streamId: ex.streamId, errorCode: 0 });
    }
    if (responseFinishChannel.hasSubscribers) {
      responseFinishChannel.publish({ request: ex.req, status: ex.status, bytes: ex.bytes, error });
    }
    if (this.app.observesFinish) this.app.responseFinished(ex.req, ex.status, ex.bytes, performance.now());
    // The response is out: a request body nobody read is no longer wanted.
    const body = ex.req.receivedBody;
    if (!body.settled && !body.used && !ex.discard && !ex.closed) this.refuseBody(ex);
    this.closeIfDone();
  }

  /** Once shutting down and idle: CONNECTION_CLOSE with H3_NO_ERROR after a grace period. */
  private closeIfDone(): void {
    if (!this.closing || this.exchanges.size > 0 || this.closed || this.closeTimer !== undefined) return;
    const grace = Math.max(CLOSE_GRACE_MIN_MS, CLOSE_GRACE_RTTS * this.conn.quic.rtt);
    this.closeTimer = this.wheel.schedule(grace, closeNow, this);
  }

  /** @internal Closes with H3_NO_ERROR (the end of a graceful shutdown). */
  closeNow(): void {
    if (this.closed) return;
    const h3 = this.h3;
    if (h3 !== undefined && !h3.closed) h3.close(H3ErrorCode.H3_NO_ERROR, 'server shutting down');
    this.runCommands();
  }
}

function closeNow(conn: H3ServerConnection): void {
  conn.closeNow();
}
