/**
 * The server side of the opening handshake (RFC 6455 §4.2, and over HTTP/2 RFC 8441 §5) and the
 * WebSocket routes of an App.
 * `app.ws(path, handler, options)` registers a route here; the App's `websocket` upgrade handler
 * (`WebSocketRoutes.upgradeHandler`) finds the route, checks the client's handshake (§4.2.1:
 * GET, HTTP/1.1, Host, `Upgrade: websocket`, `Connection: Upgrade`, a 16-byte base64
 * `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`), asks the Origin hook (§10.2), picks a
 * subprotocol (§4.2.2 item 5.3) and negotiates permessage-deflate (RFC 7692 §5), writes the 101
 * (§4.2.2 item 5) and hands a {@link WebSocket} to the route's handler.
 * A request that fails is declined with the status §4.2.2 names: 400, 403 for a refused
 * Origin, 404 when no route matches, 405 for a method other than GET, 426 with
 * `Sec-WebSocket-Version: 13` for another version (§4.4).
 *
 * Over HTTP/2 the same routes answer extended CONNECT (RFC 8441): `WebSocketRoutes.
 * extendedConnectHandler` takes a `CONNECT` with `:protocol websocket` (§4), checks
 * `sec-websocket-version: 13` (a 400 with `sec-websocket-version: 13` otherwise: 426 would need
 * an `Upgrade` field, which HTTP/2 forbids, RFC 9113 §8.2.2), runs the same Origin hook,
 * subprotocol choice and permessage-deflate negotiation, and answers `:status 200` with no
 * `Sec-WebSocket-Accept` (RFC 8441 §5: no key, no accept); the WebSocket then runs over the
 * stream's DATA frames (see ws-h2-stream-transport.ts).
 */
import { Buffer } from 'node:buffer';
import type { ExtendedConnectContext, ExtendedConnectHandler } from '../server/extended-connect.js';
import type { Request } from '../server/request.js';
import { Response } from '../server/response.js';
import { RadixRouter } from '../server/router/radix-router.js';
import type { UpgradeContext, UpgradeHandler } from '../server/upgrade.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from './per-message-deflate.js';
import { acceptPerMessageDeflate } from './per-message-deflate-negotiation.js';
import { WebSocket, type WebSocketInit } from './websocket.js';
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
  /** The handler to register with `app.connectProtocol('websocket', ...)` (RFC 8441). */
  readonly extendedConnectHandler: ExtendedConnectHandler;

  constructor() {
    this.upgradeHandler = (context) => this.handleUpgrade(context);
    this.extendedConnectHandler = (context) => this.handleExtendedConnect(context);
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

  /** Routes an extended CONNECT (RFC 8441 §4); declines with 404 when no WebSocket route fits. */
  handleExtendedConnect(
    context: ExtendedConnectContext,
  ): Response | Promise<Response | undefined> | undefined {
    const req = context.req;
    const match = this.router.match('GET', req.path);
    if (match === null) return declined(404, 'no WebSocket endpoint here');
    req.params = match.params;
    const route = match.handler;
    return acceptWebSocketOverH2(context, route.handler, route.options, route.resolved);
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
  const offered = offeredProtocols(req);
  if (offered instanceof Response) return offered;
  return withOriginCheck(
    req,
    options,
    () => complete(context, handler, options, resolved, key, offered),
    // Hold the bytes that arrive meanwhile: the socket is ours and nobody reads it yet.
    () => context.socket.pause(),
  );
}

/**
 * Runs the `checkOrigin` hook (RFC 6455 §4.2.2 item 1.4 lets a server refuse origins) and then
 * `proceed`, or answers 403. `beforeWait` runs when the hook is asynchronous.
 */
function withOriginCheck(
  req: Request,
  options: WebSocketServerOptions,
  proceed: () => Response | undefined,
  beforeWait?: () => void,
): Response | Promise<Response | undefined> | undefined {
  if (options.checkOrigin === undefined) return proceed();
  const verdict = options.checkOrigin(req.headers.get('origin'), req);
  if (verdict instanceof Promise) {
    beforeWait?.();
    return verdict.then(
      (ok) => (ok ? proceed() : forbidden()),
      () => forbidden(),
    );
  }
  return verdict ? proceed() : forbidden();
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
  const chosen = negotiate(req, options, resolved, offered);
  if (chosen instanceof Response) return chosen;
  const { protocol, extensions } = chosen;
  // RFC 6455 §4.2.2 item 5.
  let head =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${wsAcceptValue(key)}\r\n`;
  if (protocol !== '') head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== '') head += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  socket.write(`${head}\r\n`, 'latin1');
  start(socket, context.head, chosen, resolved, context, handler, req);
  return undefined;
}

/** Opens the server WebSocket on the taken-over byte stream and runs the app's handler on it. */
function start(
  socket: WebSocketInit['socket'],
  head: Buffer,
  chosen: WsNegotiation,
  resolved: ResolvedWebSocketOptions,
  context: { onShutdown(listener: () => void): void },
  handler: WebSocketHandler,
  req: Request,
): void {
  const ws = new WebSocket({
    socket,
    isServer: true,
    head,
    url: req.url,
    protocol: chosen.protocol,
    extensions: chosen.extensions,
    deflate: chosen.deflate,
    options: resolved,
  });
  context.onShutdown(() => ws.close(WsCloseCode.GoingAway, 'server shutting down'));
  run(ws, handler, req);
}

/**
 * The server side of RFC 8441 §5 on an extended CONNECT `context`: checks the version, runs the
 * Origin hook, negotiates, answers `:status 200` and hands the WebSocket to `handler`. Returns a
 * Response to decline, or undefined (maybe through a promise) once the stream was taken over.
 */
export function acceptWebSocketOverH2(
  context: ExtendedConnectContext,
  handler: WebSocketHandler,
  options: WebSocketServerOptions = {},
  resolved: ResolvedWebSocketOptions = resolveWebSocketOptions(options),
): Response | Promise<Response | undefined> | undefined {
  const req = context.req;
  const headers = req.headers;
  if (context.protocol !== 'websocket')
    return declined(400, 'the extended CONNECT is not for websocket (RFC 8441 §4)');
  if (headers.get('sec-websocket-version') !== '13') {
    // RFC 6455 §4.4 says which version we speak; 426 needs Upgrade, which HTTP/2 forbids.
    return declined(400, 'unsupported WebSocket version: this server speaks 13 (RFC 6455 §4.4)', {
      'sec-websocket-version': '13',
    });
  }
  const offered = offeredProtocols(req);
  if (offered instanceof Response) return offered;
  // Data the client sends meanwhile waits in the stream (uncredited once over its buffer).
  return withOriginCheck(req, options, () => completeOverH2(context, handler, options, resolved, offered));
}

function completeOverH2(
  context: ExtendedConnectContext,
  handler: WebSocketHandler,
  options: WebSocketServerOptions,
  resolved: ResolvedWebSocketOptions,
  offered: string[],
): Response | undefined {
  const req = context.req;
  const chosen = negotiate(req, options, resolved, offered);
  if (chosen instanceof Response) return chosen;
  // RFC 8441 §5: a 200 with the negotiated subprotocol and extensions, no Sec-WebSocket-Accept.
  const fields: string[] = [];
  if (chosen.protocol !== '') fields.push('sec-websocket-protocol', chosen.protocol);
  if (chosen.extensions !== '') fields.push('sec-websocket-extensions', chosen.extensions);
  const stream = context.accept(fields);
  if (stream.destroyed) return undefined; // reset while the Origin hook ran
  start(stream, EMPTY, chosen, resolved, context, handler, req);
  return undefined;
}

const EMPTY = Buffer.alloc(0);

/** What the opening handshake settled on. */
interface WsNegotiation {
  /** The subprotocol (RFC 6455 §4.2.2 item 5.3), '' for none. */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` answer, '' for none. */
  extensions: string;
  deflate: PerMessageDeflate | undefined;
}

/** The client's `Sec-WebSocket-Protocol` offers, or a 400 when they are not distinct tokens. */
function offeredProtocols(req: Request): string[] | Response {
  const protocolField = req.headers.get('sec-websocket-protocol');
  if (protocolField === undefined) return [];
  const parsed = parseWsProtocols(protocolField);
  if (parsed === null)
    return declined(400, 'Sec-WebSocket-Protocol must be a list of distinct tokens (RFC 6455 §4.1)');
  return parsed;
}

/** Picks the subprotocol (RFC 6455 §4.2.2 item 5.3) and negotiates permessage-deflate (RFC 7692 §5). */
function negotiate(
  req: Request,
  options: WebSocketServerOptions,
  resolved: ResolvedWebSocketOptions,
  offered: string[],
): WsNegotiation | Response {
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
    const accepted = acceptPerMessageDeflate(req.headers.get('sec-websocket-extensions'), deflateOptions);
    if (accepted !== undefined) {
      deflate = new PerMessageDeflate(true, accepted.params, deflateOptions, resolved.maxMessageSize);
      extensions = accepted.response;
    }
  }
  return { protocol, extensions, deflate };
}

/** Runs the route's handler on an accepted WebSocket, then starts reading. */
function run(ws: WebSocket, handler: WebSocketHandler, req: Request): void {
  try {
    const result = handler(ws, req);
    if (result instanceof Promise) result.catch((err) => onHandlerError(ws, err));
  } catch (err) {
    onHandlerError(ws, err);
  }
  ws.start();
}

/** A handler that threw: close with 1011 (RFC 6455 §7.4.1) and report it like a listener error. */
function onHandlerError(ws: WebSocket, error: unknown): void {
  ws.close(WsCloseCode.InternalError);
  if (ws.listenerCount('error') > 0)
    ws.emit('error', error instanceof Error ? error : new Error(String(error)));
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
