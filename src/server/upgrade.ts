/**
 * Taking over a connection after an HTTP/1.1 `Upgrade` (RFC 9110 §7.8): protocol modules such
 * as WebSocket register a handler for their upgrade token with `app.upgrade(token, handler)`.
 * The driver hands the socket, the request and any bytes that followed the request to the
 * handler, which writes the 101 response itself, or returns a response to refuse the upgrade.
 */
import type { Socket } from 'node:net';
import type { Request } from './request.js';
import type { HandlerResult } from './response.js';

/** What an upgrade handler receives. */
export interface UpgradeContext {
  req: Request;
  /** The raw socket (a TLSSocket for HTTPS), detached from HTTP/1.1: it is the handler's now. */
  socket: Socket;
  /** Bytes that arrived after the request head; they belong to the new protocol. */
  head: Buffer;
  /** Registers what to do when the server shuts down gracefully (e.g. send a close frame). */
  onShutdown(callback: () => void): void;
}

/**
 * Takes over the connection and returns nothing, or returns a response (any handler result) to
 * decline: that response is sent and the connection closed.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that takes over returns nothing
export type UpgradeHandler = (context: UpgradeContext) => HandlerResult | Promise<HandlerResult> | void;

/** Sockets that were upgraded, so that the server can shut them down too. */
export interface UpgradeRegistry {
  /** Records an upgraded socket and its graceful-shutdown callback. */
  adopt(socket: Socket): (callback: () => void) => void;
}
