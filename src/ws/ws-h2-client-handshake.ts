/**
 * The client's opening handshake over HTTP/2 (RFC 8441 §4, §5): on a shared HTTP/2 connection
 * (ws-h2-client-session.ts) whose server announced SETTINGS_ENABLE_CONNECT_PROTOCOL (§3), open
 * a stream with `:method CONNECT`, `:protocol websocket`, `:scheme` (`https` for `wss:`, `http`
 * for `ws:`), `:path` and `:authority`, plus `sec-websocket-version: 13`, the offered
 * subprotocols and extensions (and no `Sec-WebSocket-Key`, §5), then check the response: a 2xx
 * status, a subprotocol we offered (RFC 6455 §4.1 item 6), extensions we offered (RFC 7692 §7.1).
 * If ALPN picked HTTP/1.1 for a `wss:` URL, the RFC 6455 handshake runs on that socket instead.
 * While the server's SETTINGS_MAX_CONCURRENT_STREAMS are all in use (RFC 9113 §5.1.2) the
 * handshake waits for one to close; if none does within the handshake timeout it fails with
 * `AVX_WS_H2_STREAM_LIMIT`. A GOAWAY during the wait sends it to a new connection.
 * Failures reject with {@link WsHandshakeError}; the stream is reset (RST_STREAM CANCEL) and the
 * connection goes on for the other WebSockets.
 */
import { Buffer } from 'node:buffer';
import { Headers } from '../core/headers.js';
import { defaultTimerWheel } from '../runtime/timer-wheel.js';
import {
  confirmWsOffer,
  openWsClientHandshake,
  pushWsOfferFields,
  resolveWsConnectRequest,
  type WebSocketConnectOptions,
  type WsClientHandshakeResult,
  wsConnectTarget,
} from './ws-client-handshake.js';
import { handshakeFailure, WsHandshakeError } from './ws-errors.js';
import { WsH2ClientSession, type WsH2SessionSettings } from './ws-h2-client-session.js';
import type { WsH2StreamTransport } from './ws-h2-stream-transport.js';

/** Request fields the caller may not set: RFC 8441 §5 and RFC 9113 §8.2.2 own them. */
const RESERVED = new Set([
  'host',
  'upgrade',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

const EMPTY = Buffer.alloc(0);
const noop = () => {};

/** Runs the opening handshake of a WebSocket over HTTP/2 against `url` (`ws:` or `wss:`). */
export async function openWsH2ClientHandshake(
  url: string | URL,
  options: WebSocketConnectOptions,
): Promise<WsClientHandshakeResult> {
  const request = resolveWsConnectRequest(url, options);
  const { target, secure, origin } = request;
  const timeoutMs = options.handshakeTimeout ?? 10000;
  const wheel = options.timerWheel ?? defaultTimerWheel();
  let cancel!: (error: Error) => void;
  const cancelled = new Promise<never>((_, reject) => {
    cancel = reject;
  });
  cancelled.catch(noop);
  const timer = wheel.schedule(
    timeoutMs,
    () =>
      cancel(
        new WsHandshakeError(
          'AVX_WS_HANDSHAKE_TIMEOUT',
          `the WebSocket handshake with ${origin} took longer than ${timeoutMs} ms`,
        ),
      ),
    undefined,
  );
  const signal = options.signal;
  const onAbort = () =>
    cancel(
      new WsHandshakeError('AVX_WS_ABORTED', 'the WebSocket handshake was aborted', 0, {
        cause: signal?.reason,
      }),
    );
  if (signal !== undefined) {
    if (signal.aborted) {
      timer.cancel();
      onAbort();
      return cancelled;
    }
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const tlsSettings = secure ? { ...options.tls, minVersion: 'TLSv1.2' as const } : undefined;
  const key = WsH2ClientSession.keyOf(origin, tlsSettings, options.http2Options);
  const settings: WsH2SessionSettings = {
    // RFC 9113 §3.2: offer h2 first; HTTP/1.1 if the server prefers it.
    target: wsConnectTarget(
      request,
      tlsSettings === undefined ? undefined : { ...tlsSettings, ALPNProtocols: ['h2', 'http/1.1'] },
    ),
    h2: options.http2Options,
    connectTimeout: timeoutMs,
    wheel,
  };
  let session = WsH2ClientSession.acquire(key, settings);
  let user = true;
  let waitingForSlot = false;
  let transport: WsH2StreamTransport | undefined;
  try {
    for (;;) {
      await Promise.race([session.ready, cancelled]);
      if (session.declined) {
        user = false;
        session.release();
        // ALPN chose HTTP/1.1: RFC 6455 on that socket (or a new one if another handshake took it).
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        return await openWsClientHandshake(url, options, session.takeHttp1Socket());
      }
      // An unusable connection is reported by `open`.
      if (session.hasStreamSlot || !session.usable) break;
      // RFC 9113 §5.1.2: one more stream than the server allows would be refused (REFUSED_STREAM);
      // wait for one of ours to close instead, as long as the handshake timeout allows.
      waitingForSlot = true;
      await Promise.race([session.streamSlotFreed(), cancelled]);
      waitingForSlot = false;
      if (!session.usable) {
        // A GOAWAY (RFC 9113 §6.8) or the connection's loss while we waited: the WebSocket
        // goes on another connection, like any new one.
        session.release();
        session = WsH2ClientSession.acquire(key, settings);
      }
    }
    // RFC 8441 §4, §5 (and RFC 9113 §8.2.1: lowercase field names).
    const fields: string[] = [
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':scheme',
      secure ? 'https' : 'http',
      ':path',
      `${target.pathname || '/'}${target.search}`,
      ':authority',
      target.host,
      'sec-websocket-version',
      '13',
    ];
    pushWsOfferFields(fields, request, options, RESERVED, true);
    user = false;
    const opened = session.open(fields);
    transport = opened.transport;
    const response = await Promise.race([opened.response, cancelled]);
    const status = Number(response[1]);
    if (status < 200 || status > 299) {
      throw new WsHandshakeError(
        'AVX_WS_UNEXPECTED_STATUS',
        `the server answered the extended CONNECT with ${status}, not 2xx (RFC 8441 §5)`,
        status,
      );
    }
    const headers = Headers.fromFlat(response.slice(2), { trusted: true });
    return { socket: transport, rest: EMPTY, url: target.href, ...confirmWsOffer(headers, request, status) };
  } catch (err) {
    if (user) session.release();
    // RST_STREAM CANCEL for this stream only (RFC 9113 §8.7); the connection goes on.
    transport?.destroy();
    if (waitingForSlot && err instanceof WsHandshakeError && err.code === 'AVX_WS_HANDSHAKE_TIMEOUT') {
      throw new WsHandshakeError(
        'AVX_WS_H2_STREAM_LIMIT',
        `no HTTP/2 stream to ${origin} became free within ${timeoutMs} ms: the server allows ${session.core.peerMaxConcurrentStreams} concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §5.1.2) and all carry WebSockets`,
        0,
        { cause: err },
      );
    }
    throw handshakeFailure(err, `the WebSocket handshake with ${origin}`);
  } finally {
    timer.cancel();
    signal?.removeEventListener('abort', onAbort);
  }
}
