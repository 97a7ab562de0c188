/**
 * Protocols bootstrapped over HTTP/2 with extended CONNECT (RFC 8441): the HTTP/2 counterpart
 * of an HTTP/1.1 `Upgrade` (see ./upgrade.ts). A protocol module registers a handler for a
 * `:protocol` token with `app.connectProtocol(token, handler)` (WebSocket does so for
 * `websocket`, RFC 8441 §5). The HTTP/2 driver announces SETTINGS_ENABLE_CONNECT_PROTOCOL
 * (§3) and hands each `CONNECT` with that `:protocol` (§4) to the handler, which either accepts
 * it (a 2xx response, after which the stream's DATA frames carry the protocol both ways) or
 * returns a response to decline it.
 */
import type { Duplex } from 'node:stream';
import type { Request } from './request.js';
import type { HandlerResult } from './response.js';

/** What an extended CONNECT handler receives. */
export interface ExtendedConnectContext {
  /** The request: method `CONNECT`, the target from `:path`, protocol `h2`. */
  req: Request;
  /** The `:protocol` token, lowercase (e.g. `websocket`). */
  protocol: string;
  /**
   * Accepts the request: sends `:status 200` with `fields` (lowercase name / value pairs) and
   * returns the stream as a byte duplex: writes are DATA frames, `end()` is END_STREAM (then
   * RST_STREAM NO_ERROR if the client still has its side open, RFC 9113 §8.1: the server's end
   * is final, as a WebSocket server closes first), `destroy()` is RST_STREAM CANCEL, and HTTP/2
   * flow control is its backpressure. Data the client sent before the answer is waiting in it.
   */
  accept(fields?: readonly string[]): Duplex;
  /** Registers what to do when the server shuts down gracefully (e.g. send a close frame). */
  onShutdown(callback: () => void): void;
}

/**
 * Accepts the request through `context.accept` and returns nothing, or returns a response (any
 * handler result) to decline: it is sent on the stream, which then ends.
 */
export type ExtendedConnectHandler = (
  context: ExtendedConnectContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that accepts returns nothing
) => HandlerResult | Promise<HandlerResult> | void;
