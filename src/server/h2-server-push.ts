/**
 * The HTTP/2 server driver's side of server push (RFC 9113 §8.4): the promised request's header
 * fields, checked as §8.4.1 asks (a safe, cacheable method, origin-form path, no
 * connection-specific fields), and the {@link ServerPush} handle a handler answers it on.
 * `H2ServerConnection` sends the PUSH_PROMISE (through `H2Connection.pushPromise`) and the
 * pushed response like any other response.
 */
import { Headers } from '../core/headers.js';
import { CONNECTION_SPECIFIC } from '../h2/h2-field-validation.js';
import type { Request } from './request.js';
import type { HandlerResult } from './response.js';
import { type PushOptions, PushRequestError, type ServerPush } from './server-push.js';

/** Fields never sent over HTTP/2 (RFC 9113 §8.2.2); `host` travels as `:authority`. */
const DROPPED: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC, 'host', 'content-length']);

/** The promised request: its header section for PUSH_PROMISE and its regular fields. */
export interface PushRequestHead {
  method: 'GET' | 'HEAD';
  /** `:method`, `:scheme`, `:authority`, `:path`, then the regular fields, lowercase. */
  fields: string[];
  headers: Headers;
}

/** Builds the promised request of `req.push(path, options)`; throws {@link PushRequestError}. */
export function pushRequestHead(
  path: string,
  options: PushOptions | undefined,
  scheme: string,
  authority: string,
): PushRequestHead {
  const method = options?.method ?? 'GET';
  // RFC 9113 §8.4.1: "Promised requests MUST be safe ... and cacheable", so GET or HEAD.
  if (method !== 'GET' && method !== 'HEAD') {
    throw new PushRequestError(
      `a pushed request must be GET or HEAD, not ${String(method)} (RFC 9113 §8.4.1)`,
    );
  }
  if (typeof path !== 'string' || path.charCodeAt(0) !== 0x2f || /[\s\0]/.test(path)) {
    throw new PushRequestError(
      `a pushed path must be in origin-form ("/style.css"): ${JSON.stringify(path)}`,
    );
  }
  if (authority === '')
    throw new PushRequestError('the request has no authority to push for (RFC 9113 §8.4.1)');
  const fields = [':method', method, ':scheme', scheme, ':authority', authority, ':path', path];
  const headers = options?.headers === undefined ? new Headers() : new Headers(options.headers);
  for (let i = 0; i < headers.size; i++) {
    const name = headers.nameAt(i)!.toLowerCase();
    if (!DROPPED.has(name)) fields.push(name, headers.valueAt(i)!);
  }
  return { method, fields, headers };
}

/** The driver's exchange behind one pushed response. */
export interface PushedExchange {
  readonly req: Request;
  /** Sends the response (a handler's result, or a promise of one). */
  answer(result: HandlerResult | Promise<HandlerResult>): void;
  /** Resets the promised stream with CANCEL unless its response is complete. */
  cancel(): void;
}

/** The {@link ServerPush} a handler gets from `req.push`. */
export class H2ServerPush implements ServerPush {
  /** `respond` was called. */
  answered = false;
  private readonly exchange: PushedExchange;

  constructor(exchange: PushedExchange) {
    this.exchange = exchange;
  }

  get request(): Request {
    return this.exchange.req;
  }

  respond(result: HandlerResult | Promise<HandlerResult>): void {
    if (this.answered) return;
    this.answered = true;
    this.exchange.answer(result);
  }

  cancel(): void {
    this.answered = true;
    this.exchange.cancel();
  }
}
