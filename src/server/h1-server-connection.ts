/**
 * The HTTP/1.1 server driver: owns one socket and one `H1Parser`, turns parsed requests into
 * protocol-neutral `Request`s, runs them through the app, and writes the responses back in
 * request order (pipelining, RFC 9112 §9.3.2). It applies backpressure both ways, every
 * timeout of the connection (on the project's TimerWheel), `Expect: 100-continue`
 * (RFC 9110 §10.1.1), and closes the connection whenever the byte stream can no longer be
 * trusted (RFC 9112 §9.6, §11).
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isHostValue } from '../core/char-classes.js';
import { AvxError } from '../core/errors.js';
import { Headers } from '../core/headers.js';
import { type BodySource, IncomingBody } from '../core/incoming-body.js';
import { H1ParseError } from '../h1/h1-parse-error.js';
import { H1Parser } from '../h1/h1-parser.js';
import type { H1ParserHandler, H1RequestHead } from '../h1/h1-types.js';
import type { TimerHandle } from '../runtime/timer-wheel.js';
import type { App } from './app.js';
import { appFields, dateLine, statusLine } from './h1-response-head.js';
import { Request } from './request.js';
import { closeStreamBody, type HandlerResult, isStreamBody, Response } from './response.js';
import type { ServerConfig } from './server-config.js';
import {
  connectionCloseChannel,
  connectionOpenChannel,
  requestStartChannel,
  responseFinishChannel,
} from './server-diagnostics.js';
import type { UpgradeHandler, UpgradeRegistry } from './upgrade.js';

/** The client went away before its response was complete. */
export class ClientGoneError extends AvxError {
  constructor() {
    super('AVX_CLIENT_GONE', 'the client closed the connection');
  }
}

/**
 * A request's Host field breaks RFC 9112 §3.2: an HTTP/1.1 request without one, a request with
 * more than one Host field line, or a value that is no `uri-host [ ":" port ]` (RFC 9110 §7.2).
 * The server answers 400 and closes the connection.
 */
export class HostFieldError extends AvxError {
  declare readonly code: 'AVX_H1_MISSING_HOST' | 'AVX_H1_DUPLICATE_HOST' | 'AVX_H1_INVALID_HOST';
  /** The status the server answers with. */
  readonly status = 400;

  constructor(code: HostFieldError['code'], message: string) {
    super(code, message);
  }
}

/** One request and its response, in connection order. */
interface Exchange {
  req: Request;
  /** The connection may carry another request after this exchange. */
  keepAlive: boolean;
  head: boolean;
  /** The handler's result has arrived. */
  ready: boolean;
  result: HandlerResult;
  /** The request still has body bytes in flight and they are to be dropped. */
  discardBody: boolean;
  /** A 100 Continue is owed before the body is read. */
  expectContinue: boolean;
  /** The response of a request we could not parse: sent, then the connection closes. */
  parseError: boolean;
  /** Status and body bytes written, for the response:finish event. */
  status: number;
  bytes: number;
}

const enum Phase {
  None,
  /** Waiting for the next request on a kept-alive connection. */
  Idle,
  /** Receiving a request head (slowloris guard). */
  Headers,
  /** Receiving a request body. */
  Body,
}

// Reasons to stop reading the socket, as bits: any set bit keeps it paused.
const PAUSE_BODY = 1; // a request body's reader is behind
const PAUSE_WRITE = 2; // the socket's write buffer is full (the client is not reading)
const PAUSE_PIPELINE = 4; // too many requests queued unanswered
const PAUSE_DONE = 8; // no more requests will be read (error, upgrade, close)

const CRLF = '\r\n';
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const TEXT_TYPE = 'Content-Type: text/plain; charset=utf-8\r\n';
const JSON_TYPE = 'Content-Type: application/json; charset=utf-8\r\n';
const BYTES_TYPE = 'Content-Type: application/octet-stream\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/** An HTTP/1.1 connection on the server side. */
export class H1ServerConnection implements H1ParserHandler<H1RequestHead>, BodySource {
  /** Called once when the connection has closed. */
  onClose: ((conn: H1ServerConnection) => void) | undefined;
  /** Takes over a socket whose client sent the HTTP/2 preface (h2c prior knowledge). */
  onHttp2: ((socket: Socket, head: Buffer) => void) | undefined;

  private readonly socket: Socket;
  private readonly app: App;
  private readonly config: ServerConfig;
  private readonly parser: H1Parser<H1RequestHead>;
  /** Connection facts every Request of this connection shares. */
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;

  private readonly queue: Exchange[] = [];
  private receiving: Exchange | undefined;
  private requestCount = 0;
  private writing = false;
  private pauseBits = 0;
  private closing = false;
  private closed = false;
  private phase = Phase.None;
  private timer: TimerHandle | undefined;

  /** An upgrade waiting for the parser to hand over the bytes that follow its request. */
  private pendingUpgrade: { ex: Exchange; handler: UpgradeHandler } | undefined;
  private readonly upgrades: UpgradeRegistry | undefined;

  constructor(socket: Socket, app: App, config: ServerConfig, secure: boolean, upgrades?: UpgradeRegistry) {
    this.socket = socket;
    this.app = app;
    this.config = config;
    this.secure = secure;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.parser = new H1Parser<H1RequestHead>('request', this, config.parser);
    socket.setNoDelay(true);
    socket.on('data', this.onData.bind(this));
    socket.on('drain', this.onDrain.bind(this));
    socket.on('end', this.onEnd.bind(this));
    socket.on('error', this.onSocketError.bind(this));
    socket.on('close', this.onSocketClose.bind(this));
    this.upgrades = upgrades;
    this.setPhase(Phase.Headers);
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({ socket, protocol: 'http/1.1', secure });
    }
  }

  /** True when no request is in progress: the connection may be closed without losing work. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.parser.inMessage;
  }

  /** Graceful shutdown: finish what is in flight, then close; close now when idle. */
  shutdown(): void {
    this.closing = true;
    if (this.idle) this.socket.end();
  }

  /** Close at once. */
  destroy(): void {
    this.socket.destroy();
  }

  // ---------------------------------------------------------------------------------------------
  // Socket events

  private onData(chunk: Buffer): void {
    if (this.pauseBits & PAUSE_DONE) return;
    let consumed: number;
    try {
      consumed = this.parser.execute(chunk);
    } catch (err) {
      this.onParseError(err);
      return;
    }
    if (this.parser.upgraded && this.parser.http2Preface) {
      // h2c with prior knowledge (RFC 9113 §3.3): the rest of the bytes are HTTP/2.
      this.handOverHttp2(chunk.subarray(consumed));
      return;
    }
    if (this.pendingUpgrade !== undefined && this.parser.upgraded) {
      this.handOver(chunk.subarray(consumed));
      return;
    }
    if (this.parser.upgraded) {
      // Upgrade and CONNECT: the app answered (or will answer) the request normally; the
      // connection cannot carry HTTP/1.1 after it, so it closes once that response is out.
      this.stopReading();
      for (const ex of this.queue) ex.keepAlive = false;
    }
    // A head that has started but not finished is under the header timeout (slowloris).
    if (this.receiving === undefined && this.parser.inMessage && this.phase !== Phase.Headers) {
      this.setPhase(Phase.Headers);
    }
  }

  private onDrain(): void {
    this.unpause(PAUSE_WRITE);
  }

  private onEnd(): void {
    // The client half-closed. Finish answering what it sent, then close.
    try {
      this.parser.finish();
    } catch {
      // A request cut short: nothing more to answer for it.
      if (this.receiving !== undefined) this.receiving.req.markAborted(new ClientGoneError());
    }
    this.closing = true;
    if (this.queue.length === 0) this.socket.end();
  }

  private onSocketError(): void {
    // 'close' follows; nothing to do but keep the error from being thrown.
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.setPhase(Phase.None);
    const gone = new ClientGoneError();
    for (const ex of this.queue) ex.req.markAborted(gone);
    this.queue.length = 0;
    this.receiving = undefined;
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({ socket: this.socket, protocol: 'http/1.1' });
    }
    this.onClose?.(this);
  }

  // ---------------------------------------------------------------------------------------------
  // Parser events

  onHead(head: H1RequestHead): void {
    // RFC 9112 §3.2. Nearly every request has one Host, the same as the one before (the parser
    // hands out the same string for repeated bytes), so the common case is two comparisons.
    if (head.hostCount !== 1 || head.host !== lastValidHost) this.checkHost(head);
    this.requestCount++;
    const hasBody = head.contentLength > 0 || head.chunked;
    const body = hasBody
      ? new IncomingBody({
          limit: this.app.bodyLimit,
          source: this,
          expectedLength: head.contentLength > 0 ? head.contentLength : undefined,
        })
      : IncomingBody.empty();
    const req = new Request({
      method: head.method,
      target: head.url,
      headers: Headers.fromFlat(head.headers, { trusted: true }),
      body,
      protocol: head.versionMinor === 0 ? 'http/1.0' : 'http/1.1',
      connection: this,
    });
    const maxRequests = this.config.maxRequestsPerConnection;
    const ex: Exchange = {
      req,
      // After an Upgrade or CONNECT the parser hands the bytes over, so no request follows.
      keepAlive:
        head.keepAlive &&
        !head.upgrade &&
        !this.closing &&
        (maxRequests === 0 || this.requestCount < maxRequests),
      head: head.method === 'HEAD',
      ready: false,
      result: undefined,
      discardBody: false,
      expectContinue: hasBody && head.expectContinue,
      parseError: false,
      status: 0,
      bytes: -1,
    };
    this.queue.push(ex);
    if (hasBody) {
      this.receiving = ex;
      this.setPhase(Phase.Body);
    } else {
      this.setPhase(Phase.None);
    }
    if (this.queue.length > this.config.maxPipelinedRequests) this.pause(PAUSE_PIPELINE);

    if (head.versionMajor !== 1 || head.protocol !== 'HTTP') {
      // RFC 9110 §15.6.6: only HTTP/1.x is spoken over this framing.
      ex.keepAlive = false;
      this.settle(ex, errorResponse(505, 'HTTP Version Not Supported'));
      return;
    }
    if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ request: req });
    if (head.upgrade && head.method !== 'CONNECT' && this.queue.length === 1) {
      const handler = this.app.upgradeHandlerFor(req.headers.get('upgrade') ?? '');
      if (handler !== undefined) {
        // The parser stops after this message; `onData` hands the socket over then.
        this.pendingUpgrade = { ex, handler };
        return;
      }
    }
    if (ex.expectContinue && this.queue.length === 1) this.sendContinue(ex);

    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.app.dispatch(req);
    } catch (err) {
      result = errorResponse(500, String(err));
    }
    if (result instanceof Promise) {
      result.then((value) => this.settle(ex, value));
    } else {
      this.settle(ex, result);
    }
  }

  /**
   * RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
   * request message that lacks a Host header field and to any request message that contains
   * more than one Host header field line or a Host header field with an invalid field value."
   * Throws {@link HostFieldError}; thrown from `onHead`, it stops the parser (no later request
   * of the same bytes is dispatched) and reaches `onData`, which answers 400 and closes, as for
   * a parse error. Versions other than HTTP/1.x are left to the 505 in `onHead`.
   */
  private checkHost(head: H1RequestHead): void {
    if (head.versionMajor !== 1 || head.protocol !== 'HTTP') return;
    const count = head.hostCount;
    if (count > 1) {
      throw new HostFieldError(
        'AVX_H1_DUPLICATE_HOST',
        `${count} Host field lines: a request must have one (RFC 9112 §3.2)`,
      );
    }
    if (count === 0) {
      // HTTP/1.0 predates Host; `requireHostHeader: false` admits 1.1 clients that omit it.
      if (head.versionMinor >= 1 && this.config.requireHostHeader) {
        throw new HostFieldError(
          'AVX_H1_MISSING_HOST',
          'an HTTP/1.1 request must have a Host header field (RFC 9112 §3.2)',
        );
      }
      return;
    }
    const host = head.host;
    // The value is client input: the message does not repeat it.
    if (!isHostValue(host)) {
      throw new HostFieldError(
        'AVX_H1_INVALID_HOST',
        'the Host value is not uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2)',
      );
    }
    lastValidHost = host;
  }

  onBody(chunk: Buffer): void {
    const ex = this.receiving;
    if (ex === undefined || ex.discardBody) return;
    if (!ex.req.receivedBody.push(chunk)) {
      // Over the body limit (or the reader gave up): the rest of this body is dropped and the
      // connection closes after the response, since we will not read the remainder.
      ex.discardBody = true;
      ex.keepAlive = false;
    }
  }

  onTrailers(trailers: string[]): void {
    const ex = this.receiving;
    if (ex !== undefined && !ex.discardBody) ex.req.receivedBody.trailers = trailers;
  }

  onMessageComplete(): void {
    const ex = this.receiving;
    if (ex !== undefined) {
      this.receiving = undefined;
      ex.req.receivedBody.end(ex.req.receivedBody.trailers);
      this.setPhase(Phase.None);
    }
    if (!this.closing && this.queue.length === 0 && !this.parser.upgraded) this.setPhase(Phase.Idle);
  }

  /**
   * Ends this connection's use of the socket without closing it: HTTP/1.1 is over, another
   * protocol takes the socket. Returns the socket.
   */
  private detach(): Socket {
    const socket = this.socket;
    this.setPhase(Phase.None);
    this.closed = true;
    for (const event of ['data', 'drain', 'end', 'close', 'error']) socket.removeAllListeners(event);
    socket.on('error', () => {});
    if (this.pauseBits !== 0) socket.resume();
    this.queue.length = 0;
    return socket;
  }

  /** Detaches the socket from HTTP/1.1 and gives it, with the bytes after the preface, to HTTP/2. */
  private handOverHttp2(rest: Buffer): void {
    const socket = this.detach();
    const onHttp2 = this.onHttp2;
    if (onHttp2 === undefined) socket.destroy();
    else onHttp2(socket, rest);
    this.onClose?.(this);
  }

  /** Detaches the socket from HTTP/1.1 and gives it to the upgrade handler. */
  private handOver(rest: Buffer): void {
    const { ex, handler } = this.pendingUpgrade!;
    this.pendingUpgrade = undefined;
    const socket = this.detach();
    this.onClose?.(this);
    const onShutdown = this.upgrades?.adopt(socket) ?? (() => {});
    let result: ReturnType<UpgradeHandler>;
    try {
      result = handler({ req: ex.req, socket, head: rest, onShutdown });
    } catch (err) {
      result = errorResponse(500, String(err));
    }
    const decline = (value: unknown) => {
      if (value === undefined || socket.destroyed) return;
      // The handler refused: answer over the raw socket and close.
      const res = value instanceof Response ? value : errorResponse(400, 'Bad Request');
      const body = typeof res.body === 'string' ? res.body : '';
      const fields = res.hasHeaders ? appFields(res.headers).lines : '';
      socket.end(
        `${statusLine(res.status, res.statusText)}${fields}${dateLine()}Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (result instanceof Promise) result.then(decline, () => socket.destroy());
    else decline(result);
  }

  // ---------------------------------------------------------------------------------------------
  // BodySource: a request body's reader drives reading of the socket.

  pause(bit: number = PAUSE_BODY): void {
    if (this.pauseBits === 0) this.socket.pause();
    this.pauseBits |= bit;
  }

  resume(): void {
    this.unpause(PAUSE_BODY);
  }

  abandon(): void {
    const ex = this.receiving;
    if (ex !== undefined) {
      ex.discardBody = true;
      this.unpause(PAUSE_BODY);
    }
  }

  private unpause(bit: number): void {
    if ((this.pauseBits & bit) === 0) return;
    this.pauseBits &= ~bit;
    if (this.pauseBits === 0 && !this.closed) this.socket.resume();
  }

  private stopReading(): void {
    this.pause(PAUSE_DONE);
  }

  // ---------------------------------------------------------------------------------------------
  // Responses, in request order

  private settle(ex: Exchange, result: HandlerResult): void {
    ex.result = result;
    ex.ready = true;
    if (this.queue[0] === ex && !this.writing) this.flush();
  }

  private flush(): void {
    while (!this.writing && this.queue.length > 0 && !this.closed) {
      const ex = this.queue[0];
      if (!ex.ready) {
        if (ex.expectContinue) this.sendContinue(ex);
        return;
      }
      const done = this.write(ex);
      if (!done) return; // a streamed body: `finishStream` resumes the flush
      this.finishExchange(ex);
    }
  }

  private finishExchange(ex: Exchange): void {
    this.queue.shift();
    if (responseFinishChannel.hasSubscribers) {
      responseFinishChannel.publish({ request: ex.req, status: ex.status, bytes: ex.bytes });
    }
    // One clock reading for the finish observers and the idle timer armed below.
    let finishedAt: number | undefined;
    if (this.app.observesFinish) {
      finishedAt = performance.now();
      this.app.responseFinished(ex.req, ex.status, ex.bytes, finishedAt);
    }
    if (this.queue.length <= this.config.maxPipelinedRequests) this.unpause(PAUSE_PIPELINE);
    if (this.receiving === ex) {
      // Answered before its body arrived in full: drop the rest, keep framing.
      ex.discardBody = true;
      if (!ex.req.receivedBody.settled)
        ex.req.receivedBody.fail(new AvxError('AVX_RESPONSE_SENT', 'the response was already sent'));
      this.unpause(PAUSE_BODY);
    }
    if (!ex.keepAlive || ex.parseError) {
      this.stopReading();
      this.socket.end();
      this.setPhase(Phase.None);
      this.queue.length = 0;
      return;
    }
    if (this.closing && this.queue.length === 0 && !this.parser.inMessage) {
      this.socket.end();
      return;
    }
    if (this.queue.length === 0 && this.receiving === undefined && !this.parser.inMessage) {
      this.setPhase(Phase.Idle, finishedAt);
    }
  }

  private sendContinue(ex: Exchange): void {
    ex.expectContinue = false;
    if (!ex.req.receivedBody.used && !ex.ready) this.socket.write(CONTINUE, 'latin1');
  }

  /** Writes the response of `ex`; returns false when a body is still streaming. */
  private write(ex: Exchange): boolean {
    const result = ex.result;
    ex.status =
      result instanceof Response ? result.status : result === null || result === undefined ? 204 : 200;
    ex.bytes = 0;
    const closeAfter = !ex.keepAlive || this.closing;
    if (closeAfter) ex.keepAlive = false;
    const connection = closeAfter
      ? 'Connection: close\r\n'
      : ex.req.protocol === 'http/1.0'
        ? 'Connection: keep-alive\r\n'
        : '';
    // Plain values skip the Response object entirely.
    if (typeof result === 'string') {
      ex.bytes = this.writeBuffered(
        statusLine(200, undefined) + TEXT_TYPE + dateLine() + this.config.altSvcLine + connection,
        result,
        ex.head,
      );
      return true;
    }
    if (!(result instanceof Response)) {
      if (result === null || result === undefined) {
        this.writeHead(
          `${statusLine(204, undefined)}${dateLine()}${this.config.altSvcLine}${connection}\r\n`,
        );
        return true;
      }
      if (result instanceof Uint8Array) {
        ex.bytes = this.writeBuffered(
          statusLine(200, undefined) + BYTES_TYPE + dateLine() + this.config.altSvcLine + connection,
          result,
          ex.head,
        );
        return true;
      }
      if (typeof result === 'object' && isStreamBody(result)) {
        return this.writeStream(
          ex,
          `${statusLine(200, undefined)}${BYTES_TYPE}${dateLine()}${this.config.altSvcLine}`,
          -1,
          result,
        );
      }
      ex.bytes = this.writeBuffered(
        statusLine(200, undefined) + JSON_TYPE + dateLine() + this.config.altSvcLine + connection,
        JSON.stringify(result),
        ex.head,
      );
      return true;
    }

    const res = result;
    let status = res.status;
    if (!Number.isInteger(status) || status < 100 || status > 999) status = 500;
    let head = statusLine(status, res.statusText);
    let appLength = -1;
    if (res.hasHeaders) {
      const fields = appFields(res.headers);
      head += fields.lines;
      if (fields.close) ex.keepAlive = false;
      if (!fields.hasDate) head += dateLine();
      const altSvcLine = this.config.altSvcLine;
      if (altSvcLine !== '' && !res.headers.has('alt-svc')) head += altSvcLine;
      appLength = fields.contentLength;
    } else {
      head += dateLine() + this.config.altSvcLine;
    }
    const conn = ex.keepAlive ? connection : 'Connection: close\r\n';
    const body = res.body;
    // RFC 9110 §6.4.1: 1xx, 204 and 304 responses never have content.
    if (status < 200 || status === 204 || status === 304) {
      this.writeHead(`${head}${conn}\r\n`);
      return true;
    }
    if (body === null) {
      // A HEAD response may state the length the GET would have had (RFC 9110 §9.3.2).
      const length = ex.head && appLength >= 0 ? appLength : 0;
      this.writeHead(`${head}${conn}Content-Length: ${length}\r\n\r\n`);
      return true;
    }
    if (typeof body === 'string' || body instanceof Uint8Array) {
      ex.bytes = this.writeBuffered(head + conn, body, ex.head);
      return true;
    }
    if (ex.head) {
      // A HEAD response: the fields only; stop the body the handler made.
      closeStreamBody(body);
      this.writeHead(`${head}${conn}${appLength >= 0 ? `Content-Length: ${appLength}\r\n` : ''}\r\n`);
      return true;
    }
    return this.writeStream(ex, head, appLength, body as AsyncIterable<Uint8Array | string>);
  }

  private writeHead(head: string): void {
    if (!this.socket.write(head, 'latin1')) this.pause(PAUSE_WRITE);
  }

  /** A head plus a body of known length, in one write when possible. */
  private writeBuffered(head: string, body: string | Uint8Array, isHead: boolean): number {
    const socket = this.socket;
    let ok: boolean;
    if (typeof body === 'string') {
      const length = Buffer.byteLength(body);
      const prefix = `${head}Content-Length: ${length}\r\n\r\n`;
      if (isHead) ok = socket.write(prefix, 'latin1');
      else if (length === body.length)
        ok = socket.write(prefix + body, 'latin1'); // ASCII: one string
      else {
        const buf = Buffer.allocUnsafe(prefix.length + length);
        buf.write(prefix, 0, 'latin1');
        buf.write(body, prefix.length, 'utf8');
        ok = socket.write(buf);
      }
    } else {
      const prefix = `${head}Content-Length: ${body.byteLength}\r\n\r\n`;
      if (isHead || body.byteLength === 0) ok = socket.write(prefix, 'latin1');
      else if (body.byteLength <= 16384) {
        const buf = Buffer.allocUnsafe(prefix.length + body.byteLength);
        buf.write(prefix, 0, 'latin1');
        buf.set(body, prefix.length);
        ok = socket.write(buf);
      } else {
        socket.cork();
        socket.write(prefix, 'latin1');
        ok = socket.write(body);
        socket.uncork();
      }
    }
    if (!ok) this.pause(PAUSE_WRITE);
    return isHead ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  }

  /**
   * A streamed body: with the application's Content-Length as is, else chunked (HTTP/1.1) or
   * delimited by closing the connection (HTTP/1.0). Waits for 'drain' whenever the client
   * reads slower than we produce, and stops the producer if the client goes away.
   */
  private writeStream(
    ex: Exchange,
    head: string,
    length: number,
    body: AsyncIterable<Uint8Array | string>,
  ): boolean {
    const chunked = length < 0 && ex.req.protocol === 'http/1.1';
    if (length < 0 && !chunked) ex.keepAlive = false;
    const conn = ex.keepAlive ? '' : 'Connection: close\r\n';
    const framing =
      length >= 0 ? `Content-Length: ${length}\r\n` : chunked ? 'Transfer-Encoding: chunked\r\n' : '';
    this.writing = true;
    ex.bytes = 0;
    this.writeHead(`${head}${conn}${framing}\r\n`);
    this.pumpStream(ex, body, chunked).then(
      () => this.finishStream(ex, true),
      () => this.finishStream(ex, false),
    );
    return false;
  }

  private async pumpStream(
    ex: Exchange,
    body: AsyncIterable<Uint8Array | string>,
    chunked: boolean,
  ): Promise<void> {
    const socket = this.socket;
    const iterator = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (this.closed) throw new ClientGoneError();
        const step = await iterator.next();
        if (step.done) break;
        const value = step.value;
        const chunk = typeof value === 'string' ? Buffer.from(value) : value;
        if (chunk.byteLength === 0) continue;
        ex.bytes += chunk.byteLength;
        if (this.closed) throw new ClientGoneError();
        let ok: boolean;
        if (chunked) {
          socket.cork();
          socket.write(`${chunk.byteLength.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          ok = socket.write(CRLF, 'latin1');
          socket.uncork();
        } else {
          ok = socket.write(chunk);
        }
        if (!ok) await this.drained();
      }
      if (chunked && !this.closed) {
        const trailers = ex.result instanceof Response ? ex.result.trailers : undefined;
        if (trailers !== undefined && trailers.size > 0) {
          this.writeHead(`0\r\n${appFields(trailers).lines}\r\n`);
        } else {
          this.writeHead(LAST_CHUNK);
        }
      }
    } catch (err) {
      // Tell the producer to stop (runs its finally blocks), then report.
      await iterator.return?.();
      throw err;
    }
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(new ClientGoneError());
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  private finishStream(ex: Exchange, ok: boolean): void {
    this.writing = false;
    if (!ok) {
      // The body failed midway: the response cannot be completed, so the connection ends.
      this.socket.destroy();
      return;
    }
    if (this.closed) return;
    this.finishExchange(ex);
    this.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Errors and timeouts

  private onParseError(err: unknown): void {
    this.stopReading();
    const known = err instanceof H1ParseError || err instanceof HostFieldError;
    const status = known ? err.status : 400;
    const message = known ? err.message : 'Bad Request';
    const receiving = this.receiving;
    if (receiving !== undefined) {
      // The broken bytes were inside this request's body: its handler sees the error.
      receiving.keepAlive = false;
      receiving.req.receivedBody.fail(err instanceof Error ? err : new AvxError('AVX_H1_BAD_BODY', message));
      this.receiving = undefined;
      return;
    }
    this.answerAndClose(status, message);
  }

  /** Queue a final error response for a request we could not take in, then close. */
  private answerAndClose(status: number, message: string): void {
    for (const ex of this.queue) ex.keepAlive = false;
    const ex: Exchange = {
      req: new Request({
        method: 'GET',
        target: '/',
        headers: new Headers(),
        body: IncomingBody.empty(),
        protocol: 'http/1.1',
        connection: this,
      }),
      keepAlive: false,
      head: false,
      ready: false,
      result: undefined,
      discardBody: false,
      expectContinue: false,
      parseError: true,
      status: 0,
      bytes: -1,
    };
    this.queue.push(ex);
    this.settle(ex, errorResponse(status, message));
  }

  /** Enters `phase` and arms its timeout; `now`, a `performance.now()` just read, if at hand. */
  private setPhase(phase: Phase, now?: number): void {
    this.phase = phase;
    let delay = 0;
    if (phase === Phase.Idle) delay = this.config.keepAliveTimeout;
    else if (phase === Phase.Headers) delay = this.config.headersTimeout;
    else if (phase === Phase.Body) delay = this.config.requestTimeout;
    if (delay <= 0) {
      if (this.timer !== undefined) this.config.wheel.cancel(this.timer);
      return;
    }
    if (this.timer === undefined) this.timer = this.config.wheel.schedule(delay, onConnectionTimeout, this);
    else this.config.wheel.reschedule(this.timer, delay, now);
  }

  /** @internal The phase's deadline passed. */
  timedOut(): void {
    if (this.closed) return;
    const phase = this.phase;
    this.phase = Phase.None;
    if (phase === Phase.Idle || this.writing) {
      this.socket.destroy();
      return;
    }
    // RFC 9110 §15.5.9: 408 when the client took too long to send its request.
    this.stopReading();
    if (this.receiving !== undefined) {
      this.receiving.req.receivedBody.fail(
        new AvxError('AVX_REQUEST_TIMEOUT', 'the request body took too long'),
      );
      this.receiving = undefined;
    }
    if (this.queue.length === 0) this.answerAndClose(408, 'Request Timeout');
    else for (const ex of this.queue) ex.keepAlive = false;
  }
}

/**
 * The last Host value found valid, by any connection: requests repeat their Host, and the
 * parser gives repeated bytes the same string, so most checks end at one comparison.
 */
let lastValidHost = '';

function onConnectionTimeout(conn: H1ServerConnection): void {
  conn.timedOut();
}

function errorResponse(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
  });
}
