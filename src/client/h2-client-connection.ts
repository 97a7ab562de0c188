/**
 * The client's HTTP/2 connection driver: owns one socket and one sans-I/O `H2Connection` in the
 * client role, and carries many exchanges at once, one stream each (RFC 9113 §5). Bytes from the
 * socket go to `receive`, and what the core queues (`takeOutgoing`) is written corked after every
 * step. Requests map to the pseudo-header fields of RFC 9113 §8.3.1 (connection-specific fields
 * dropped, §8.2.2); request bodies go out through `sendData`, which respects the stream and
 * connection windows (§5.2, §6.9) and tells us when to write more; response bodies feed an
 * `IncomingBody`, and octets are credited back with WINDOW_UPDATE only once the reader keeps up,
 * so a slow reader holds at most one stream window (backpressure).
 *
 * Safe retries: a stream refused by the server (RST_STREAM REFUSED_STREAM, §8.7) or above the
 * last-stream-id of a GOAWAY (§6.8) never reached the application, so it goes back to the pool
 * whatever its method, provided its body can be sent again. A connection lost before a response
 * began hands back idempotent requests once, as the HTTP/1.1 driver does. Abort sends
 * RST_STREAM CANCEL (§6.4) and leaves the other streams alone.
 *
 * Timeouts (connect, response head, body idle, idle connection) go on the timer wheel: one handle
 * for the connection and one per stream, re-armed rather than re-created.
 */
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import type tls from 'node:tls';
import { Headers } from '../core/headers.js';
import { IncomingBody } from '../core/incoming-body.js';
import { H2Connection, type H2ConnectionHandler } from '../h2/h2-connection.js';
import type { H2ConnectionOptions } from '../h2/h2-connection-options.js';
import { H2Error } from '../h2/h2-error.js';
import { H2ErrorCode } from '../h2/h2-error-codes.js';
import type { H2Stream } from '../h2/h2-stream.js';
import { type PriorityParams, parsePriorityField } from '../h2/priority-field.js';
import type { TimerHandle, TimerWheel } from '../runtime/timer-wheel.js';
import {
  ClientError,
  ConnectionClosedError,
  ConnectTimeoutError,
  RequestBodyError,
  RequestHeadersTooLargeError,
  ResponseParseError,
} from './client-errors.js';
import {
  ClientExchange,
  type ExchangeCarrier,
  type ExchangeQueue,
  ExchangeState,
} from './client-exchange.js';
import type { ClientPushHandler } from './client-push.js';
import { ClientRequest } from './client-request.js';
import { ClientResponse, type ResponsePriorityTarget } from './client-response.js';
import { ConnectAttempt, type ConnectTarget, openConnection } from './connector.js';
import { multiplexedRequestFields } from './multiplexed-request-fields.js';
import {
  armResponseStreamTimer,
  pauseResponseStream,
  ResponseStreamPhase,
  responseHeadFields,
  responseStreamTimeoutError,
  responseTrailerFields,
  resumeResponseStream,
} from './multiplexed-response-stream.js';
import {
  isConnectionLossRetryable,
  isRefusedStreamRetryable,
  requeueExchange,
} from './multiplexed-stream-retry.js';
import { type RequestBody, requestBodyChunk } from './request-body.js';

/** Settings shared by the HTTP/2 connections of one origin pool. */
export interface H2ClientSettings {
  /** Where to connect (for `https:`, its ALPN list should offer `h2`). */
  target: ConnectTarget;
  /** The `:authority` value (RFC 9113 §8.3.1). */
  authority: string;
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
  /** Unread body bytes above which the stream stops being credited (backpressure). */
  highWaterMark: number;
  /** How long a connection without streams is kept, in ms. */
  idleTimeout: number;
  /** Options of the HTTP/2 core (windows, limits). */
  h2: H2ConnectionOptions | undefined;
  /** Accepts server push (RFC 9113 §8.4): called with each promised response. Default: push refused. */
  onPush?: ClientPushHandler;
  /** The wheel every timeout goes on. */
  wheel: TimerWheel;
}

/** What an HTTP/2 connection tells its pool. */
export interface H2ConnectionOwner {
  /** The connection is up, or a stream ended: it can take more exchanges. */
  onH2Ready(connection: H2ClientConnection): void;
  /** TLS negotiated another protocol than `h2` (ALPN): the pool serves the socket over HTTP/1.1. */
  onH2Declined(connection: H2ClientConnection, socket: net.Socket): void;
  /** Exchanges that never reached the server and go back to the queue (state Queued). */
  onH2Retry(connection: H2ClientConnection, exchanges: ClientExchange[]): void;
  /** The connection is gone; `retry` holds exchanges to send again (state Queued). */
  onH2Closed(connection: H2ClientConnection, reason: Error, retry: ClientExchange[] | undefined): void;
}

const Phase = { None: 0, Connect: 1, Idle: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** One exchange on one stream. */
class H2ClientStream implements ResponsePriorityTarget {
  readonly exchange: ClientExchange;
  readonly connection: H2ClientConnection;
  stream: H2Stream | undefined = undefined;
  timer: TimerHandle | undefined = undefined;
  phase: number = ResponseStreamPhase.Headers;
  /** The reader is behind: received octets are held instead of credited. */
  paused = false;
  /** Octets received while paused, credited on resume. */
  held = 0;
  trailers: string[] | undefined = undefined;
  /** `onStreamWritable` waiter of a streamed request body. */
  writable: (() => void) | undefined = undefined;

  constructor(exchange: ClientExchange, connection: H2ClientConnection) {
    this.exchange = exchange;
    this.connection = connection;
  }

  setPriority(priority: Partial<PriorityParams>): boolean {
    return this.connection.updatePriority(this, priority);
  }
}

/** Interval of the core's housekeeping (SETTINGS acknowledgement deadline, stalled sends), ms. */
const TICK_MS = 1000;

function tickTimerFired(connection: H2ClientConnection): void {
  connection.onTick();
}

/** Pushed exchanges never wait in a pool queue. */
const PUSH_QUEUE: ExchangeQueue = { dropQueued() {} };

function connectionTimerFired(connection: H2ClientConnection): void {
  connection.onTimer();
}

function streamTimerFired(entry: H2ClientStream): void {
  entry.connection.onStreamTimer(entry);
}

/** One HTTP/2 connection of a client pool. */
export class H2ClientConnection implements H2ConnectionHandler, ExchangeCarrier {
  /** The socket is connected and speaks h2. */
  connected = false;
  /** The connection is finished; it takes no more work. */
  closed = false;
  /** The server sent GOAWAY (or we are closing): no new streams. */
  draining = false;
  /** Exchanges sent on this connection so far. */
  sent = 0;
  /** Set by the pool once it stopped counting this connection as connecting. */
  leftConnecting = false;
  /**
   * Streams to open at most while the server has not stated SETTINGS_MAX_CONCURRENT_STREAMS
   * (RFC 9113 §6.5.2 suggests servers allow at least 100); the pool sets what another
   * connection to the origin learned.
   */
  streamLimitHint = 100;

  readonly #owner: H2ConnectionOwner;
  readonly #settings: H2ClientSettings;
  readonly #core: H2Connection;
  readonly #entries = new Map<ClientExchange, H2ClientStream>();
  readonly #scheme: string;
  #socket: net.Socket | undefined = undefined;
  #attempt: ConnectAttempt | undefined = undefined;
  #timer: TimerHandle | undefined = undefined;
  /** Drives `H2Connection.tick` while connected. */
  #tickTimer: TimerHandle | undefined = undefined;
  #phase: Phase = Phase.None;
  #timeoutMs = 0;
  #capacityFreed = false;
  #receiving = false;
  #retry: ClientExchange[] | undefined = undefined;

  constructor(owner: H2ConnectionOwner, settings: H2ClientSettings) {
    this.#owner = owner;
    this.#settings = settings;
    this.#core = new H2Connection('client', this, settings.h2);
    this.#scheme = settings.target.protocol === 'https:' ? 'https' : 'http';
  }

  /** Streams in flight. */
  get inflight(): number {
    return this.#entries.size;
  }

  /** True when another exchange may be sent now. */
  get hasCapacity(): boolean {
    const core = this.#core;
    return (
      this.connected &&
      !this.closed &&
      !this.draining &&
      !core.failed &&
      core.peerGoawayLastStreamId < 0 &&
      core.streamIdsLeft > 0 &&
      this.#entries.size < this.streamLimit
    );
  }

  /** Streams this connection may carry at once: the server's limit, or the hint until it is known. */
  get streamLimit(): number {
    const limit = this.#core.peerMaxConcurrentStreams;
    return limit === Number.POSITIVE_INFINITY ? this.streamLimitHint : limit;
  }

  /** The socket, once connected. */
  get socket(): net.Socket | undefined {
    return this.#socket;
  }

  /** Starts connecting; the owner hears `onH2Ready`, `onH2Declined` or `onH2Closed`. */
  connect(timeoutMs: number): void {
    const attempt = new ConnectAttempt();
    this.#attempt = attempt;
    this.#arm(Phase.Connect, timeoutMs);
    openConnection(this.#settings.target, attempt).then(this.#onConnected, this.#onConnectFailed);
  }

  #onConnected = (socket: net.Socket): void => {
    this.#attempt = undefined;
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.#disarm();
    if (this.#settings.target.protocol === 'https:' && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
      // RFC 7301: the server chose HTTP/1.1 (or nothing): hand the socket over.
      this.closed = true;
      this.#owner.onH2Declined(this, socket);
      return;
    }
    this.#socket = socket;
    this.connected = true;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    // RFC 9113 §3.4: the preface and our SETTINGS; requests may follow without waiting.
    this.#core.start(Date.now());
    // RFC 9113 §6.5.3: the core checks the SETTINGS ACK deadline (and stalled sends) on tick.
    this.#tickTimer = this.#settings.wheel.schedule(TICK_MS, tickTimerFired, this);
    this.#flush();
    this.#startIdle();
    this.#owner.onH2Ready(this);
  };

  #onConnectFailed = (error: Error): void => {
    this.#attempt = undefined;
    this.destroy(error);
  };

  /** Sends `exchange` on a new stream. The caller checked {@link hasCapacity}. */
  send(exchange: ClientExchange): void {
    const settings = this.#settings;
    const req = exchange.request;
    const body = req.body;
    const entry = new H2ClientStream(exchange, this);
    exchange.state = ExchangeState.Sent;
    exchange.carrier = this;
    this.#entries.set(exchange, entry);
    this.sent++;
    if (this.#phase === Phase.Idle) this.#disarm();
    const fields = multiplexedRequestFields(req, this.#scheme, settings.authority);
    const noBody = body === null || (body.bytes !== undefined && body.bytes.length === 0);
    let stream: H2Stream;
    try {
      stream = this.#core.openStream(fields, noBody);
    } catch (err) {
      this.#entries.delete(exchange);
      if (err instanceof H2Error && err.code === 'AVX_H2_HEADER_LIST_TOO_LARGE') {
        // RFC 9113 §6.5.2: the server said it would refuse this header section; another
        // connection to it would too. Nothing was sent.
        exchange.fail(new RequestHeadersTooLargeError(settings.target.origin, err));
        this.#capacityFreed = true;
        if (!this.#receiving) queueMicrotask(this.#deferredAfterEvents);
        return;
      }
      // Otherwise only when the peer's limits changed under us: the exchange never left, so retry it.
      exchange.state = ExchangeState.Queued;
      exchange.carrier = undefined;
      this.#owner.onH2Retry(this, [exchange]);
      return;
    }
    stream.data = entry;
    entry.stream = stream;
    this.#armStream(entry, req.headersTimeout);
    if (!noBody) {
      if (body.bytes !== undefined) this.#core.sendData(stream, body.bytes, true);
      else void this.#writeStreamBody(entry, body);
    }
    this.#flush();
  }

  async #writeStreamBody(entry: H2ClientStream, body: RequestBody): Promise<void> {
    const exchange = entry.exchange;
    const stream = entry.stream!;
    let sent = 0;
    try {
      for await (const piece of body.open()) {
        if (this.closed || exchange.done || !stream.canSend) return;
        const bytes = requestBodyChunk(piece);
        if (bytes.length === 0) continue;
        sent += bytes.length;
        if (body.length >= 0 && sent > body.length)
          throw new Error(`the body is longer than its declared ${body.length} bytes`);
        const more = this.#core.sendData(stream, bytes, false);
        this.#flush();
        if (!more) await new Promise<void>((resolve) => (entry.writable = resolve));
      }
      if (this.closed || exchange.done || !stream.canSend) return;
      if (body.length >= 0 && sent !== body.length)
        throw new Error(`the body ended after ${sent} of its declared ${body.length} bytes`);
      this.#core.sendData(stream, Buffer.alloc(0), true);
      this.#flush();
    } catch (err) {
      if (exchange.done) return;
      exchange.fail(new RequestBodyError(this.#settings.target.origin, err));
      this.#reset(entry, H2ErrorCode.CANCEL);
    }
  }

  /**
   * RFC 9218 §7.1: a new priority for the response on `entry`'s stream, merged over the current
   * one (the last update, else the request's `priority` field, else the §4 defaults), sent as
   * PRIORITY_UPDATE. False when the stream or the connection is gone.
   */
  updatePriority(entry: H2ClientStream, priority: Partial<PriorityParams>): boolean {
    const stream = entry.stream;
    if (stream === undefined || this.closed) return false;
    const current =
      stream.priority ?? parsePriorityField(entry.exchange.request.headers.get('priority') ?? '');
    const sent = this.#core.updatePriority(stream, {
      urgency: priority.urgency ?? current.urgency,
      incremental: priority.incremental ?? current.incremental,
    });
    if (sent) this.#flush();
    return sent;
  }

  // -----------------------------------------------------------------------------------------
  // Socket events (bound once per connection).

  #onData = (chunk: Buffer): void => {
    this.#receiving = true;
    this.#core.receive(chunk, Date.now());
    this.#receiving = false;
    this.#flush();
    this.#afterEvents();
  };

  #onEnd = (): void => {
    this.destroy(new ConnectionClosedError(this.#settings.target.origin, 'the server closed the connection'));
  };

  #onError = (err: Error): void => {
    this.destroy(
      new ConnectionClosedError(this.#settings.target.origin, `connection error: ${err.message}`, err),
    );
  };

  #onClose = (): void => {
    this.destroy(new ConnectionClosedError(this.#settings.target.origin, 'the connection closed'));
  };

  /** Tells the pool, outside the core's callbacks, about retries and freed capacity. */
  #afterEvents(): void {
    if (this.closed) return;
    const retry = this.#retry;
    if (retry !== undefined) {
      this.#retry = undefined;
      this.#owner.onH2Retry(this, retry);
    }
    if (this.draining && this.#entries.size === 0) {
      this.close();
      return;
    }
    if (this.#capacityFreed) {
      this.#capacityFreed = false;
      if (this.#entries.size === 0) this.#startIdle();
      this.#owner.onH2Ready(this);
    }
  }

  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    const out = this.#core.takeOutgoing();
    if (out.length === 0) return;
    if (out.length === 1) {
      socket.write(out[0]!);
      return;
    }
    socket.cork();
    for (const b of out) socket.write(b);
    socket.uncork();
  }

  // -----------------------------------------------------------------------------------------
  // H2ConnectionHandler

  onHeaders(stream: H2Stream, fields: string[], endStream: boolean, trailers: boolean): void {
    const entry = stream.data as H2ClientStream;
    const exchange = entry.exchange;
    if (exchange.done) return;
    if (trailers) {
      entry.trailers = responseTrailerFields(fields);
      return;
    }
    const list: string[] = [];
    const status = responseHeadFields(fields, list);
    // RFC 9113 §8.1: informational responses come before the final one; they are skipped.
    if (status < 200) {
      if (status === 101 || endStream) {
        this.#failStream(
          entry,
          new ResponseParseError(this.#settings.target.origin, new Error(`unexpected status ${status}`)),
        );
      }
      return;
    }
    const headers = Headers.fromFlat(list, { trusted: true });
    const req = exchange.request;
    const settings = this.#settings;
    const length = stream.expectedLength;
    const body = new IncomingBody({
      limit: settings.maxResponseBytes,
      highWaterMark: settings.highWaterMark,
      source: exchange,
      expectedLength: length >= 0 ? length : undefined,
    });
    entry.phase = ResponseStreamPhase.Body;
    const response = new ClientResponse(status, '', headers, body, req.url.href, '2');
    response.priorityTarget = entry;
    exchange.respond(response);
    if (endStream) {
      this.#endStream(entry);
      return;
    }
    this.#armStream(entry, req.bodyTimeout);
  }

  onData(stream: H2Stream, data: Buffer, endStream: boolean): void {
    const entry = stream.data as H2ClientStream;
    const exchange = entry.exchange;
    const n = data.length;
    if (exchange.state !== ExchangeState.Streaming) {
      this.#core.consume(stream, n);
      return;
    }
    if (n > 0) {
      if (!exchange.body!.push(data)) {
        // Over the size limit, or the reader gave up: stop this stream only.
        exchange.fail(
          new ConnectionClosedError(this.#settings.target.origin, 'the response body was refused'),
        );
        this.#core.consume(stream, n);
        this.#reset(entry, H2ErrorCode.CANCEL);
        return;
      }
      if (entry.paused) entry.held += n;
      else this.#core.consume(stream, n);
    }
    if (endStream) this.#endStream(entry);
    else if (entry.timer !== undefined && entry.phase === ResponseStreamPhase.Body && !entry.paused)
      entry.timer.refresh();
  }

  onStreamClosed(stream: H2Stream, errorCode: number, byPeer: boolean): void {
    const entry = stream.data as H2ClientStream | undefined;
    // A promised stream refused before it got an exchange (see onPushPromise).
    if (entry === undefined) return;
    const exchange = entry.exchange;
    entry.timer?.cancel();
    entry.writable?.();
    entry.writable = undefined;
    // The whole connection failed (a GOAWAY with an error is queued): `onConnectionError` then
    // `destroy` settle every exchange with that error, which says what broke.
    if (this.#core.failed) return;
    if (this.#entries.get(exchange) === entry) this.#entries.delete(exchange);
    this.#capacityFreed = true;
    if (!this.#receiving) queueMicrotask(this.#deferredAfterEvents);
    if (exchange.done) return;
    const origin = this.#settings.target.origin;
    if (errorCode === H2ErrorCode.NO_ERROR) {
      // Closed cleanly but the response did not complete (no final response, e.g. an early close).
      if (exchange.state === ExchangeState.Streaming) exchange.finish(entry.trailers);
      else exchange.fail(new ResponseParseError(origin, new Error('the stream ended without a response')));
      return;
    }
    // RFC 9113 §8.7: REFUSED_STREAM (also our streams above a GOAWAY's last-stream-id) means
    // the request was not processed: it can go again on another stream or connection.
    if (errorCode === H2ErrorCode.REFUSED_STREAM && byPeer && isRefusedStreamRetryable(exchange)) {
      // One automatic retry, as for a lost connection: a server that keeps refusing fails it.
      this.#retry = requeueExchange(exchange, this.#retry);
      return;
    }
    exchange.fail(
      new ConnectionClosedError(
        origin,
        `the stream was reset by the ${byPeer ? 'server' : 'client'} (HTTP/2 error code ${errorCode})`,
      ),
    );
  }

  #deferredAfterEvents = (): void => {
    this.#flush();
    this.#afterEvents();
  };

  /**
   * RFC 9113 §8.4: the server promised a push (only with `http2Push`, which leaves
   * SETTINGS_ENABLE_PUSH at 1). The promised stream gets an exchange of its own, so its response
   * arrives like any other; the callback receives it as a {@link ClientPush}.
   */
  onPushPromise(associated: H2Stream, promised: H2Stream, fields: string[]): void {
    const settings = this.#settings;
    const onPush = settings.onPush;
    const parent = (associated.data as H2ClientStream | undefined)?.exchange;
    let method = '';
    let scheme = '';
    let authority = '';
    let path = '';
    const regular: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (name === ':method') method = value;
      else if (name === ':scheme') scheme = value;
      else if (name === ':authority') authority = value;
      else if (name === ':path') path = value;
      else if (name.charCodeAt(0) !== 0x3a) regular.push(name, value);
    }
    if (onPush === undefined || parent === undefined || this.closed) {
      this.#core.resetStream(promised, H2ErrorCode.CANCEL);
      return;
    }
    // RFC 9113 §8.4.1: only responses the server is authoritative for: this connection's origin.
    if (scheme !== this.#scheme || authority.toLowerCase() !== settings.authority.toLowerCase()) {
      this.#core.resetStream(promised, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    let url: URL;
    try {
      url = new URL(path, settings.target.origin);
    } catch {
      this.#core.resetStream(promised, H2ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const headers = Headers.fromFlat(regular, { trusted: true });
    const parentRequest = parent.request;
    const request = new ClientRequest(
      method,
      url,
      headers,
      null,
      undefined,
      0,
      parentRequest.headersTimeout,
      parentRequest.bodyTimeout,
    );
    let resolve!: (response: ClientResponse) => void;
    let reject!: (error: Error) => void;
    const response = new Promise<ClientResponse>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A push nobody awaits must not become an unhandled rejection.
    response.catch(() => {});
    const exchange = new ClientExchange(PUSH_QUEUE, request, settings.target.origin, resolve, reject);
    exchange.state = ExchangeState.Sent;
    exchange.carrier = this;
    // It was never sent by us: nothing to retry if the connection drops.
    exchange.retried = true;
    const entry = new H2ClientStream(exchange, this);
    entry.stream = promised;
    promised.data = entry;
    this.#entries.set(exchange, entry);
    this.#armStream(entry, request.headersTimeout);
    const origin = settings.target.origin;
    onPush({
      method,
      url,
      headers,
      initiator: parentRequest.url,
      response,
      cancel: () => exchange.abort(new ConnectionClosedError(origin, 'the push was cancelled by the client')),
    });
  }

  onStreamWritable(stream: H2Stream): void {
    const entry = stream.data as H2ClientStream;
    const resume = entry.writable;
    entry.writable = undefined;
    resume?.();
  }

  onGoaway(lastStreamId: number, errorCode: number, debug: Buffer): void {
    void lastStreamId;
    void errorCode;
    void debug;
    // RFC 9113 §6.8: streams up to last-stream-id finish; no new ones here.
    this.draining = true;
    this.#capacityFreed = true;
  }

  onConnectionError(error: H2Error): void {
    this.#flush();
    const origin = this.#settings.target.origin;
    queueMicrotask(() =>
      this.destroy(new ConnectionClosedError(origin, `HTTP/2 error: ${error.message}`, error)),
    );
  }

  // -----------------------------------------------------------------------------------------
  // Stream ends

  #endStream(entry: H2ClientStream): void {
    entry.timer?.cancel();
    entry.exchange.finish(entry.trailers);
  }

  #failStream(entry: H2ClientStream, error: Error): void {
    entry.exchange.fail(error);
    this.#reset(entry, H2ErrorCode.CANCEL);
  }

  #reset(entry: H2ClientStream, code: number): void {
    const stream = entry.stream;
    if (stream === undefined || this.closed) return;
    this.#core.resetStream(stream, code);
    this.#flush();
  }

  // -----------------------------------------------------------------------------------------
  // ExchangeCarrier

  abortExchange(exchange: ClientExchange, reason: Error): void {
    void reason;
    const entry = this.#entries.get(exchange);
    if (entry === undefined || this.closed) return;
    // RFC 9113 §6.4, §8.7: RST_STREAM CANCEL; the connection and its other streams go on.
    this.#reset(entry, H2ErrorCode.CANCEL);
    if (!this.#receiving) this.#afterEvents();
  }

  pauseFor(exchange: ClientExchange): void {
    const entry = this.#entries.get(exchange);
    if (entry !== undefined) pauseResponseStream(entry);
  }

  resumeFor(exchange: ClientExchange): void {
    const entry = this.#entries.get(exchange);
    if (entry === undefined || !entry.paused) return;
    const held = resumeResponseStream(entry);
    if (entry.stream !== undefined && held > 0) {
      this.#core.consume(entry.stream, held);
      this.#flush();
    }
    const ms = exchange.request.bodyTimeout;
    if (entry.phase === ResponseStreamPhase.Body && ms > 0) this.#armStream(entry, ms);
  }

  // -----------------------------------------------------------------------------------------
  // Timers

  #armStream(entry: H2ClientStream, ms: number): void {
    armResponseStreamTimer(this.#settings.wheel, entry, ms, streamTimerFired);
  }

  /** @internal A stream's head or body timeout fired. */
  onStreamTimer(entry: H2ClientStream): void {
    const exchange = entry.exchange;
    if (exchange.done || this.closed) return;
    this.#failStream(
      entry,
      responseStreamTimeoutError(this.#settings.target.origin, exchange.request, entry.phase),
    );
    this.#afterEvents();
  }

  #startIdle(): void {
    this.#arm(Phase.Idle, this.#settings.idleTimeout);
  }

  #arm(phase: Phase, timeoutMs: number): void {
    this.#phase = phase;
    this.#timeoutMs = timeoutMs;
    if (!(timeoutMs > 0)) {
      this.#timer?.cancel();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = this.#settings.wheel.schedule(timeoutMs, connectionTimerFired, this);
    } else {
      this.#settings.wheel.reschedule(this.#timer, timeoutMs);
    }
  }

  #disarm(): void {
    this.#phase = Phase.None;
    this.#timer?.cancel();
  }

  /** @internal The housekeeping timer fired: let the core check its deadlines. */
  onTick(): void {
    if (this.closed) return;
    this.#receiving = true;
    this.#core.tick(Date.now());
    this.#receiving = false;
    this.#flush();
    this.#afterEvents();
    if (!this.closed && this.#tickTimer !== undefined)
      this.#settings.wheel.reschedule(this.#tickTimer, TICK_MS);
  }

  /** @internal The wheel fired the connection's timer. */
  onTimer(): void {
    if (this.closed) return;
    if (this.#phase === Phase.Connect) {
      const origin = this.#settings.target.origin;
      this.#attempt?.cancel(new ConnectTimeoutError(origin, this.#timeoutMs));
    } else if (this.#phase === Phase.Idle && this.#entries.size === 0) {
      this.close();
    }
  }

  // -----------------------------------------------------------------------------------------
  // Ending

  /** Graceful close: GOAWAY (RFC 9113 §6.8), then the socket ends. */
  close(): void {
    if (this.closed) return;
    if (this.#socket !== undefined && !this.#core.failed) {
      this.#core.goaway(H2ErrorCode.NO_ERROR);
      this.#flush();
      this.#socket.end();
    }
    this.destroy(
      new ConnectionClosedError(this.#settings.target.origin, 'the connection was closed by the client'),
    );
  }

  /**
   * Ends the connection now. Streams that never got a response are handed back for one retry
   * when that is safe; the others fail with `reason`.
   */
  destroy(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#disarm();
    this.#tickTimer?.cancel();
    this.#attempt?.cancel(reason);
    const socket = this.#socket;
    if (socket !== undefined) {
      socket.off('data', this.#onData);
      socket.off('end', this.#onEnd);
      socket.off('close', this.#onClose);
      if (!socket.writableEnded) socket.destroy();
      else socket.destroySoon();
    }
    let retry = this.#retry;
    this.#retry = undefined;
    const origin = this.#settings.target.origin;
    for (const entry of this.#entries.values()) {
      entry.timer?.cancel();
      entry.writable?.();
      entry.writable = undefined;
      const exchange = entry.exchange;
      if (exchange.done) continue;
      if (exchange.state === ExchangeState.Sent && isConnectionLossRetryable(exchange, this.connected)) {
        retry = requeueExchange(exchange, retry);
      } else {
        exchange.fail(
          reason instanceof ClientError ? reason : new ConnectionClosedError(origin, reason.message, reason),
        );
      }
    }
    this.#entries.clear();
    this.#owner.onH2Closed(this, reason, retry);
  }
}
