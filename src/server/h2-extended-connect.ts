/**
 * The HTTP/2 server side of extended CONNECT (RFC 8441): which requests it takes, and the
 * tunnels it runs. A request with `:method CONNECT` and a `:protocol` the app serves (§4; the
 * core already checked that we announced SETTINGS_ENABLE_CONNECT_PROTOCOL, §3, and that
 * `:scheme` and `:path` are there) does not go through the router: its stream gets a
 * {@link WsH2StreamTransport} at once (DATA sent before the answer waits in it, uncredited past
 * its buffer), and the protocol's {@link ExtendedConnectHandler} accepts it with `:status 200`
 * or declines it with a response, after which the stream ends (RST_STREAM NO_ERROR stops a
 * client still sending, RFC 9113 §8.1). Plain CONNECT (no `:protocol`, RFC 9113 §8.5) and
 * `:protocol` values nobody serves are left to the app as ordinary requests.
 */
import { Buffer } from 'node:buffer';
import { Headers } from '../core/headers.js';
import { IncomingBody } from '../core/incoming-body.js';
import { H2ErrorCode } from '../h2/h2-error-codes.js';
import { CONNECTION_SPECIFIC } from '../h2/h2-field-validation.js';
import { type H2Stream, H2StreamState } from '../h2/h2-stream.js';
import { WsStreamResetError } from '../ws/ws-errors.js';
import { type WsH2StreamHost, WsH2StreamTransport } from '../ws/ws-h2-stream-transport.js';
import type { App } from './app.js';
import type { ExtendedConnectContext } from './extended-connect.js';
import { Request, type RequestConnectionInfo } from './request.js';
import { type HandlerResult, handlerFailedResponse, type Response, toResponse } from './response.js';

/** The HTTP/2 server connection a tunnel lives on. */
export interface H2TunnelHost extends WsH2StreamHost, RequestConnectionInfo {}

/** Fields a tunnel's response may not carry: HTTP/2's (RFC 9113 §8.2.2) and its length. */
const DROPPED: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC, 'content-length']);

/** The extended CONNECT tunnels of one HTTP/2 server connection. */
export class H2ExtendedConnect {
  private readonly host: H2TunnelHost;
  private readonly app: App;
  private readonly shutdowns = new Map<WsH2StreamTransport, () => void>();

  constructor(host: H2TunnelHost, app: App) {
    this.host = host;
    this.app = app;
  }

  /** The tunnel carried by `stream`, if it is one. */
  static tunnelOf(stream: H2Stream): WsH2StreamTransport | undefined {
    const data = stream.data;
    return data instanceof WsH2StreamTransport ? data : undefined;
  }

  /**
   * Takes the request on `stream` if it is an extended CONNECT for a protocol the app serves;
   * false leaves it to the app.
   */
  take(stream: H2Stream, fields: string[]): boolean {
    if (!this.host.core.options.enableConnectProtocol) return false;
    let protocol: string | undefined;
    let path = '';
    let authority: string | undefined;
    let i = 0;
    for (; i < fields.length && fields[i]!.charCodeAt(0) === 0x3a; i += 2) {
      const name = fields[i]!;
      if (name === ':protocol') protocol = fields[i + 1]!.toLowerCase();
      else if (name === ':path') path = fields[i + 1]!;
      else if (name === ':authority') authority = fields[i + 1]!;
    }
    if (protocol === undefined) return false;
    const handler = this.app.connectProtocolHandlerFor(protocol);
    if (handler === undefined) return false;
    const regular: string[] = [];
    let cookie: string | undefined;
    for (; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      // RFC 9113 §8.2.3: cookie crumbs are joined with "; ".
      if (name === 'cookie') cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      else regular.push(name, value);
    }
    if (cookie !== undefined) regular.push('cookie', cookie);
    const req = new Request({
      method: 'CONNECT',
      target: path,
      headers: Headers.fromFlat(regular, { trusted: true }),
      body: IncomingBody.empty(),
      protocol: 'h2',
      connection: this.host,
      authority,
    });
    // The server's end() is final (RST_STREAM NO_ERROR for a client still sending, see there).
    const transport = new WsH2StreamTransport(this.host, stream, true);
    stream.data = transport;
    let answered = false;
    transport.once('close', () => {
      this.shutdowns.delete(transport);
      // The client went away (RST_STREAM, connection lost) before it got an answer.
      if (!answered) {
        req.markAborted(
          transport.errored ?? new WsStreamResetError(H2ErrorCode.CANCEL, 'the stream closed unanswered'),
        );
      }
    });
    const context: ExtendedConnectContext = {
      req,
      protocol,
      accept: (extra: readonly string[] = []) => {
        if (answered) throw new Error('this extended CONNECT was already answered');
        answered = true;
        // RFC 8441 §4, §5: a 2xx answer; the stream stays open both ways.
        this.host.core.sendHeaders(stream, [':status', '200', ...extra], false);
        this.host.flushOut();
        return transport;
      },
      onShutdown: (callback) => {
        if (!transport.destroyed) this.shutdowns.set(transport, callback);
      },
    };
    const settle = (result: unknown) => {
      if (answered || transport.destroyed) return;
      answered = true;
      this.decline(stream, transport, toResponse(result as HandlerResult));
    };
    let result: ReturnType<typeof handler>;
    try {
      result = handler(context);
    } catch (err) {
      result = handlerFailedResponse(err);
    }
    if (result instanceof Promise) result.then(settle, (err) => settle(handlerFailedResponse(err)));
    else settle(result);
    return true;
  }

  /** Graceful shutdown: tells every accepted tunnel (a WebSocket sends Close 1001). */
  shutdown(): void {
    for (const callback of [...this.shutdowns.values()]) callback();
    this.shutdowns.clear();
  }

  /** Answers a declined request with `res` and ends the stream. */
  private decline(stream: H2Stream, transport: WsH2StreamTransport, res: Response): void {
    transport.detach();
    if (stream.state === H2StreamState.Closed) return;
    const core = this.host.core;
    let status = res.status;
    // A 2xx would open the tunnel (RFC 8441 §4): only `accept` sends one.
    if (!Number.isInteger(status) || status < 300 || status > 999) status = 500;
    const fields: string[] = [':status', String(status)];
    if (res.hasHeaders) {
      const headers = res.headers;
      for (let i = 0; i < headers.size; i++) {
        const name = headers.nameAt(i)!.toLowerCase();
        if (!DROPPED.has(name)) fields.push(name, headers.valueAt(i)!);
      }
    }
    const body = res.body;
    // Only text and bytes are sent; a declining answer has no reason to stream.
    const bytes =
      typeof body === 'string'
        ? Buffer.from(body)
        : body instanceof Uint8Array
          ? Buffer.from(body)
          : undefined;
    if (bytes !== undefined && bytes.length > 0) {
      fields.push('content-length', String(bytes.length));
      core.sendHeaders(stream, fields, false);
      core.sendData(stream, bytes, true);
    } else {
      fields.push('content-length', '0');
      core.sendHeaders(stream, fields, true);
    }
    // RFC 9113 §8.1: the answer is complete; a client still sending is told to stop.
    if (stream.canReceive && stream.pendingBytes === 0 && !stream.pendingEnd)
      core.resetStream(stream, H2ErrorCode.NO_ERROR);
    this.host.flushOut();
  }
}
