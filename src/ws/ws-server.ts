/**
 * The server side of the opening handshake (RFC 6455 §4.2) and the WebSocket routes of an App.
 * `app.ws(path, handler, options)` registers a route here; the App's `websocket` upgrade handler
 * (`WebSocketRoutes.upgradeHandler`) finds the route, checks the client's handshake (§4.2.1:
 * GET, HTTP/1.1, Host, `Upgrade: websocket`, `Connection: Upgrade`, a 16-byte base64
 * `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`), asks the Origin hook (§10.2), picks a
 * subprotocol (§4.2.2 item 5.3) and negotiates permessage-deflate (RFC 7692 §5), writes the 101
 * (§4.2.2 item 5) and hands a {@link WebSocket} to the route's handler.
 * A request that fails is declined with the status §4.2.2 names: 400, 403 for a refused
 * Origin, 404 when no route matches, 405 for a method other than GET, 426 with
 * `Sec-WebSocket-Version: 13` for another version (§4.4).
 */
import type { Request } from '../server/request.js';
import { Response } from '../server/response.js';
import { RadixRouter } from '../server/router/radix-router.js';
import type { UpgradeContext, UpgradeHandler } from '../server/upgrade.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from './per-message-deflate.js';
import { acceptPerMessageDeflate } from './per-message-deflate-negotiation.js';
import { WebSocket } from './websocket.js';
import {
  type ResolvedWebSocketOptions,
  resolveWebSocketOptions,
  type WebSocketOptions,
} from './websocket-options.js';
import { WsCloseCode } from './ws-close-code.js';
import { isValidWsKey, listHasToken, parseWsProtocols, wsAcceptValue } from './ws-handshake.js';

/**
 * Handles one accepted WebSocket. Attach listeners (or start iterating) before the first `await`.
 * A returned promise that rejects (or a throw) closes the connection with 1011.
 */
export type WebSocketHandler = (ws: WebSocket, req: Request) => unknown;

/** Options of a WebSocket route (`app.ws(path, handler, options)`). */
export interface WebSocketServerOptions extends WebSocketOptions {
  /**
   * Subprotocols this route speaks, in the server's preference order, or a function choosing
   * one of the client's offers (return undefined for none). With a list, the first of ours the
   * client offered wins. A client offering only others gets no subprotocol (the handshake still
   * succeeds; RFC 6455 §4.2.2 lets the client decide). Default: none.
   */
  protocols?: readonly string[] | ((offered: readonly string[], req: Request) => string | undefined);
  /**
   * Origin check (RFC 6455 §10.2): return false (or a promise of false) to refuse the handshake
   * with 403. Receives the `Origin` field, undefined when the client sent none (non-browser
   * clients). Default: every origin is accepted.
   */
  checkOrigin?: (origin: string | undefined, req: Request) => boolean | Promise<boolean>;
  /** Accept permessage-deflate (RFC 7692) when offered: `true` with defaults, or options. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** A registered route. */
interface WsRoute {
  handler: WebSocketHandler;
  options: WebSocketServerOptions;
  resolved: ResolvedWebSocketOptions;
}

/** The WebSocket routes of one App, behind its `websocket` upgrade handler. */
export class WebSocketRoutes {
  private readonly router = new RadixRouter<WsRoute>();
  /** The handler to register with `app.upgrade('websocket', ...)`. */
  readonly upgradeHandler: UpgradeHandler;

  constructor() {
    this.upgradeHandler = (context) => this.handleUpgrade(context);
  }

  /** Registers `handler` for `path` (router pattern syntax: `/rooms/:id`, `/files/*`). */
  add(path: string, handler: WebSocketHandler, options: WebSocketServerOptions = {}): void {
    this.router.add('GET', path, { handler, options, resolved: resolveWebSocketOptions(options) });
  }

  /** Routes an upgrade request; declines with 404/405 when no WebSocket route fits. */
  handleUpgrade(context: UpgradeContext): Response | Promise<Response | undefined> | undefined {
    const req = context.req;
    if (req.method !== 'GET') {
      return declined(405, 'a WebSocket handshake must be a GET (RFC 6455 §4.1)', { allow: 'GET' });
    }
    const match = this.router.match('GET', req.path);
    if (match === null) return declined(404, 'no WebSocket endpoint here');
    req.params = match.params;
    return acceptWebSocket(context, match.handler.handler, match.handler.options, match.handler.resolved);
  }
}

/**
 * Runs the server side of the handshake on an upgrade `context` and hands the WebSocket to
 * `handler`. Returns a Response to decline, or undefined (maybe through a promise, when
 * `checkOrigin` is asynchronous) once the connection was taken over.
 */
export function acceptWebSocket(
  context: UpgradeContext,
  handler: WebSocketHandler,
  options: WebSocketServerOptions = {},
  resolved: ResolvedWebSocketOptions = resolveWebSocketOptions(options),
): Response | Promise<Response | undefined> | undefined {
  const req = context.req;
  const headers = req.headers;
  // RFC 6455 §4.2.1.
  if (req.protocol !== 'http/1.1')
    return declined(400, 'a WebSocket handshake needs HTTP/1.1 (RFC 6455 §4.1)');
  if (!headers.has('host')) return declined(400, 'the handshake lacks Host (RFC 6455 §4.2.1 item 2)');
  if (!listHasToken(headers.get('upgrade'), 'websocket')) {
    return declined(400, 'the handshake lacks Upgrade: websocket (RFC 6455 §4.2.1 item 3)');
  }
  if (!listHasToken(headers.get('connection'), 'upgrade')) {
    return declined(400, 'the handshake lacks Connection: Upgrade (RFC 6455 §4.2.1 item 4)');
  }
  if (headers.get('sec-websocket-version') !== '13') {
    // RFC 6455 §4.4: say which version we speak.
    return declined(426, 'unsupported WebSocket version: this server speaks 13 (RFC 6455 §4.4)', {
      'sec-websocket-version': '13',
    });
  }
  const key = headers.get('sec-websocket-key');
  if (key === undefined || !isValidWsKey(key)) {
    return declined(400, 'Sec-WebSocket-Key must be the base64 of 16 bytes (RFC 6455 §4.2.1 item 5)');
  }
  let offered: string[] = [];
  const protocolField = headers.get('sec-websocket-protocol');
  if (protocolField !== undefined) {
    const parsed = parseWsProtocols(protocolField);
    if (parsed === null)
      return declined(400, 'Sec-WebSocket-Protocol must be a list of distinct tokens (RFC 6455 §4.1)');
    offered = parsed;
  }
  if (options.checkOrigin !== undefined) {
    const verdict = options.checkOrigin(headers.get('origin'), req);
    if (verdict instanceof Promise) {
      // Hold the bytes that arrive meanwhile: the socket is ours and nobody reads it yet.
      context.socket.pause();
      return verdict.then(
        (ok) => (ok ? complete(context, handler, options, resolved, key, offered) : forbidden()),
        () => forbidden(),
      );
    }
    if (!verdict) return forbidden();
  }
  return complete(context, handler, options, resolved, key, offered);
}

function complete(
  context: UpgradeContext,
  handler: WebSocketHandler,
  options: WebSocketServerOptions,
  resolved: ResolvedWebSocketOptions,
  key: string,
  offered: string[],
): Response | undefined {
  const { req, socket } = context;
  if (socket.destroyed) return undefined;
  let protocol = '';
  const choose = options.protocols;
  if (typeof choose === 'function') {
    const picked = choose(offered, req);
    if (picked !== undefined) {
      if (!offered.includes(picked)) {
        return declined(500, 'the protocols hook chose a subprotocol the client did not offer');
      }
      protocol = picked;
    }
  } else if (choose !== undefined) {
    protocol = choose.find((p) => offered.includes(p)) ?? '';
  }
  let deflate: PerMessageDeflate | undefined;
  let extensions = '';
  if (options.perMessageDeflate) {
    const deflateOptions = options.perMessageDeflate === true ? {} : options.perMessageDeflate;
    const accepted = acceptPerMessageDeflate(headers(req, 'sec-websocket-extensions'), deflateOptions);
    if (accepted !== undefined) {
      deflate = new PerMessageDeflate(true, accepted.params, deflateOptions, resolved.maxMessageSize);
      extensions = accepted.response;
    }
  }
  // RFC 6455 §4.2.2 item 5.
  let head =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${wsAcceptValue(key)}\r\n`;
  if (protocol !== '') head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== '') head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  socket.write(`${head}\r\n`, 'latin1');
  const ws = new WebSocket({
    socket,
    isServer: true,
    head: context.head,
    url: req.url,
    protocol,
    extensions,
    deflate,
    options: resolved,
  });
  context.onShutdown(() => ws.close(WsCloseCode.GoingAway, 'server shutting down'));
  try {
    const result = handler(ws, req);
    if (result instanceof Promise) result.catch((err) => onHandlerError(ws, err));
  } catch (err) {
    onHandlerError(ws, err);
  }
  ws.start();
  return undefined;
}

/** A handler that threw: close with 1011 (RFC 6455 §7.4.1) and report it like a listener error. */
function onHandlerError(ws: WebSocket, error: unknown): void {
  ws.close(WsCloseCode.InternalError);
  if (ws.listenerCount('error') > 0)
    ws.emit('error', error instanceof Error ? error : new Error(String(error)));
}

function headers(req: Request, name: string): string | undefined {
  return req.headers.get(name);
}

function forbidden(): Response {
  return declined(403, 'origin not allowed (RFC 6455 §10.2)');
}

function declined(status: number, message: string, fields?: Record<string, string>): Response {
  return new Response(message, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...fields },
  });
}
