/**
 * The client's HTTP/1.1 connection driver: owns one socket and one response parser, writes
 * requests (RFC 9112 §3, §6, §7.1), matches responses to them in order (RFC 9112 §9.3, with
 * optional pipelining §9.3.2), keeps the connection alive between exchanges (RFC 9112 §9.3,
 * the `Keep-Alive: timeout` hint of RFC 2068 §19.7.1.1) and applies the connect, response head,
 * body idle and keep-alive idle timeouts with one handle on the timer wheel.
 *
 * Hot-path habits: the socket's listeners are bound once per connection; the parser reports into
 * this object's methods; a request without a stream body is written with one `socket.write`
 * (head and a small body in one Buffer); the single timer handle is re-armed, never re-created.
 *
 * When the connection dies, an exchange whose response had not begun is handed back to the pool
 * for one more try if its method is idempotent (RFC 9110 §9.2.2) and its body can be sent again
 * (RFC 9112 §9.3.1 allows exactly this automatic retry); every other exchange fails.
 */
import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { Headers } from '../core/headers.js';
import { IncomingBody } from '../core/incoming-body.js';
import { isIdempotentMethod } from '../core/method.js';
import { ChunkedEncoder } from '../h1/chunked-encoder.js';
import { H1ParseError } from '../h1/h1-parse-error.js';
import { H1Parser } from '../h1/h1-parser.js';
import {
  type H1ParserHandler,
  type H1ParserOptions,
  H1ResponseBody,
  type H1ResponseHead,
} from '../h1/h1-types.js';
import type { TimerHandle, TimerWheel } from '../runtime/timer-wheel.js';
import {
  BodyTimeoutError,
  ClientError,
  ConnectionClosedError,
  ConnectTimeoutError,
  HeadersTimeoutError,
  RequestBodyError,
  ResponseParseError,
} from './client-errors.js';
import { type ClientExchange, type ExchangeCarrier, ExchangeState } from './client-exchange.js';
import { ClientResponse } from './client-response.js';
import { ConnectAttempt, type ConnectTarget, openConnection } from './connector.js';
import { encodeRequestHead, HeadFlags, type RequestHeadInfo } from './h1-request-head.js';
import { type RequestBody, requestBodyChunk } from './request-body.js';

/** Settings shared by the connections of one origin pool. */
export interface H1ConnectionSettings {
  /** Where to connect. */
  target: ConnectTarget;
  /** The `Host` field value. */
  host: string;
  /** Send absolute-form targets (forwarding through a proxy, RFC 9112 §3.2.2). */
  absoluteForm: boolean;
  /** Extra pre-encoded field lines (proxy credentials when forwarding), or ''. */
  extraLines: string;
  /** Response parser limits. */
  parser: H1ParserOptions;
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
  /** Unread body bytes above which reading pauses. */
  highWaterMark: number;
  /** Requests in flight on one connection (1: no pipelining). */
  pipelining: number;
  /** The wheel every timeout goes on. */
  wheel: TimerWheel;
}

/** What a connection tells its pool. */
export interface H1ConnectionOwner {
  /** The connection is connected, or finished an exchange, and can take work. */
  onConnectionReady(connection: H1ClientConnection): void;
  /**
   * The connection is gone (`connected` tells whether it ever was). `retry` holds exchanges that
   * never got a response and may be sent again; they are back in the Queued state.
   */
  onConnectionClosed(
    connection: H1ClientConnection,
    reason: Error,
    retry: ClientExchange[] | undefined,
  ): void;
}

const Phase = { None: 0, Connect: 1, Headers: 2, Body: 3, Idle: 4 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** Bodies up to this size are copied into the head's Buffer so the request is one write. */
const COALESCE_LIMIT = 16384;
const VERSION_11 = '1.1';
const VERSION_10 = '1.0';

function connectionTimerFired(connection: H1ClientConnection): void {
  connection.onTimer();
}

/** RFC 2068 §19.7.1.1 `Keep-Alive: timeout=N` (seconds), in ms; -1 when absent or malformed. */
export function keepAliveTimeoutHint(value: string): number {
  const lower = value.toLowerCase();
  const at = lower.indexOf('timeout=');
  if (at === -1) return -1;
  let i = at + 8;
  let seconds = 0;
  let digits = 0;
  for (; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    seconds = seconds * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 || digits > 9 ? -1 : seconds * 1000;
}

function waitForDrain(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** One HTTP/1.1 connection of a client pool. */
export class H1ClientConnection implements H1ParserHandler<H1ResponseHead>, ExchangeCarrier {
  /** Exchanges written and not yet complete, oldest (the one being answered) first. */
  readonly inflight: ClientExchange[] = [];
  /** The socket is connected (it may have closed since). */
  connected = false;
  /** The connection is finished; it takes no more work. */
  closed = false;
  /** The connection may carry another exchange after the current ones. */
  keepAlive = true;
  /** A stream body is being written: nothing may be pipelined behind it. */
  writingBody = false;
  /** Exchanges sent on this connection so far. */
  sent = 0;
  /** Set by the pool once it stopped counting this connection as connecting. */
  leftConnecting = false;
  /** The server's `Keep-Alive: timeout` hint in ms, or -1. */
  keepAliveHintMs = -1;

  readonly #owner: H1ConnectionOwner;
  readonly #settings: H1ConnectionSettings;
  readonly #parser: H1Parser<H1ResponseHead>;
  readonly #headInfo: RequestHeadInfo = { flags: 0 };
  #socket: net.Socket | undefined = undefined;
  #attempt: ConnectAttempt | undefined = undefined;
  #timer: TimerHandle | undefined = undefined;
  #phase: Phase = Phase.None;
  #timeoutMs = 0;
  #interim = false;
  #trailers: string[] | undefined = undefined;
  #readPaused = false;

  constructor(owner: H1ConnectionOwner, settings: H1ConnectionSettings) {
    this.#owner = owner;
    this.#settings = settings;
    this.#parser = new H1Parser<H1ResponseHead>('response', this, settings.parser);
  }

  /** True while the connection can be given a request. */
  get usable(): boolean {
    const socket = this.#socket;
    return (
      !this.closed &&
      this.keepAlive &&
      socket !== undefined &&
      !socket.destroyed &&
      socket.writable &&
      !socket.readableEnded
    );
  }

  /** True when another exchange may be written now. */
  get hasCapacity(): boolean {
    return this.usable && !this.writingBody && this.inflight.length < this.#settings.pipelining;
  }

  /** The socket, once connected. */
  get socket(): net.Socket | undefined {
    return this.#socket;
  }

  /** Starts connecting; the owner hears `onConnectionReady` or `onConnectionClosed`. */
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
    this.#socket = socket;
    this.connected = true;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#disarm();
    this.#owner.onConnectionReady(this);
  };

  /** Runs on a socket connected elsewhere (TLS where ALPN chose `http/1.1` over `h2`). */
  adopt(socket: net.Socket): void {
    this.#onConnected(socket);
  }

  #onConnectFailed = (error: Error): void => {
    this.#attempt = undefined;
    this.destroy(error);
  };

  /** Writes `exchange`'s request. The caller checked {@link hasCapacity}. */
  send(exchange: ClientExchange): void {
    const socket = this.#socket!;
    const settings = this.#settings;
    exchange.state = ExchangeState.Sent;
    exchange.carrier = this;
    this.inflight.push(exchange);
    this.sent++;
    const req = exchange.request;
    const url = req.url;
    const body = req.body;
    const target = settings.absoluteForm
      ? `${url.origin}${url.pathname}${url.search}`
      : `${url.pathname}${url.search}`;
    const info = this.#headInfo;
    const head = encodeRequestHead(
      req.method,
      target,
      settings.host,
      req.headers,
      body,
      settings.extraLines,
      info,
    );
    if ((info.flags & HeadFlags.ConnectionClose) !== 0) this.keepAlive = false;
    if (body === null) {
      socket.write(head, 'latin1');
    } else if (body.bytes !== undefined) {
      const bytes = body.bytes;
      if (bytes.length <= COALESCE_LIMIT) {
        const buf = Buffer.allocUnsafe(head.length + bytes.length);
        buf.write(head, 0, 'latin1');
        bytes.copy(buf, head.length);
        socket.write(buf);
      } else {
        socket.cork();
        socket.write(head, 'latin1');
        socket.write(bytes);
        socket.uncork();
      }
    } else {
      void this.#writeStreamBody(exchange, head, body);
    }
    if (this.inflight.length === 1) this.#arm(Phase.Headers, req.headersTimeout);
  }

  async #writeStreamBody(exchange: ClientExchange, head: string, body: RequestBody): Promise<void> {
    const socket = this.#socket!;
    this.writingBody = true;
    const encoder = body.length < 0 ? new ChunkedEncoder() : undefined;
    let sent = 0;
    try {
      socket.write(head, 'latin1');
      for await (const piece of body.open()) {
        if (this.closed || exchange.done) break;
        const bytes = requestBodyChunk(piece);
        if (bytes.length === 0) continue;
        if (encoder !== undefined) {
          const parts = encoder.encode(bytes);
          socket.cork();
          for (const part of parts) socket.write(part);
          socket.uncork();
        } else {
          sent += bytes.length;
          if (sent > body.length)
            throw new Error(`the body is longer than its declared ${body.length} bytes`);
          socket.write(bytes);
        }
        if (socket.writableNeedDrain) await waitForDrain(socket);
      }
      if (!this.closed && !exchange.done) {
        if (encoder !== undefined) socket.write(encoder.end());
        else if (sent !== body.length) {
          throw new Error(`the body ended after ${sent} of its declared ${body.length} bytes`);
        }
      }
    } catch (err) {
      this.writingBody = false;
      const origin = this.#settings.target.origin;
      exchange.fail(new RequestBodyError(origin, err));
      this.destroy(new ConnectionClosedError(origin, 'the request body failed', err));
      return;
    }
    this.writingBody = false;
    if (!this.closed && this.inflight.length === 0) {
      // The response completed while the body was still going out: the connection cannot be
      // reused safely (the server may not have read the rest), so it closes.
      this.close();
    }
  }

  // -----------------------------------------------------------------------------------------
  // Socket events (bound once per connection).

  #onData = (chunk: Buffer): void => {
    try {
      this.#parser.execute(chunk);
    } catch (err) {
      if (this.closed) return;
      const origin = this.#settings.target.origin;
      this.destroy(err instanceof H1ParseError ? new ResponseParseError(origin, err) : (err as Error));
    }
  };

  #onEnd = (): void => {
    if (this.closed) return;
    const origin = this.#settings.target.origin;
    try {
      // RFC 9112 §6.3 rule 8: a body delimited by the close ends here.
      this.#parser.finish();
    } catch (err) {
      this.destroy(
        new ConnectionClosedError(
          origin,
          'the server closed the connection in the middle of a response',
          err,
        ),
      );
      return;
    }
    this.destroy(new ConnectionClosedError(origin, 'the server closed the connection'));
  };

  #onError = (err: Error): void => {
    this.destroy(
      new ConnectionClosedError(this.#settings.target.origin, `connection error: ${err.message}`, err),
    );
  };

  #onClose = (): void => {
    this.destroy(new ConnectionClosedError(this.#settings.target.origin, 'the connection closed'));
  };

  // -----------------------------------------------------------------------------------------
  // Parser events.

  onHead(head: H1ResponseHead): H1ResponseBody | undefined {
    if (this.closed) return undefined;
    const origin = this.#settings.target.origin;
    const status = head.status;
    if (status < 200) {
      if (status === 101) {
        throw new ResponseParseError(
          origin,
          new Error('unexpected 101 Switching Protocols: no upgrade was asked for'),
        );
      }
      // RFC 9110 §15.2: interim responses are skipped; the parser completes them as messages.
      this.#interim = true;
      return undefined;
    }
    const exchange = this.inflight[0];
    if (exchange === undefined || exchange.state !== ExchangeState.Sent) {
      throw new ResponseParseError(origin, new Error('a response arrived that no request asked for'));
    }
    if (!head.keepAlive) this.keepAlive = false;
    const headers = Headers.fromFlat(head.headers, { trusted: true });
    if (this.keepAlive) {
      const hint = headers.get('keep-alive');
      if (hint !== undefined) this.keepAliveHintMs = keepAliveTimeoutHint(hint);
    }
    const req = exchange.request;
    const settings = this.#settings;
    const body = new IncomingBody({
      limit: settings.maxResponseBytes,
      highWaterMark: settings.highWaterMark,
      source: exchange,
      expectedLength: head.contentLength >= 0 ? head.contentLength : undefined,
    });
    const version =
      head.versionMinor === 1
        ? VERSION_11
        : head.versionMinor === 0
          ? VERSION_10
          : `${head.versionMajor}.${head.versionMinor}`;
    exchange.respond(new ClientResponse(status, head.reason, headers, body, req.url.href, version));
    this.#arm(Phase.Body, req.bodyTimeout);
    // RFC 9110 §9.3.2: a response to HEAD has no content, whatever its framing fields say.
    return req.method === 'HEAD' ? H1ResponseBody.None : undefined;
  }

  onBody(chunk: Buffer): void {
    if (this.closed) return;
    const exchange = this.inflight[0]!;
    if (exchange.state !== ExchangeState.Streaming) return;
    if (!exchange.body!.push(chunk)) {
      // Over the size limit, or the reader gave up: the rest cannot be skipped cheaply.
      exchange.fail(new ConnectionClosedError(this.#settings.target.origin, 'the response body was refused'));
      this.destroy(new ConnectionClosedError(this.#settings.target.origin, 'the response body was refused'));
      return;
    }
    if (this.#phase === Phase.Body) this.#timer!.refresh();
  }

  onTrailers(trailers: string[]): void {
    this.#trailers = trailers;
  }

  onMessageComplete(): void {
    if (this.#interim) {
      this.#interim = false;
      return;
    }
    if (this.closed) return;
    const exchange = this.inflight.shift()!;
    const trailers = this.#trailers;
    this.#trailers = undefined;
    this.#disarm();
    exchange.finish(trailers);
    if (this.#readPaused) {
      // That body is complete; the next response must not wait for its reader.
      this.#readPaused = false;
      this.#socket!.resume();
    }
    if (this.writingBody) this.keepAlive = false;
    if (!this.keepAlive) {
      if (this.inflight.length === 0 && !this.writingBody) this.close();
      else if (this.inflight.length > 0) this.#closeWithPipelined();
      return;
    }
    if (this.inflight.length > 0) this.#arm(Phase.Headers, this.inflight[0]!.request.headersTimeout);
    this.#owner.onConnectionReady(this);
  }

  /** The server closes after this response, but requests were pipelined behind it. */
  #closeWithPipelined(): void {
    this.destroy(
      new ConnectionClosedError(
        this.#settings.target.origin,
        'the server closed the connection (Connection: close)',
      ),
    );
  }

  // -----------------------------------------------------------------------------------------
  // ExchangeCarrier

  abortExchange(exchange: ClientExchange, reason: Error): void {
    if (this.closed || !this.inflight.includes(exchange)) return;
    this.destroy(
      new ConnectionClosedError(
        this.#settings.target.origin,
        'a request on the connection was aborted',
        reason,
      ),
    );
  }

  pauseFor(exchange: ClientExchange): void {
    if (this.closed || this.inflight[0] !== exchange || this.#readPaused) return;
    this.#readPaused = true;
    this.#socket!.pause();
    // The reader is slow, not the server: the body idle timeout waits while paused.
    if (this.#phase === Phase.Body) this.#timer!.cancel();
  }

  resumeFor(exchange: ClientExchange): void {
    if (this.closed || this.inflight[0] !== exchange || !this.#readPaused) return;
    this.#readPaused = false;
    this.#socket!.resume();
    if (this.#phase === Phase.Body && this.#timeoutMs > 0) this.#timer!.refresh();
  }

  // -----------------------------------------------------------------------------------------
  // Timers

  /** Parks the idle connection for at most `timeoutMs`. */
  startIdle(timeoutMs: number): void {
    this.#arm(Phase.Idle, timeoutMs);
  }

  /** Takes the connection out of the idle state. */
  stopIdle(): void {
    if (this.#phase === Phase.Idle) this.#disarm();
  }

  #arm(phase: Phase, timeoutMs: number): void {
    this.#phase = phase;
    this.#timeoutMs = timeoutMs;
    if (!(timeoutMs > 0)) {
      if (this.#timer !== undefined) this.#timer.cancel();
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
    if (this.#timer !== undefined) this.#timer.cancel();
  }

  /** @internal The wheel fired the connection's timer. */
  onTimer(): void {
    if (this.closed) return;
    const origin = this.#settings.target.origin;
    const ms = this.#timeoutMs;
    switch (this.#phase) {
      case Phase.Connect:
        this.#attempt?.cancel(new ConnectTimeoutError(origin, ms));
        return;
      case Phase.Headers: {
        const error = new HeadersTimeoutError(origin, ms);
        this.inflight[0]?.fail(error);
        this.destroy(error);
        return;
      }
      case Phase.Body: {
        const error = new BodyTimeoutError(origin, ms);
        this.inflight[0]?.fail(error);
        this.destroy(error);
        return;
      }
      case Phase.Idle:
        this.close();
        return;
      default:
        return;
    }
  }

  // -----------------------------------------------------------------------------------------
  // Ending

  /** Closes a connection that has nothing in flight (idle timeout, pool drain, `Connection: close`). */
  close(): void {
    this.destroy(
      new ConnectionClosedError(this.#settings.target.origin, 'the connection was closed by the client'),
    );
  }

  /**
   * Ends the connection now. Exchanges in flight that never got a response are handed back for
   * one retry when that is safe, the others fail with `reason`.
   */
  destroy(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#disarm();
    this.#attempt?.cancel(reason);
    const socket = this.#socket;
    if (socket !== undefined) {
      socket.off('data', this.#onData);
      socket.off('end', this.#onEnd);
      socket.off('close', this.#onClose);
      // Keep an 'error' listener: a destroyed socket may still report one.
      socket.destroy();
    }
    let retry: ClientExchange[] | undefined;
    const inflight = this.inflight;
    const responseBegun = this.#parser.inMessage;
    for (let i = 0; i < inflight.length; i++) {
      const exchange = inflight[i]!;
      if (exchange.done) continue;
      if (exchange.state === ExchangeState.Sent && this.#canRetry(exchange, i === 0 && responseBegun)) {
        exchange.retried = true;
        exchange.state = ExchangeState.Queued;
        exchange.carrier = undefined;
        if (retry === undefined) retry = [];
        retry.push(exchange);
      } else {
        exchange.fail(
          reason instanceof ClientError
            ? reason
            : new ConnectionClosedError(this.#settings.target.origin, reason.message, reason),
        );
      }
    }
    inflight.length = 0;
    this.#owner.onConnectionClosed(this, reason, retry);
  }

  #canRetry(exchange: ClientExchange, responseBegun: boolean): boolean {
    if (exchange.retried || responseBegun || !this.connected) return false;
    const req = exchange.request;
    if (req.signal?.aborted) return false;
    return isIdempotentMethod(req.method) && (req.body === null || req.body.reusable);
  }
}
