/**
 * The HTTP/2 server driver: owns one socket and one sans-I/O `H2Connection`, turns each
 * request stream into a protocol-neutral `Request` (protocol 'h2'), runs it through the app,
 * and writes the result as HEADERS + DATA (+ trailers) within HTTP/2 flow control
 * (RFC 9113 §5.2, §8.1). Request bodies are fed from DATA frames; when a body's reader falls
 * behind, the driver stops crediting the peer (no WINDOW_UPDATE), so a slow reader holds at
 * most one stream window. Responses stream with backpressure from both the peer's windows and
 * the socket. Shutdown sends GOAWAY (§6.8) and closes once the streams in flight are done.
 * Extended CONNECT requests (RFC 8441) for a protocol the app serves, such as WebSocket, become
 * tunnels instead of requests (see h2-extended-connect.ts).
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AvxError } from '../core/errors.js';
import { Headers } from '../core/headers.js';
import { type BodySource, IncomingBody } from '../core/incoming-body.js';
import { H2Connection, type H2ConnectionHandler } from '../h2/h2-connection.js';
import type { H2ConnectionOptions } from '../h2/h2-connection-options.js';
import { H2Error } from '../h2/h2-error.js';
import { H2ErrorCode } from '../h2/h2-error-codes.js';
import { CONNECTION_SPECIFIC } from '../h2/h2-field-validation.js';
import type { H2Stream } from '../h2/h2-stream.js';
import { SocketFlushTracker } from '../runtime/socket-flush-tracker.js';
import type { TimerHandle } from '../runtime/timer-wheel.js';
import type { WsH2StreamTransport } from '../ws/ws-h2-stream-transport.js';
import type { App } from './app.js';
import { H2ExtendedConnect } from './h2-extended-connect.js';
import { H2ServerPush, type PushedExchange, pushRequestHead } from './h2-server-push.js';
import { bufferView, trailerFieldList } from './multiplexed-body-parts.js';
import { finalResponseStatus, multiplexedResponseHead } from './multiplexed-response-head.js';
import { Request } from './request.js';
import { closeStreamBody, type HandlerResult, handlerFailedResponse, type Response } from './response.js';
import type { ServerConfig } from './server-config.js';
import {
  connectionCloseChannel,
  connectionOpenChannel,
  requestStartChannel,
  responseFinishChannel,
  streamCloseChannel,
  streamOpenChannel,
} from './server-diagnostics.js';
import { type PushOptions, PushRequestError, type ServerPush, type ServerPushSource } from './server-push.js';

/** The peer reset the stream or the connection went away before the response was complete. */
export class H2StreamGoneError extends AvxError {
  /** RFC 9113 §7 error code of the reset, when there was one. */
  readonly errorCode: number;

  constructor(errorCode: number) {
    super(
      'AVX_H2_STREAM_GONE',
      `the HTTP/2 stream was closed before the response completed (error ${errorCode})`,
    );
    this.errorCode = errorCode;
  }
}

/** Interval of the housekeeping timer (SETTINGS deadline, stalls, idle), ms. */
const TICK_MS = 1000;

/** One request stream and its response (or a pushed stream and its response, RFC 9113 §8.4). */
class H2Exchange implements BodySource, ServerPushSource, PushedExchange {
  readonly conn: H2ServerConnection;
  readonly stream: H2Stream;
  req!: Request;
  isHead = false;
  /** Octets delivered while the body was paused, credited on resume. */
  held = 0;
  paused = false;
  /** The reader gave up: further body bytes are credited and dropped. */
  discard = false;
  /** Resolves a response pump waiting for flow-control window. */
  wake: (() => void) | undefined;
  closed = false;
  closeCode = 0;
  status = 0;
  bytes = 0;
  /** Pushes promised on this request's stream (cancelled if unanswered when it finishes). */
  pushes: H2ServerPush[] | undefined;

  constructor(conn: H2ServerConnection, stream: H2Stream) {
    this.conn = conn;
    this.stream = stream;
  }

  push(path: string, options: PushOptions | undefined): ServerPush | null {
    return this.conn.push(this, path, options);
  }

  answer(result: HandlerResult | Promise<HandlerResult>): void {
    this.conn.answer(this, result);
  }

  cancel(): void {
    this.conn.cancelPush(this);
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
    this.resume();
  }

  notify(): void {
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
  }
}

/** An HTTP/2 connection on the server side. */
export class H2ServerConnection implements H2ConnectionHandler {
  /** Called once when the connection has closed. */
  onClose: ((conn: H2ServerConnection) => void) | undefined;
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The protocol core (exposed for diagnostics and tests). */
  readonly core: H2Connection;

  private readonly socket: Socket;
  private readonly app: App;
  private readonly config: ServerConfig;
  /** Extended CONNECT tunnels (RFC 8441): WebSockets over HTTP/2. */
  private readonly tunnels: H2ExtendedConnect;
  private closed = false;
  private closing = false;
  private readingPaused = false;
  /** True while `core.receive` runs: writes wait for the end of the read (see flushOut). */
  private receiving = false;
  private timer: TimerHandle | undefined;
  private idleSince: number;
  private readonly onDrainBound: () => void;
  private drainWaiters: (() => void)[] = [];
  /** What the socket handed to the OS, for WebSocket tunnels' writes (see {@link outputFlushed}). */
  private readonly flushes = new SocketFlushTracker(() => (this.closed ? undefined : this.socket));

  constructor(
    socket: Socket,
    app: App,
    config: ServerConfig,
    secure: boolean,
    options: { head?: Buffer; prefaceConsumed?: boolean; h2?: H2ConnectionOptions } = {},
  ) {
    this.socket = socket;
    this.app = app;
    this.config = config;
    this.secure = secure;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL is announced when the app serves something
    // over extended CONNECT (a WebSocket route), so that clients such as browsers only take that
    // path where it leads somewhere; `http2.enableConnectProtocol` forces it either way.
    this.core = new H2Connection('server', this, {
      ...options.h2,
      enableConnectProtocol: options.h2?.enableConnectProtocol ?? app.servesConnectProtocols,
    });
    this.tunnels = new H2ExtendedConnect(this, app);
    const now = config.wheel.now();
    this.idleSince = now;
    this.core.start(now, options.prefaceConsumed === true);
    socket.setNoDelay(true);
    socket.on('data', this.onSocketData.bind(this));
    this.onDrainBound = this.onDrain.bind(this);
    socket.on('drain', this.onDrainBound);
    socket.on('end', this.onEnd.bind(this));
    socket.on('error', () => {});
    socket.on('close', this.onSocketClose.bind(this));
    this.timer = config.wheel.schedule(TICK_MS, onTick, this);
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({ socket, protocol: 'h2', secure });
    }
    if (options.head !== undefined && options.head.length > 0) this.onSocketData(options.head);
    else this.flushOut();
  }

  /** True when no stream is in progress. */
  get idle(): boolean {
    return this.core.activeStreams === 0;
  }

  /** Graceful shutdown: GOAWAY, finish the streams in flight, then close. */
  shutdown(): void {
    this.closing = true;
    this.core.goaway(H2ErrorCode.NO_ERROR);
    this.tunnels.shutdown();
    this.writeOut();
    if (this.idle) this.socket.end();
  }

  /** Close at once. */
  destroy(): void {
    this.socket.destroy();
  }

  // ---------------------------------------------------------------------------------------------
  // Socket

  private onEnd(): void {
    this.closing = true;
    if (this.idle) {
      this.writeOut();
      this.socket.end();
    }
  }

  private onDrain(): void {
    if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.config.wheel.cancel(this.timer);
    this.flushes.clear();
    const gone = new H2StreamGoneError(H2ErrorCode.CANCEL);
    for (const stream of this.core.streams.values()) {
      const ex = stream.data;
      if (ex instanceof H2Exchange) this.endExchange(ex, H2ErrorCode.CANCEL, gone);
      else H2ExtendedConnect.tunnelOf(stream)?.onConnectionLost();
    }
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({ socket: this.socket, protocol: 'h2' });
    }
    this.onClose?.(this);
  }

  /** Writes whatever the core queued. Stops reading when the peer does not read (floods). */
  flushOut(): void {
    // While a read is being processed, responses answered synchronously pile up in the core and
    // leave in one corked write when the read is done (`onSocketData`): one system call per read
    // instead of one per stream, which is what h2load's 100 streams per read cost over h2c.
    if (this.receiving) return;
    this.writeOut();
  }

  /** Writes everything the core has queued, now. */
  private writeOut(): void {
    if (this.closed) return;
    const chunks = this.core.takeOutgoing();
    const n = chunks.length;
    if (n === 0) return;
    const socket = this.socket;
    // Only while a WebSocket tunnel waits to hear that its frames reached the OS does the last
    // write carry a callback (see outputFlushed); other writes pay nothing for it.
    const flushes = this.flushes;
    const flushed = flushes.callback;
    let ok = true;
    if (n === 1) {
      flushes.written += chunks[0]!.length;
      ok = socket.write(chunks[0]!, flushed);
    } else {
      socket.cork();
      for (let i = 0; i < n; i++) {
        const c = chunks[i]!;
        flushes.written += c.length;
        ok = socket.write(c, i === n - 1 ? flushed : undefined);
      }
      socket.uncork();
    }
    if (!ok && !this.readingPaused) {
      this.readingPaused = true;
      socket.pause();
    }
  }

  /**
   * For a WebSocket tunnel's write (WsH2StreamHost): true when the core has nothing queued and
   * the socket handed everything to the OS; otherwise false, and `transport.onOutputFlushed()`
   * runs once the octets queued so far have been, so that the WebSocket's `bufferedAmount`
   * counts a congested connection, as a TCP socket's does.
   */
  outputFlushed(transport: WsH2StreamTransport): boolean {
    // A lost connection fails the write (`onConnectionLost`).
    return this.flushes.wait(transport, this.core.outgoingBytes);
  }

  /** @internal Housekeeping tick. */
  tick(): void {
    if (this.closed) return;
    const now = this.config.wheel.now();
    this.core.tick(now);
    if (this.core.activeStreams > 0) this.idleSince = now;
    else if (
      this.config.keepAliveTimeout > 0 &&
      now - this.idleSince > Math.max(this.config.keepAliveTimeout, 30000) &&
      !this.closing
    ) {
      // An idle HTTP/2 connection is closed gracefully (browsers reconnect when needed).
      this.shutdown();
    }
    this.flushOut();
    if (this.timer !== undefined && !this.closed) this.config.wheel.reschedule(this.timer, TICK_MS);
  }

  // ---------------------------------------------------------------------------------------------
  // H2ConnectionHandler

  onHeaders(stream: H2Stream, fields: string[], endStream: boolean, trailers: boolean): void {
    if (trailers) {
      const ex = stream.data;
      if (ex instanceof H2Exchange) {
        if (!ex.discard) ex.req.receivedBody.end(fields);
      } else H2ExtendedConnect.tunnelOf(stream)?.onStreamData(Buffer.alloc(0), true);
      return;
    }
    if (streamOpenChannel.hasSubscribers) {
      streamOpenChannel.publish({ protocol: 'h2', streamId: stream.id });
    }
    // RFC 8441 §4: an extended CONNECT for a protocol the app serves becomes a tunnel.
    if (this.tunnels.take(stream, fields)) return;
    const ex = new H2Exchange(this, stream);
    stream.data = ex;
    let method = '';
    let path = '';
    let authority: string | undefined;
    const regular: string[] = [];
    let cookie: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (name.charCodeAt(0) === 0x3a) {
        if (name === ':method') method = value;
        else if (name === ':path') path = value;
        else if (name === ':authority') authority = value;
      } else if (name === 'cookie') {
        // RFC 9113 §8.2.3: cookie crumbs are joined with "; ".
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      } else {
        regular.push(name, value);
      }
    }
    if (cookie !== undefined) regular.push('cookie', cookie);
    // RFC 9113 §8.5: a plain CONNECT's target is its authority (an extended one has a :path).
    if (method === 'CONNECT' && path === '') path = authority ?? '';
    const body = endStream
      ? IncomingBody.empty()
      : new IncomingBody({
          limit: this.app.bodyLimit,
          source: ex,
          expectedLength: stream.expectedLength >= 0 ? stream.expectedLength : undefined,
        });
    const req = new Request({
      method,
      target: path,
      headers: Headers.fromFlat(regular, { trusted: true }),
      body,
      protocol: 'h2',
      connection: this,
      authority,
      push: ex,
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
    this.answer(ex, result);
  }

  private onSocketData(chunk: Buffer): void {
    if (this.closed) return;
    this.receiving = true;
    try {
      this.core.receive(chunk, this.config.wheel.now());
    } finally {
      this.receiving = false;
    }
    this.writeOut();
  }

  onData(stream: H2Stream, data: Buffer, endStream: boolean): void {
    const tunnel = H2ExtendedConnect.tunnelOf(stream);
    if (tunnel !== undefined) {
      tunnel.onStreamData(data, endStream);
      return;
    }
    const ex = stream.data as H2Exchange | undefined;
    if (ex === undefined) return;
    const n = data.length;
    const body = ex.req.receivedBody;
    if (n > 0) {
      if (ex.discard || body.settled || !body.push(data)) {
        ex.discard = true;
        this.core.consume(stream, n);
      } else if (ex.paused) {
        ex.held += n;
      } else {
        this.core.consume(stream, n);
      }
    }
    if (endStream && !ex.discard) body.end();
  }

  onStreamClosed(stream: H2Stream, errorCode: number, byPeer: boolean): void {
    if (streamCloseChannel.hasSubscribers) {
      streamCloseChannel.publish({ protocol: 'h2', streamId: stream.id, errorCode });
    }
    const tunnel = H2ExtendedConnect.tunnelOf(stream);
    if (tunnel !== undefined) {
      tunnel.onStreamClosed(errorCode, byPeer);
      this.afterStream();
      return;
    }
    const ex = stream.data as H2Exchange | undefined;
    if (ex === undefined) return;
    if (errorCode === H2ErrorCode.NO_ERROR && !byPeer) {
      ex.closed = true;
      ex.notify();
      this.afterStream();
      return;
    }
    this.endExchange(ex, errorCode, new H2StreamGoneError(errorCode));
    this.afterStream();
  }

  onStreamWritable(stream: H2Stream): void {
    const tunnel = H2ExtendedConnect.tunnelOf(stream);
    if (tunnel !== undefined) tunnel.onStreamWritable();
    else (stream.data as H2Exchange | undefined)?.notify();
  }

  onGoaway(): void {
    this.closing = true;
    if (this.idle) {
      this.writeOut();
      this.socket.end();
    }
  }

  onConnectionError(_error: H2Error): void {
    this.closing = true;
    this.writeOut();
    this.socket.end();
    // A peer that ignores our GOAWAY does not keep the socket.
    this.config.wheel.schedule(1000, destroySocket, this.socket);
  }

  /**
   * @internal `req.push(path, options)` for `ex` (RFC 9113 §8.4): PUSH_PROMISE on its stream, and
   * an exchange for the promised stream whose response the handler sends with `respond`. Null
   * when the core cannot push now (client disabled push, stream limit, shutdown, response done).
   */
  push(ex: H2Exchange, path: string, options: PushOptions | undefined): ServerPush | null {
    if (this.closed || this.closing || ex.closed || ex.stream.associatedId !== 0) return null;
    const authority = ex.req.host;
    // RFC 9113 §8.4.1: a promise names the authority; a request without one cannot have pushes.
    if (authority === '') return null;
    const head = pushRequestHead(path, options, this.secure ? 'https' : 'http', authority);
    let stream: H2Stream | undefined;
    try {
      stream = this.core.pushPromise(ex.stream, head.fields);
    } catch (err) {
      // The client's SETTINGS_MAX_HEADER_LIST_SIZE would refuse it: as good as push disabled.
      if (err instanceof H2Error && err.code === 'AVX_H2_HEADER_LIST_TOO_LARGE') return null;
      if (err instanceof H2Error) throw new PushRequestError(err.message);
      throw err;
    }
    if (stream === undefined) return null;
    if (streamOpenChannel.hasSubscribers) {
      streamOpenChannel.publish({ protocol: 'h2', streamId: stream.id });
    }
    this.flushOut();
    const pushed = new H2Exchange(this, stream);
    stream.data = pushed;
    pushed.req = new Request({
      method: head.method,
      target: path,
      headers: head.headers,
      body: IncomingBody.empty(),
      protocol: 'h2',
      connection: this,
      authority,
    });
    pushed.isHead = head.method === 'HEAD';
    const handle = new H2ServerPush(pushed);
    if (ex.pushes === undefined) ex.pushes = [];
    ex.pushes.push(handle);
    if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ request: pushed.req });
    return handle;
  }

  /** @internal Sends the response of an exchange (also a pushed one): a handler result or a promise of one. */
  answer(ex: H2Exchange, result: HandlerResult | Promise<HandlerResult>): void {
    if (result instanceof Promise) {
      result.then(
        (value) => this.respond(ex, value),
        (err) => this.respond(ex, handlerFailedResponse(err)),
      );
    } else {
      this.respond(ex, result);
    }
  }

  /** @internal Withdraws a push (RST_STREAM CANCEL, RFC 9113 §8.4.2). */
  cancelPush(ex: H2Exchange): void {
    if (ex.closed || this.closed) return;
    this.core.resetStream(ex.stream, H2ErrorCode.CANCEL);
    this.flushOut();
  }

  /** @internal Credits body octets back to the peer (called when a paused body resumes). */
  credit(ex: H2Exchange, n: number): void {
    if (this.closed) return;
    this.core.consume(ex.stream, n);
    this.flushOut();
  }

  private endExchange(ex: H2Exchange, code: number, error: Error): void {
    if (ex.closed) return;
    ex.closed = true;
    ex.closeCode = code;
    ex.req.markAborted(error);
    ex.notify();
  }

  private afterStream(): void {
    if (this.closing && this.idle) {
      this.writeOut();
      this.socket.end();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Responses

  private respond(ex: H2Exchange, result: HandlerResult): void {
    try {
      this.writeResponse(ex, result);
    } catch (err) {
      // RFC 9113 §6.5.2: the client announced it would refuse a header section this large;
      // the core sent nothing of it, and the stream is reset instead.
      if (!(err instanceof H2Error) || err.code !== 'AVX_H2_HEADER_LIST_TOO_LARGE') throw err;
      if (!ex.closed) this.core.resetStream(ex.stream, H2ErrorCode.INTERNAL_ERROR);
      this.flushOut();
      this.finish(ex, err);
    }
  }

  private writeResponse(ex: H2Exchange, result: HandlerResult): void {
    if (ex.closed || this.closed) return;
    const stream = ex.stream;
    const status = finalResponseStatus(result);
    ex.status = status;
    const head = multiplexedResponseHead(result, status, CONNECTION_SPECIFIC, this.config.altSvc);
    const res = head.response;
    const fields = head.fields;
    const body = head.body;
    // RFC 9110 §6.4.1: 204 and 304 never have content; HEAD responses send none.
    const noContent = status === 204 || status === 304;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : bufferView(body);
      if (!noContent) fields.push('content-length', String(bytes.length));
      if (ex.isHead || noContent || bytes.length === 0) {
        this.core.sendHeaders(stream, fields, true);
      } else {
        this.core.sendHeaders(stream, fields, false);
        ex.bytes = bytes.length;
        this.core.sendData(stream, bytes, true);
      }
      this.flushOut();
      this.finish(ex);
      return;
    }
    if (body === null || body === undefined || noContent) {
      if (!noContent && res !== undefined && res.trailers === undefined) fields.push('content-length', '0');
      if (res?.trailers !== undefined && res.trailers.size > 0 && !noContent) {
        this.core.sendHeaders(stream, fields, false);
        this.core.sendTrailers(stream, trailerFieldList(res.trailers, CONNECTION_SPECIFIC));
      } else {
        this.core.sendHeaders(stream, fields, true);
      }
      if (body !== null && body !== undefined) closeStreamBody(body);
      this.flushOut();
      this.finish(ex);
      return;
    }
    if (ex.isHead) {
      closeStreamBody(body);
      this.core.sendHeaders(stream, fields, true);
      this.flushOut();
      this.finish(ex);
      return;
    }
    const length = res?.hasHeaders ? res.headers.get('content-length') : undefined;
    if (length !== undefined && /^\d+$/.test(length)) fields.push('content-length', length);
    this.core.sendHeaders(stream, fields, false);
    this.flushOut();
    this.pump(ex, body as AsyncIterable<Uint8Array | string>, res).then(
      () => this.finish(ex),
      (err: unknown) => {
        if (!ex.closed) this.core.resetStream(stream, H2ErrorCode.INTERNAL_ERROR);
        this.flushOut();
        this.finish(ex, err);
      },
    );
  }

  private async pump(
    ex: H2Exchange,
    body: AsyncIterable<Uint8Array | string>,
    res: Response | undefined,
  ): Promise<void> {
    const iterator = body[Symbol.asyncIterator]();
    const stream = ex.stream;
    try {
      for (;;) {
        if (ex.closed) throw new H2StreamGoneError(ex.closeCode);
        const step = await iterator.next();
        if (step.done) break;
        if (ex.closed) throw new H2StreamGoneError(ex.closeCode);
        const value = step.value;
        const chunk = typeof value === 'string' ? Buffer.from(value) : bufferView(value);
        if (chunk.length === 0) continue;
        ex.bytes += chunk.length;
        const more = this.core.sendData(stream, chunk, false);
        this.flushOut();
        if (!more) await this.waitWritable(ex);
        if (this.socket.writableNeedDrain) await this.waitDrain();
      }
      if (ex.closed) throw new H2StreamGoneError(ex.closeCode);
      const trailers = res?.trailers;
      if (trailers !== undefined && trailers.size > 0)
        this.core.sendTrailers(stream, trailerFieldList(trailers, CONNECTION_SPECIFIC));
      else this.core.sendData(stream, Buffer.alloc(0), true);
      this.flushOut();
    } catch (err) {
      await iterator.return?.();
      throw err;
    }
  }

  private waitWritable(ex: H2Exchange): Promise<void> {
    if (ex.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      ex.wake = resolve;
    });
  }

  private waitDrain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private finish(ex: H2Exchange, error?: unknown): void {
    if (responseFinishChannel.hasSubscribers) {
      responseFinishChannel.publish({ request: ex.req, status: ex.status, bytes: ex.bytes, error });
    }
    if (this.app.observesFinish && ex.req !== undefined)
      this.app.responseFinished(ex.req, ex.status, ex.bytes, performance.now());
    const pushes = ex.pushes;
    if (pushes !== undefined) {
      // A push nobody answered by now never will be: withdraw it (RFC 9113 §8.4.2).
      ex.pushes = undefined;
      for (const push of pushes) if (!push.answered) push.cancel();
    }
    // The response is out: a request body nobody read is no longer wanted.
    const body = ex.req.receivedBody;
    if (!body.settled && !body.used) {
      ex.discard = true;
      ex.resume();
    }
  }
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}

function onTick(conn: H2ServerConnection): void {
  conn.tick();
}
