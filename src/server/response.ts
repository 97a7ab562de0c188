/**
 * The protocol-neutral response a handler produces. The driver that sends it chooses the
 * framing (Content-Length, chunked, DATA frames); the response only says what to send.
 * Handlers may also return plain values, turned into a Response by {@link toResponse}.
 */
import type { Readable } from 'node:stream';
import { Headers, type HeadersInit } from '../core/headers.js';

/** What a response body can be. */
export type ResponseBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string> | null;

/** Options of the {@link Response} constructor. */
export interface ResponseInit {
  /** Status code. Default 200. */
  status?: number;
  /** Reason phrase for HTTP/1.1. Default: the registered phrase of `status`. */
  statusText?: string;
  headers?: HeadersInit;
}

/** What a handler may return: a Response, or a value converted by {@link toResponse}. */
export type HandlerResult =
  | Response
  | string
  | Uint8Array
  | Readable
  | AsyncIterable<Uint8Array | string>
  | Record<string, unknown>
  | unknown[]
  | number
  | boolean
  | null
  | undefined;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const BYTES = 'application/octet-stream';

/** An HTTP response. */
export class Response {
  status: number;
  statusText: string | undefined;
  body: ResponseBody;
  /** Trailer fields to send after a streamed body (chunked HTTP/1.1, HTTP/2 trailers). */
  trailers: Headers | undefined;
  private fields: Headers | undefined;

  constructor(body: ResponseBody = null, init?: ResponseInit) {
    this.body = body;
    this.status = init?.status ?? 200;
    this.statusText = init?.statusText;
    if (init?.headers !== undefined) {
      this.fields = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    }
  }

  /** The response's header fields (made on first use). */
  get headers(): Headers {
    if (this.fields === undefined) this.fields = new Headers();
    return this.fields;
  }

  /** True when any header field was set: lets drivers skip an empty Headers. */
  get hasHeaders(): boolean {
    return this.fields !== undefined && this.fields.size > 0;
  }

  /** A JSON response (`application/json; charset=utf-8`). */
  static json(value: unknown, init?: ResponseInit): Response {
    if (init?.headers === undefined) return new Response(JSON.stringify(value), withType(init, JSON_TYPE));
    const res = new Response(JSON.stringify(value), init);
    if (!res.headers.has('content-type')) res.headers.set('content-type', JSON_TYPE);
    return res;
  }

  /** A plain-text response (`text/plain; charset=utf-8`). */
  static text(text: string, init?: ResponseInit): Response {
    if (init?.headers === undefined) return new Response(text, withType(init, TEXT));
    const res = new Response(text, init);
    if (!res.headers.has('content-type')) res.headers.set('content-type', TEXT);
    return res;
  }

  /** An HTML response. */
  static html(html: string, init?: ResponseInit): Response {
    const res = new Response(html, init);
    if (!res.headers.has('content-type')) res.headers.set('content-type', 'text/html; charset=utf-8');
    return res;
  }

  /** A redirect (RFC 9110 §15.4) to `location`. Default status 302. */
  static redirect(location: string, status = 302): Response {
    return new Response(null, { status, headers: { location } });
  }

  /** An empty response with `status`. */
  static empty(status = 204, init?: ResponseInit): Response {
    return new Response(null, { ...init, status });
  }
}

/** `init` plus a trusted Content-Type field (no validation needed for our constants). */
function withType(init: ResponseInit | undefined, contentType: string): ResponseInit {
  return { ...init, headers: Headers.fromFlat(['content-type', contentType], { trusted: true }) };
}

/** True for a value a handler returned as a body stream or async iterable. */
export function isStreamBody(value: object): value is AsyncIterable<Uint8Array | string> {
  return typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Stops a streamed body nobody will send (a HEAD response, a reset stream): its iterator's return(). */
export function closeStreamBody(body: unknown): void {
  if (typeof body !== 'object' || body === null || !isStreamBody(body)) return;
  const iterator = body[Symbol.asyncIterator]();
  iterator.return?.()?.catch(() => {});
}

/**
 * Turns a handler's result into a Response: strings become text, bytes become
 * `application/octet-stream`, streams and async iterables are streamed, `null`/`undefined`
 * become 204, anything else is sent as JSON.
 */
/** The 500 a connection sends when a handler throws or rejects and the app did not answer it. */
export function handlerFailedResponse(err: unknown): Response {
  return new Response(`${String(err)}\n`, {
    status: 500,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}

export function toResponse(result: HandlerResult): Response {
  if (result instanceof Response) return result;
  if (typeof result === 'string') return typed(result, TEXT);
  if (result === null || result === undefined) return new Response(null, { status: 204 });
  if (result instanceof Uint8Array) return typed(result, BYTES);
  if (typeof result === 'object' && isStreamBody(result)) return typed(result as ResponseBody, BYTES);
  return typed(JSON.stringify(result), JSON_TYPE);
}

/** A 200 with `body` and a Content-Type known to be valid (so it skips validation). */
function typed(body: ResponseBody, contentType: string): Response {
  return new Response(body, { headers: Headers.fromFlat(['content-type', contentType], { trusted: true }) });
}
