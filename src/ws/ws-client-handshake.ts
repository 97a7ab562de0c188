/**
 * The client's opening handshake (RFC 6455 §4.1): connect over TCP (`ws:`) or TLS (`wss:`),
 * send the `GET` with `Upgrade: websocket`, a fresh `Sec-WebSocket-Key`, version 13, the
 * offered subprotocols and extensions, then read the response and check it as §4.1 requires:
 * status 101, `Upgrade: websocket`, `Connection: Upgrade`, the exact `Sec-WebSocket-Accept`,
 * a subprotocol we offered (or none), extensions we offered (permessage-deflate, RFC 7692).
 * Any failure rejects with {@link WsHandshakeError} and the socket is destroyed.
 * With `http2: true` the handshake goes over HTTP/2 instead (RFC 8441, ws-h2-client-handshake.ts),
 * and comes back here for a `wss:` server whose ALPN answer is HTTP/1.1.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectAttempt, type ConnectTarget, openConnection } from '../client/connector.js';
import { Headers, type HeadersInit } from '../core/headers.js';
import { H1Parser } from '../h1/h1-parser.js';
import { serializeRequestHead } from '../h1/h1-serializer.js';
import { H1ResponseBody, type H1ResponseHead } from '../h1/h1-types.js';
import type { H2ConnectionOptions } from '../h2/h2-connection-options.js';
import { defaultTimerWheel } from '../runtime/timer-wheel.js';
import type { PerMessageDeflateOptions, PerMessageDeflateParams } from './per-message-deflate.js';
import { confirmPerMessageDeflate, offerPerMessageDeflate } from './per-message-deflate-negotiation.js';
import type { WebSocketOptions } from './websocket-options.js';
import { handshakeFailure, WsHandshakeError } from './ws-errors.js';
import { isTokenString, listHasToken, newWsKey, wsAcceptValue } from './ws-handshake.js';

/** TLS settings for `wss:` URLs. */
export interface WebSocketTlsOptions {
  /** Trusted CA certificates (PEM). Default: Node's bundled roots. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate chain (PEM), for mutual TLS. Default: none. */
  cert?: string | Buffer | readonly (string | Buffer)[];
  /** Client private key (PEM). Default: none. */
  key?: string | Buffer | readonly (string | Buffer)[];
  /** Verify the server's certificate and name. Default true. */
  rejectUnauthorized?: boolean;
  /** Server name for SNI and the certificate check. Default: the URL's host (none for IP literals). */
  servername?: string;
}

/** Options of `WebSocket.connect`. */
export interface WebSocketConnectOptions extends WebSocketOptions {
  /** Subprotocols to offer, in preference order (`Sec-WebSocket-Protocol`, RFC 6455 §1.9). Default none. */
  protocols?: string | readonly string[];
  /** Extra request headers (the handshake's own fields cannot be overridden). Default none. */
  headers?: HeadersInit;
  /** `Origin` to send (RFC 6455 §10.2; browsers always do). Default none. */
  origin?: string;
  /** Aborts the handshake (not the connection once open). */
  signal?: AbortSignal;
  /**
   * Offer permessage-deflate (RFC 7692): `true` with defaults, options, or `false`. Messages are
   * compressed only if the server accepts. Default true (as browsers and `ws`).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Milliseconds for connecting plus the handshake. Default 10000 (10 s). */
  handshakeTimeout?: number;
  /** Largest response head in bytes. Default 16384 (16 KiB). */
  maxHandshakeBytes?: number;
  /** TLS settings for `wss:`. */
  tls?: WebSocketTlsOptions;
  /**
   * Open the WebSocket over HTTP/2 with extended CONNECT (RFC 8441): `ws:` speaks h2c with prior
   * knowledge (RFC 9113 §3.3), `wss:` offers `h2` by ALPN and, if the server picks HTTP/1.1,
   * does the ordinary RFC 6455 handshake on that connection instead. WebSockets to the same
   * origin (and TLS settings) share one HTTP/2 connection, kept for 5 s once the last one
   * closed. A server that speaks HTTP/2 but does not announce SETTINGS_ENABLE_CONNECT_PROTOCOL
   * fails the handshake with `WsHandshakeError` `AVX_WS_H2_NO_EXTENDED_CONNECT` (no silent
   * fallback: use `http2: false` for such a server). While the server's
   * SETTINGS_MAX_CONCURRENT_STREAMS are all in use, the handshake waits for a stream to close;
   * after `handshakeTimeout` it fails with `AVX_WS_H2_STREAM_LIMIT`. Default false.
   */
  http2?: boolean;
  /** Limits of the HTTP/2 connection (windows, frame size, ...), for `http2: true`. Default: the core's. */
  http2Options?: H2ConnectionOptions;
}

/** What a successful handshake leaves. */
export interface WsClientHandshakeResult {
  /** The connection's byte stream: a socket, or an HTTP/2 stream (RFC 8441). */
  socket: Duplex;
  /** Bytes after the 101 head: the first WebSocket bytes. */
  rest: Buffer;
  url: string;
  protocol: string;
  extensions: string;
  deflate: PerMessageDeflateParams | undefined;
  deflateOptions: PerMessageDeflateOptions;
}

/** Request fields the caller may not set (RFC 6455 §4.1 owns them). */
const RESERVED = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

/** What `WebSocket.connect` asked for, checked (RFC 6455 §3, §4.1). */
export interface WsConnectRequest {
  target: URL;
  secure: boolean;
  hostname: string;
  port: number;
  /** `ws://host[:port]`, for messages. */
  origin: string;
  /** The subprotocols to offer. */
  protocols: string[];
  /** The permessage-deflate offer, undefined for none. */
  deflateOptions: PerMessageDeflateOptions | undefined;
}

/** Where a handshake for `request` connects: the URL's host, directly, with `tls` for `wss:`. */
export function wsConnectTarget(request: WsConnectRequest, tls: ConnectTarget['tls']): ConnectTarget {
  return {
    protocol: request.secure ? 'https:' : 'http:',
    hostname: request.hostname,
    port: request.port,
    origin: request.origin,
    socketPath: undefined,
    proxy: undefined,
    tls,
  };
}

/** Checks the URL (scheme, no fragment) and the offered subprotocols. Throws {@link WsHandshakeError}. */
export function resolveWsConnectRequest(
  url: string | URL,
  options: WebSocketConnectOptions,
): WsConnectRequest {
  const target = typeof url === 'string' ? parseUrl(url) : url;
  let secure: boolean;
  switch (target.protocol) {
    case 'ws:':
    case 'http:':
      secure = false;
      break;
    case 'wss:':
    case 'https:':
      secure = true;
      break;
    default:
      throw new WsHandshakeError(
        'AVX_WS_BAD_URL',
        `${target.protocol} is not a WebSocket scheme (RFC 6455 §3: ws: or wss:)`,
      );
  }
  // RFC 6455 §3: fragment identifiers are not allowed in WebSocket URIs.
  if (target.hash !== '' || (typeof url === 'string' && url.includes('#'))) {
    throw new WsHandshakeError('AVX_WS_BAD_URL', 'a WebSocket URL must not have a fragment (RFC 6455 §3)');
  }
  const protocols =
    typeof options.protocols === 'string' ? [options.protocols] : [...(options.protocols ?? [])];
  for (const p of protocols) {
    if (!isTokenString(p) || protocols.indexOf(p) !== protocols.lastIndexOf(p)) {
      throw new WsHandshakeError(
        'AVX_WS_BAD_PROTOCOL',
        `subprotocol ${JSON.stringify(p)} is not a distinct token (RFC 6455 §4.1)`,
      );
    }
  }
  const deflateOptions: PerMessageDeflateOptions | undefined =
    options.perMessageDeflate === false
      ? undefined
      : options.perMessageDeflate === true || options.perMessageDeflate === undefined
        ? {}
        : options.perMessageDeflate;

  const port = Number(target.port) || (secure ? 443 : 80);
  const origin = `${secure ? 'wss' : 'ws'}://${target.host}`;
  return { target, secure, hostname: target.hostname, port, origin, protocols, deflateOptions };
}

/**
 * Appends what both handshakes offer besides their own framing fields: the subprotocols, the
 * permessage-deflate offer, Origin and the caller's extra fields minus `reserved` ones. Over
 * HTTP/2 (`lowercase`) names are lowercase (RFC 9113 §8.2.1).
 */
export function pushWsOfferFields(
  fields: string[],
  request: WsConnectRequest,
  options: WebSocketConnectOptions,
  reserved: ReadonlySet<string>,
  lowercase: boolean,
): void {
  const { protocols, deflateOptions } = request;
  if (protocols.length > 0) {
    fields.push(lowercase ? 'sec-websocket-protocol' : 'Sec-WebSocket-Protocol', protocols.join(', '));
  }
  if (deflateOptions !== undefined) {
    fields.push(
      lowercase ? 'sec-websocket-extensions' : 'Sec-WebSocket-Extensions',
      offerPerMessageDeflate(deflateOptions),
    );
  }
  if (options.origin !== undefined) fields.push(lowercase ? 'origin' : 'Origin', options.origin);
  if (options.headers !== undefined) {
    const extra = options.headers instanceof Headers ? options.headers : new Headers(options.headers);
    const flat = extra.toFlat();
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i].toLowerCase();
      if (reserved.has(name) || (name === 'origin' && options.origin !== undefined)) continue;
      fields.push(lowercase ? name : flat[i], flat[i + 1]);
    }
  }
}

/**
 * The subprotocol and extensions the server's answer chose, checked against our offer (RFC 6455
 * §4.1 item 6, RFC 7692 §7.1). Throws {@link WsHandshakeError} with `status`.
 */
export function confirmWsOffer(
  headers: Headers,
  request: WsConnectRequest,
  status: number,
): Pick<WsClientHandshakeResult, 'protocol' | 'extensions' | 'deflate' | 'deflateOptions'> {
  const protocol = headers.get('sec-websocket-protocol') ?? '';
  if (protocol !== '' && !request.protocols.includes(protocol)) {
    throw new WsHandshakeError(
      'AVX_WS_BAD_PROTOCOL',
      `the server chose subprotocol ${JSON.stringify(protocol)}, which we did not offer (RFC 6455 §4.1 item 6)`,
      status,
    );
  }
  const extensions = headers.get('sec-websocket-extensions') ?? '';
  const deflate = confirmPerMessageDeflate(
    extensions === '' ? undefined : extensions,
    request.deflateOptions,
  );
  return { protocol, extensions, deflate, deflateOptions: request.deflateOptions ?? {} };
}

/**
 * Runs the opening handshake against `url` (`ws:`, `wss:`, or `http:` / `https:` taken as such),
 * on a new connection or on `connected` (a TLS socket whose ALPN answer was HTTP/1.1).
 */
export async function openWsClientHandshake(
  url: string | URL,
  options: WebSocketConnectOptions,
  connected?: net.Socket,
): Promise<WsClientHandshakeResult> {
  const request = resolveWsConnectRequest(url, options);
  const { target, secure, port, origin } = request;
  const attempt = new ConnectAttempt();
  const timeoutMs = options.handshakeTimeout ?? 10000;
  const wheel = options.timerWheel ?? defaultTimerWheel();
  const timer = wheel.schedule(
    timeoutMs,
    (a: ConnectAttempt) =>
      a.cancel(
        new WsHandshakeError(
          'AVX_WS_HANDSHAKE_TIMEOUT',
          `the WebSocket handshake with ${origin} took longer than ${timeoutMs} ms`,
        ),
      ),
    attempt,
  );
  const signal = options.signal;
  const onAbort = () =>
    attempt.cancel(
      new WsHandshakeError('AVX_WS_ABORTED', 'the WebSocket handshake was aborted', 0, {
        cause: signal?.reason,
      }),
    );
  if (signal !== undefined) {
    if (signal.aborted) {
      timer.cancel();
      onAbort();
      throw attempt.reason;
    }
    signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    if (connected !== undefined) attempt.socket = connected;
    const socket =
      connected ??
      (await openConnection(
        wsConnectTarget(
          request,
          secure ? { ...options.tls, minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] } : undefined,
        ),
        attempt,
      ));
    attempt.socket = socket;
    socket.setNoDelay(true);
    const key = newWsKey();
    const fields: string[] = [];
    // RFC 6455 §4.1 items 4-12.
    const defaultPort = secure ? 443 : 80;
    fields.push(
      'Host',
      target.port === '' || port === defaultPort ? target.hostname : `${target.hostname}:${port}`,
    );
    fields.push(
      'Upgrade',
      'websocket',
      'Connection',
      'Upgrade',
      'Sec-WebSocket-Key',
      key,
      'Sec-WebSocket-Version',
      '13',
    );
    pushWsOfferFields(fields, request, options, RESERVED, false);
    const target2 = `${target.pathname || '/'}${target.search}`;
    socket.write(serializeRequestHead('GET', target2, fields));
    const { head, rest } = await readResponseHead(socket, attempt, options.maxHandshakeBytes ?? 16384);
    const headers = Headers.fromFlat(head.headers, { trusted: true });
    if (head.status !== 101) {
      throw new WsHandshakeError(
        'AVX_WS_UNEXPECTED_STATUS',
        `the server answered the WebSocket handshake with ${head.status}, not 101 (RFC 6455 §4.1)`,
        head.status,
      );
    }
    if (!listHasToken(headers.get('upgrade'), 'websocket')) {
      throw new WsHandshakeError(
        'AVX_WS_BAD_UPGRADE',
        'the 101 response lacks Upgrade: websocket (RFC 6455 §4.1)',
        101,
      );
    }
    if (!listHasToken(headers.get('connection'), 'upgrade')) {
      throw new WsHandshakeError(
        'AVX_WS_BAD_UPGRADE',
        'the 101 response lacks Connection: Upgrade (RFC 6455 §4.1)',
        101,
      );
    }
    if (headers.get('sec-websocket-accept') !== wsAcceptValue(key)) {
      throw new WsHandshakeError(
        'AVX_WS_BAD_ACCEPT',
        'the Sec-WebSocket-Accept value does not match our key (RFC 6455 §4.1 item 4)',
        101,
      );
    }
    return { socket, rest, url: target.href, ...confirmWsOffer(headers, request, 101) };
  } catch (err) {
    attempt.socket?.destroy();
    if (attempt.reason !== undefined) throw attempt.reason;
    throw handshakeFailure(err, `the WebSocket handshake with ${origin}`);
  } finally {
    timer.cancel();
    signal?.removeEventListener('abort', onAbort);
  }
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (err) {
    throw new WsHandshakeError('AVX_WS_BAD_URL', `invalid WebSocket URL ${JSON.stringify(url)}`, 0, {
      cause: err,
    });
  }
}

/** Reads the response head; resolves with it and the bytes after it. */
function readResponseHead(
  socket: net.Socket,
  attempt: ConnectAttempt,
  maxHeaderBytes: number,
): Promise<{ head: H1ResponseHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let head: H1ResponseHead | undefined;
    const parser = new H1Parser<H1ResponseHead>(
      'response',
      {
        onHead(h) {
          if (h.status < 200 && h.status !== 101) return undefined; // 1xx interim: keep reading
          head = h;
          return H1ResponseBody.Tunnel; // stop here: what follows is not HTTP for us
        },
        onBody() {},
        onTrailers() {},
        onMessageComplete() {},
      },
      { maxHeaderBytes },
    );
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      let consumed: number;
      try {
        consumed = parser.execute(chunk);
      } catch (err) {
        cleanup();
        reject(err);
        return;
      }
      if (head === undefined) return;
      cleanup();
      socket.pause();
      resolve({ head, rest: chunk.subarray(consumed) });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(attempt.reason ?? err);
    };
    const onClose = () => {
      cleanup();
      reject(
        attempt.reason ??
          new WsHandshakeError(
            'AVX_WS_HANDSHAKE_FAILED',
            'the server closed the connection during the handshake',
          ),
      );
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
