/**
 * The client's HTTP/3 connection driver (RFC 9114): owns one node:dgram socket connected to the
 * server's UDP address, one sans-I/O {@link QuicConnection} in the client role (RFC 9000, RFC
 * 9001: ALPN `h3`, SNI and certificate verification against the client's CAs) and one
 * {@link H3Connection} in the client role on top of it, and carries many exchanges at once, one
 * request stream each (RFC 9114 §4.1). Datagrams go to `receiveDatagram`, the H3 core's
 * transport commands are applied to the QUIC core, and `pollDatagrams` is sent after every step.
 * Time is an input of the QUIC core: one wakeup timer per connection follows `nextTimeout()`.
 *
 * Requests map to the pseudo-header fields of RFC 9114 §4.3.1 (connection-specific fields
 * dropped, §4.2); bodies go out as DATA frames. Responses become {@link ClientResponse}s with
 * `httpVersion` `'3'`, their DATA feeds an `IncomingBody`, and trailers end it. Abort resets
 * the stream with H3_REQUEST_CANCELLED (§4.1.1) and leaves the others alone; a request rejected
 * by GOAWAY or H3_REQUEST_REJECTED (§4.1.1, §5.2) goes back to the pool once.
 *
 * Timeouts (connect and handshake, response head, body idle, idle connection) go on the timer
 * wheel with the same typed errors as HTTP/1.1 and HTTP/2. A connection that fails before its
 * handshake completes fails its requests with {@link ConnectError} or {@link ConnectTimeoutError}
 * (the signal for the Alt-Svc fallback to TCP, RFC 7838 §2.4).
 *
 * Backpressure (RFC 9000 §4.1, §4.2): the QUIC core runs with `manualCredit`, and a response
 * body's bytes are credited back (MAX_STREAM_DATA / MAX_DATA) only while its reader keeps up;
 * when the body pauses its source they are held until it resumes, so a slow reader stops the
 * server at the stream window. Limit today: the QUIC send queue is unbounded, so a streamed
 * request body is written as fast as it is produced.
 */
import { Buffer } from 'node:buffer';
import type { X509Certificate } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Headers } from '../core/headers.js';
import { IncomingBody } from '../core/incoming-body.js';
import { H3Connection, type H3Event } from '../h3/h3-connection.js';
import { H3ErrorCode } from '../h3/h3-error.js';
import {
  QuicConnection,
  type QuicConnectionEvent,
  type QuicConnectionLimits,
} from '../quic/quic-connection.js';
import type { TimerHandle, TimerWheel } from '../runtime/timer-wheel.js';
import {
  ClientError,
  ConnectError,
  ConnectionClosedError,
  ConnectTimeoutError,
  InvalidRequestError,
  RequestBodyError,
  ResponseParseError,
} from './client-errors.js';
import { type ClientExchange, type ExchangeCarrier, ExchangeState } from './client-exchange.js';
import { ClientResponse } from './client-response.js';
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

/** Settings shared by the HTTP/3 connections to one server. */
export interface H3ClientSettings {
  /** The origin the requests are for (`https://host:port`), for errors. */
  origin: string;
  /** The `:authority` of requests (RFC 9114 §4.3.1): the origin's host and port. */
  authority: string;
  /** Where to send datagrams: a host name or IP literal (no brackets), and a UDP port. */
  hostname: string;
  port: number;
  /** The name the certificate must match (the origin's host, RFC 7838 §2.1), sent as SNI unless an IP. */
  serverName: string;
  /** Trusted CA certificates. */
  trustAnchors: readonly X509Certificate[];
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
  /** Unread body bytes above which the body asks its source to pause. */
  highWaterMark: number;
  /** How long a connection without streams is kept, in ms. */
  idleTimeout: number;
  /** Limits of the QUIC core (windows, idle timeout). Default: the core's. */
  quic?: QuicConnectionLimits;
  /** The wheel every timeout goes on. */
  wheel: TimerWheel;
}

/** What an HTTP/3 connection tells its owner (the pool of its origin). */
export interface H3ConnectionOwner {
  /** The handshake completed, or a stream ended: the connection can take more exchanges. */
  onH3Ready(connection: H3ClientConnection): void;
  /** Exchanges that were not processed (GOAWAY, H3_REQUEST_REJECTED) and go back to the queue. */
  onH3Retry(connection: H3ClientConnection, exchanges: ClientExchange[]): void;
  /** The connection is gone; `retry` holds exchanges to send again (state Queued). */
  onH3Closed(connection: H3ClientConnection, reason: Error, retry: ClientExchange[] | undefined): void;
}

const Phase = { None: 0, Connect: 1, Idle: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const EMPTY = Buffer.alloc(0);

/** One exchange on one request stream. */
class H3ClientStream {
  readonly exchange: ClientExchange;
  readonly connection: H3ClientConnection;
  streamId = -1;
  timer: TimerHandle | undefined = undefined;
  phase: number = ResponseStreamPhase.Headers;
  trailers: string[] | undefined = undefined;
  /** The server asked us to stop sending (STOP_SENDING): the request body stops. */
  sendStopped = false;
  /** The reader is behind: stream bytes received are held instead of credited (RFC 9000 §4.2). */
  paused = false;
  /** Stream bytes received while paused, credited on resume. */
  held = 0;

  constructor(exchange: ClientExchange, connection: H3ClientConnection) {
    this.exchange = exchange;
    this.connection = connection;
  }
}

function connectionTimerFired(connection: H3ClientConnection): void {
  connection.onTimer();
}

function wakeTimerFired(connection: H3ClientConnection): void {
  connection.onWake();
}

function streamTimerFired(entry: H3ClientStream): void {
  entry.connection.onStreamTimer(entry);
}

/** Yields to the event loop, so that received datagrams (ACKs) are processed between writes. */
function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One HTTP/3 connection of a client pool. */
export class H3ClientConnection implements ExchangeCarrier {
  /** The handshake completed with ALPN h3. */
  connected = false;
  /** The connection is finished; it takes no more work. */
  closed = false;
  /** The server sent GOAWAY (or we are closing): no new streams. */
  draining = false;
  /** Exchanges sent on this connection so far. */
  sent = 0;

  readonly #owner: H3ConnectionOwner;
  readonly #settings: H3ClientSettings;
  readonly #h3 = new H3Connection({ role: 'client' });
  readonly #entries = new Map<ClientExchange, H3ClientStream>();
  readonly #streams = new Map<number, H3ClientStream>();
  #quic: QuicConnection | undefined = undefined;
  #socket: dgram.Socket | undefined = undefined;
  #sending = 0;
  #timer: TimerHandle | undefined = undefined;
  #wake: TimerHandle | undefined = undefined;
  #phase: Phase = Phase.None;
  #timeoutMs = 0;
  /** The next bidirectional stream id the QUIC core will open. */
  #nextQuicBidi = 0;
  #capacityFreed = false;
  #busy = false;
  #retry: ClientExchange[] | undefined = undefined;
  /** Set when the QUIC connection closed: the error to end with once the current step is over. */
  #closedWith: Error | undefined = undefined;

  constructor(owner: H3ConnectionOwner, settings: H3ClientSettings) {
    this.#owner = owner;
    this.#settings = settings;
  }

  /** Streams in flight. */
  get inflight(): number {
    return this.#entries.size;
  }

  /** True when another exchange may be sent now. */
  get hasCapacity(): boolean {
    return (
      this.connected &&
      !this.closed &&
      !this.draining &&
      !this.#h3.closed &&
      this.#h3.goawayReceived === -1 &&
      this.#quic!.canOpenStream(true)
    );
  }

  /** Starts connecting; the owner hears `onH3Ready` or `onH3Closed`. */
  connect(timeoutMs: number): void {
    this.#arm(Phase.Connect, timeoutMs);
    const host = this.#settings.hostname;
    const family = isIP(host);
    if (family !== 0) this.#open(host, family);
    else
      lookup(host).then(
        (a) => this.#open(a.address, a.family),
        (err: unknown) => this.destroy(new ConnectError(this.#settings.origin, err)),
      );
  }

  #open(address: string, family: number): void {
    if (this.closed) return;
    const settings = this.#settings;
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    this.#socket = socket;
    socket.on('error', this.#onSocketError);
    socket.on('message', this.#onMessage);
    socket.connect(settings.port, address, () => {
      if (this.closed) return;
      try {
        this.#quic = new QuicConnection({
          ...settings.quic,
          // Flow-control credit goes back as the response body is read, not as it arrives.
          manualCredit: true,
          role: 'client',
          tls: {
            serverName: settings.serverName,
            trustAnchors: settings.trustAnchors,
            now: Date.now(),
            alpnProtocols: ['h3'],
          },
        });
      } catch (err) {
        this.destroy(new ConnectError(settings.origin, err));
        return;
      }
      this.#flush();
    });
  }

  // -----------------------------------------------------------------------------------------
  // Socket and timer input

  #onMessage = (msg: Buffer): void => {
    const quic = this.#quic;
    if (quic === undefined || this.closed) return;
    this.#step(quic.receiveDatagram(msg, performance.now()));
  };

  /** @internal The QUIC core's timer is due. */
  onWake(): void {
    const quic = this.#quic;
    if (quic === undefined || this.closed) return;
    this.#step(quic.onTimeout(performance.now()));
  }

  #onSocketError = (err: Error): void => {
    if (this.closed) return;
    const origin = this.#settings.origin;
    this.destroy(
      this.connected
        ? new ConnectionClosedError(origin, `UDP socket error: ${err.message}`, err)
        : new ConnectError(origin, err),
    );
  };

  /** Handles the QUIC events of one input, sends what it caused, then tells the pool. */
  #step(events: QuicConnectionEvent[]): void {
    this.#busy = true;
    for (const e of events) this.#onQuicEvent(e);
    this.#busy = false;
    this.#flush();
    const closedWith = this.#closedWith;
    if (closedWith !== undefined) {
      this.destroy(closedWith);
      return;
    }
    this.#afterEvents();
  }

  #onQuicEvent(e: QuicConnectionEvent): void {
    const h3 = this.#h3;
    switch (e.type) {
      case 'handshake_complete':
        this.#onHandshake(e.alpn);
        break;
      case 'stream_data': {
        this.#onH3Events(h3.streamData(e.streamId, e.data, false));
        // Bytes of a body whose reader is behind are credited when it catches up (resumeFor).
        const entry = this.#streams.get(e.streamId);
        if (entry?.paused) entry.held += e.data.length;
        else this.#quic!.consumeStream(e.streamId, e.data.length);
        break;
      }
      case 'stream_end':
        this.#onH3Events(h3.streamData(e.streamId, EMPTY, true));
        break;
      case 'stream_reset':
        this.#onH3Events(h3.streamReset(e.streamId, Number(e.errorCode)));
        break;
      case 'stop_sending':
        this.#onH3Events(h3.stopSending(e.streamId, Number(e.errorCode)));
        break;
      case 'connection_closed': {
        if (this.#closedWith !== undefined) break;
        const origin = this.#settings.origin;
        const code = `${e.application ? 'application' : 'transport'} error 0x${e.errorCode.toString(16)}`;
        const what = e.reason === '' ? code : `${code}: ${e.reason}`;
        if (!this.connected) {
          this.#closedWith = new ConnectError(
            origin,
            new Error(
              `the QUIC handshake failed (${e.by === 'peer' ? 'closed by the server' : e.by}, ${what})`,
            ),
          );
        } else if (e.by === 'idle') {
          this.#closedWith = new ConnectionClosedError(
            origin,
            'the QUIC connection timed out (idle, RFC 9000 §10.1)',
          );
        } else if (e.by === 'peer') {
          this.#closedWith = new ConnectionClosedError(
            origin,
            `the server closed the QUIC connection (${what})`,
          );
        } else {
          this.#closedWith = new ConnectionClosedError(origin, `the QUIC connection was closed (${what})`);
        }
        break;
      }
    }
  }

  #onHandshake(alpn: string | undefined): void {
    const origin = this.#settings.origin;
    if (alpn !== 'h3') {
      // RFC 9114 §3.1: HTTP/3 is only spoken after ALPN selected h3.
      this.#quic!.close(0x178n, 'no_application_protocol', false);
      this.#closedWith = new ConnectError(
        origin,
        new Error(`the server did not select ALPN h3 (got ${alpn ?? 'none'})`),
      );
      return;
    }
    this.connected = true;
    this.#disarm();
    if (this.#entries.size === 0) this.#startIdle();
    this.#capacityFreed = true;
  }

  // -----------------------------------------------------------------------------------------
  // Sending

  /** Applies the H3 core's transport commands, then sends the datagrams the QUIC core has. */
  #flush(): void {
    const quic = this.#quic;
    const socket = this.#socket;
    if (quic === undefined || socket === undefined) return;
    if (this.connected) this.#runCommands(quic);
    for (const d of quic.pollDatagrams(performance.now())) {
      this.#sending++;
      socket.send(d, this.#onSent);
    }
    this.#schedule(quic);
  }

  #onSent = (): void => {
    this.#sending--;
    if (this.closed && this.#sending === 0) this.#closeSocket();
  };

  #runCommands(quic: QuicConnection): void {
    for (const cmd of this.#h3.takeCommands()) {
      try {
        switch (cmd.kind) {
          case 'openUni': {
            const id = quic.openStream(false);
            if (id !== cmd.streamId)
              throw new Error(`QUIC opened stream ${id} for HTTP/3 stream ${cmd.streamId}`);
            break;
          }
          case 'write':
            // A bidirectional stream opens on its first write (the cores number them alike).
            while ((cmd.streamId & 3) === 0 && cmd.streamId >= this.#nextQuicBidi) {
              quic.openStream(true);
              this.#nextQuicBidi += 4;
            }
            quic.writeStream(cmd.streamId, cmd.bytes, cmd.fin);
            break;
          case 'reset':
            quic.resetStream(cmd.streamId, BigInt(cmd.code));
            break;
          case 'stopSending':
            quic.stopSending(cmd.streamId, BigInt(cmd.code));
            break;
          case 'close':
            quic.close(BigInt(cmd.code), cmd.reason);
            break;
        }
      } catch (err) {
        // A request stream the server already closed in that direction: nothing to do.
        if (
          (cmd.kind === 'write' || cmd.kind === 'reset' || cmd.kind === 'stopSending') &&
          (cmd.streamId & 2) === 0
        )
          continue;
        quic.close(BigInt(H3ErrorCode.H3_INTERNAL_ERROR), String(err));
        this.#closedWith ??= new ConnectionClosedError(
          this.#settings.origin,
          `HTTP/3 internal error: ${String(err)}`,
          err,
        );
      }
    }
  }

  /** One wakeup timer per connection, at the QUIC core's `nextTimeout()`. */
  #schedule(quic: QuicConnection): void {
    const at = quic.nextTimeout();
    if (at === undefined) {
      this.#wake?.cancel();
      return;
    }
    const delay = Math.max(0, at - performance.now());
    if (this.#wake === undefined) this.#wake = this.#settings.wheel.schedule(delay, wakeTimerFired, this);
    else this.#settings.wheel.reschedule(this.#wake, delay);
  }

  /** Sends `exchange` on a new request stream. The caller checked {@link hasCapacity}. */
  send(exchange: ClientExchange): void {
    const settings = this.#settings;
    const req = exchange.request;
    const body = req.body;
    const entry = new H3ClientStream(exchange, this);
    exchange.state = ExchangeState.Sent;
    exchange.carrier = this;
    this.sent++;
    if (this.#phase === Phase.Idle) this.#disarm();
    const fields = multiplexedRequestFields(req, 'https', settings.authority);
    const noBody = body === null || (body.bytes !== undefined && body.bytes.length === 0);
    let id: number;
    try {
      if (noBody) id = this.#h3.sendRequest(fields);
      else if (body.bytes !== undefined) id = this.#h3.sendRequest(fields, body.bytes);
      else id = this.#h3.sendRequest(fields, undefined, { endStream: false });
    } catch (err) {
      exchange.fail(new InvalidRequestError((err as Error).message, settings.origin, err));
      this.#capacityFreed = true;
      if (!this.#busy) queueMicrotask(this.#deferredAfterEvents);
      return;
    }
    entry.streamId = id;
    this.#entries.set(exchange, entry);
    this.#streams.set(id, entry);
    this.#armStream(entry, req.headersTimeout);
    if (!noBody && body.bytes === undefined) void this.#writeStreamBody(entry, body);
    if (!this.#busy) this.#flush();
  }

  async #writeStreamBody(entry: H3ClientStream, body: RequestBody): Promise<void> {
    const exchange = entry.exchange;
    const id = entry.streamId;
    let sent = 0;
    try {
      for await (const piece of body.open()) {
        if (this.closed || exchange.done || entry.sendStopped) return;
        const bytes = requestBodyChunk(piece);
        if (bytes.length === 0) continue;
        sent += bytes.length;
        if (body.length >= 0 && sent > body.length)
          throw new Error(`the body is longer than its declared ${body.length} bytes`);
        this.#h3.sendData(id, bytes, false);
        this.#flush();
        await yieldToIo();
      }
      if (this.closed || exchange.done || entry.sendStopped) return;
      if (body.length >= 0 && sent !== body.length)
        throw new Error(`the body ended after ${sent} of its declared ${body.length} bytes`);
      this.#h3.endStream(id);
      this.#flush();
    } catch (err) {
      if (exchange.done || this.closed) return;
      this.#failStream(entry, new RequestBodyError(this.#settings.origin, err));
      this.#afterEvents();
    }
  }

  // -----------------------------------------------------------------------------------------
  // HTTP/3 events

  #onH3Events(events: H3Event[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'headers': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined && !e.informational) this.#onHeaders(entry, e.fields, e.trailers);
          break;
        }
        case 'data': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined) this.#onData(entry, e.data);
          break;
        }
        case 'end': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined) this.#onEnd(entry);
          break;
        }
        case 'streamReset': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined) this.#onReset(entry, e.code, 'server');
          break;
        }
        case 'stopSending': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined) entry.sendStopped = true;
          break;
        }
        case 'streamError': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined)
            this.#failStream(entry, new ResponseParseError(this.#settings.origin, e.error));
          break;
        }
        case 'requestRejected': {
          const entry = this.#streams.get(e.streamId);
          if (entry !== undefined) this.#onReset(entry, H3ErrorCode.H3_REQUEST_REJECTED, 'server');
          break;
        }
        case 'goaway':
          // RFC 9114 §5.2: the requests below the id complete; no new ones here.
          this.draining = true;
          this.#capacityFreed = true;
          break;
        case 'connectionError':
          this.#closedWith ??= new ConnectionClosedError(
            this.#settings.origin,
            `HTTP/3 error: ${e.error.message}`,
            e.error,
          );
          break;
        case 'settings':
          break;
      }
    }
  }

  #onHeaders(entry: H3ClientStream, fields: string[], trailers: boolean): void {
    const exchange = entry.exchange;
    if (exchange.done) return;
    if (trailers) {
      entry.trailers = responseTrailerFields(fields);
      return;
    }
    const list: string[] = [];
    const status = responseHeadFields(fields, list);
    const settings = this.#settings;
    const req = exchange.request;
    const body = new IncomingBody({
      limit: settings.maxResponseBytes,
      highWaterMark: settings.highWaterMark,
      source: exchange,
    });
    entry.phase = ResponseStreamPhase.Body;
    const response = new ClientResponse(
      status,
      '',
      Headers.fromFlat(list, { trusted: true }),
      body,
      req.url.href,
      '3',
    );
    exchange.respond(response);
    this.#armStream(entry, req.bodyTimeout);
  }

  #onData(entry: H3ClientStream, data: Buffer): void {
    const exchange = entry.exchange;
    if (exchange.state !== ExchangeState.Streaming || data.length === 0) return;
    if (!exchange.body!.push(data)) {
      // Over the size limit, or the reader gave up: stop this stream only.
      this.#failStream(
        entry,
        new ConnectionClosedError(this.#settings.origin, 'the response body was refused'),
      );
      return;
    }
    if (entry.timer?.pending) entry.timer.refresh();
  }

  #onEnd(entry: H3ClientStream): void {
    const exchange = entry.exchange;
    this.#forget(entry);
    if (exchange.state === ExchangeState.Streaming) exchange.finish(entry.trailers);
    else
      exchange.fail(
        new ResponseParseError(this.#settings.origin, new Error('the stream ended without a response')),
      );
  }

  #onReset(entry: H3ClientStream, code: number, by: string): void {
    const exchange = entry.exchange;
    this.#forget(entry);
    if (exchange.done) return;
    // RFC 9114 §4.1.1, §5.2: a rejected request was not processed; it may go again, once.
    if (code === H3ErrorCode.H3_REQUEST_REJECTED && isRefusedStreamRetryable(exchange)) {
      this.#retry = requeueExchange(exchange, this.#retry);
      return;
    }
    exchange.fail(
      new ConnectionClosedError(
        this.#settings.origin,
        `the stream was reset by the ${by} (HTTP/3 error code 0x${code.toString(16)})`,
      ),
    );
  }

  /** The exchange no longer needs its stream. */
  #forget(entry: H3ClientStream): void {
    entry.timer?.cancel();
    // Nothing more is read from this stream: the credit of what it holds goes back (RFC 9000 §4.2).
    entry.paused = false;
    entry.held = 0;
    this.#quic?.consumeStream(entry.streamId, Number.POSITIVE_INFINITY);
    if (this.#entries.get(entry.exchange) === entry) this.#entries.delete(entry.exchange);
    this.#streams.delete(entry.streamId);
    this.#capacityFreed = true;
  }

  #failStream(entry: H3ClientStream, error: Error): void {
    entry.exchange.fail(error);
    this.#reset(entry);
  }

  /** Abandons a request stream both ways with H3_REQUEST_CANCELLED (RFC 9114 §4.1.1). */
  #reset(entry: H3ClientStream): void {
    this.#forget(entry);
    if (this.closed || this.#h3.closed) return;
    this.#h3.resetStream(entry.streamId, H3ErrorCode.H3_REQUEST_CANCELLED);
    if (!this.#busy) this.#flush();
  }

  #deferredAfterEvents = (): void => {
    this.#afterEvents();
  };

  /** Tells the pool, outside the cores' events, about retries and freed capacity. */
  #afterEvents(): void {
    if (this.closed) return;
    const retry = this.#retry;
    if (retry !== undefined) {
      this.#retry = undefined;
      this.#owner.onH3Retry(this, retry);
    }
    if (this.closed) return;
    if (this.draining && this.#entries.size === 0) {
      this.close();
      return;
    }
    if (this.#capacityFreed && this.connected) {
      this.#capacityFreed = false;
      if (this.#entries.size === 0) this.#startIdle();
      this.#owner.onH3Ready(this);
    }
  }

  // -----------------------------------------------------------------------------------------
  // ExchangeCarrier

  abortExchange(exchange: ClientExchange, reason: Error): void {
    void reason;
    const entry = this.#entries.get(exchange);
    if (entry === undefined || this.closed) return;
    this.#reset(entry);
    if (!this.#busy) this.#afterEvents();
  }

  pauseFor(exchange: ClientExchange): void {
    // Received bytes are held instead of credited (MAX_STREAM_DATA / MAX_DATA), so the server
    // stops at the window.
    const entry = this.#entries.get(exchange);
    if (entry !== undefined) pauseResponseStream(entry);
  }

  resumeFor(exchange: ClientExchange): void {
    const entry = this.#entries.get(exchange);
    if (entry === undefined || !entry.paused) return;
    const held = resumeResponseStream(entry);
    if (held > 0 && this.#quic !== undefined && !this.closed) {
      this.#quic.consumeStream(entry.streamId, held);
      if (!this.#busy) this.#flush();
    }
    if (entry.phase === ResponseStreamPhase.Body) this.#armStream(entry, exchange.request.bodyTimeout);
  }

  // -----------------------------------------------------------------------------------------
  // Timers

  #armStream(entry: H3ClientStream, ms: number): void {
    armResponseStreamTimer(this.#settings.wheel, entry, ms, streamTimerFired);
  }

  /** @internal A stream's head or body timeout fired. */
  onStreamTimer(entry: H3ClientStream): void {
    const exchange = entry.exchange;
    if (exchange.done || this.closed) return;
    this.#failStream(entry, responseStreamTimeoutError(this.#settings.origin, exchange.request, entry.phase));
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
    if (this.#timer === undefined)
      this.#timer = this.#settings.wheel.schedule(timeoutMs, connectionTimerFired, this);
    else this.#settings.wheel.reschedule(this.#timer, timeoutMs);
  }

  #disarm(): void {
    this.#phase = Phase.None;
    this.#timer?.cancel();
  }

  /** @internal The wheel fired the connection's timer. */
  onTimer(): void {
    if (this.closed) return;
    if (this.#phase === Phase.Connect) {
      this.destroy(new ConnectTimeoutError(this.#settings.origin, this.#timeoutMs));
    } else if (this.#phase === Phase.Idle && this.#entries.size === 0) {
      this.close();
    }
  }

  // -----------------------------------------------------------------------------------------
  // Ending

  /** Graceful close: CONNECTION_CLOSE with H3_NO_ERROR (RFC 9114 §5.2). */
  close(): void {
    if (this.closed) return;
    if (this.connected && !this.#h3.closed) {
      this.#h3.close(H3ErrorCode.H3_NO_ERROR);
      this.#flush();
    }
    this.destroy(new ConnectionClosedError(this.#settings.origin, 'the connection was closed by the client'));
  }

  /**
   * Ends the connection now. Requests that never got a response are handed back for one retry
   * when that is safe; the others fail with `reason`.
   */
  destroy(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#disarm();
    this.#wake?.cancel();
    const quic = this.#quic;
    if (quic !== undefined && this.#socket !== undefined) {
      // Tell the server, unless it or the idle timer ended the connection already.
      if (quic.state === 'handshake' || quic.state === 'established') {
        if (this.connected && !this.#h3.closed) this.#h3.close(H3ErrorCode.H3_NO_ERROR);
        if (this.connected) this.#runCommands(quic);
        quic.close(BigInt(H3ErrorCode.H3_NO_ERROR), '');
      }
      for (const d of quic.pollDatagrams(performance.now())) {
        this.#sending++;
        this.#socket.send(d, this.#onSent);
      }
    }
    if (this.#sending === 0) this.#closeSocket();
    let retry = this.#retry;
    this.#retry = undefined;
    const origin = this.#settings.origin;
    for (const entry of this.#entries.values()) {
      entry.timer?.cancel();
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
    this.#streams.clear();
    this.#owner.onH3Closed(this, reason, retry);
  }

  #closeSocket(): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    socket.off('message', this.#onMessage);
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
}
