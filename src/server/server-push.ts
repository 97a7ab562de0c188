/**
 * Server push as handlers see it (RFC 9113 §8.4): `req.push(path, options)` promises a response
 * the client did not ask for yet, and returns a {@link ServerPush} to send that response on, or
 * null when pushing is not possible: the request came over HTTP/1.1 (or HTTP/3), the client
 * disabled push (SETTINGS_ENABLE_PUSH = 0, what browsers and most clients announce today), its
 * stream limit is reached, or the connection is going away. Code that pushes must therefore
 * always work without it:
 *
 * ```ts
 * app.get('/page', (req) => {
 *   req.push('/style.css')?.respond(Response.text(css, { headers: { 'content-type': 'text/css' } }));
 *   return Response.html(page);
 * });
 * ```
 *
 * The promised request is a GET (or HEAD) without content (§8.4.1) for the same authority and
 * scheme as `req`. A push that has no `respond` call by the time the response of `req` is
 * complete is cancelled (RST_STREAM CANCEL), so a forgotten push never holds the connection.
 */
import { AvxError } from '../core/errors.js';
import type { HeadersInit } from '../core/headers.js';
import type { Request } from './request.js';
import type { HandlerResult } from './response.js';

/** Options of {@link Request.push}. */
export interface PushOptions {
  /** Method of the promised request: a safe, cacheable method (RFC 9113 §8.4.1). Default 'GET'. */
  method?: 'GET' | 'HEAD';
  /**
   * Request header fields of the promised request (e.g. `accept-encoding`), as the client would
   * have sent them; connection-specific fields are dropped (RFC 9113 §8.2.2). Default none.
   */
  headers?: HeadersInit;
}

/** A promised response: send it with {@link ServerPush.respond}. */
export interface ServerPush {
  /** The promised request (method, path, headers; no body), as a handler would see it. */
  readonly request: Request;
  /**
   * Sends the pushed response: anything a handler may return, or a promise of it (e.g.
   * `push.respond(app.handle(push.request))` serves the promised request through the app). Only
   * the first call counts. A rejected promise sends a 500.
   */
  respond(result: HandlerResult | Promise<HandlerResult>): void;
  /** Withdraws the promise (RST_STREAM CANCEL, RFC 9113 §8.4.2) unless its response is complete. */
  cancel(): void;
}

/** What a driver that can push gives the requests it builds. */
export interface ServerPushSource {
  /** Promises `path` on the stream of the request; null when pushing is not possible. */
  push(path: string, options: PushOptions | undefined): ServerPush | null;
}

/** `req.push` was called with a request that cannot be pushed (RFC 9113 §8.4.1). */
export class PushRequestError extends AvxError {
  constructor(message: string) {
    super('AVX_PUSH_INVALID_REQUEST', message);
  }
}
