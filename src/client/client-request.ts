/**
 * A request as it travels down the client's dispatch chain: method (RFC 9110 §9), target URI
 * (RFC 9110 §7.1), header fields, body, cancellation signal and per-attempt timeouts. Interceptors
 * and policies read it and may change it (or derive a new one with {@link ClientRequest.with})
 * before passing it on; the pool at the end of the chain sends it.
 */
import type { Headers, HeadersInit } from '../core/headers.js';
import type { RequestBody, RequestBodyInit } from './request-body.js';
import type { RetryOptions } from './retry-policy.js';

/** Timeouts of one request, in milliseconds; 0 disables one. Unset fields take the client's. */
export interface RequestTimeouts {
  /** Establishing a new connection (TCP, TLS, proxy tunnel). */
  connect?: number;
  /** From the request being sent to the response head being complete. */
  headers?: number;
  /** Longest silence between two pieces of the response body while it is being read. */
  body?: number;
  /** The whole exchange, every attempt included, until the response body has ended. */
  total?: number;
}

/** What to do with a redirect (3xx with Location): follow it, return it, or fail. */
export type RedirectMode = 'follow' | 'manual' | 'error';

/** What `client.request()` accepts. Only `url` is required. */
export interface RequestOptions {
  /** Request method. Default `'GET'`. */
  method?: string;
  /** Absolute `http:` or `https:` URL. */
  url: string | URL;
  /** Header fields. Host, Content-Length and Transfer-Encoding are set by the client. */
  headers?: HeadersInit;
  /** Request body (see {@link RequestBodyInit}); none by default. */
  body?: RequestBodyInit | RequestBody | null;
  /** Cancels the request (and the reading of its body) when it fires. */
  signal?: AbortSignal;
  /** The total timeout in ms, or each timeout separately. Default: the client's. */
  timeout?: number | RequestTimeouts;
  /** Redirect handling. Default: the client's (`'follow'`). */
  redirect?: RedirectMode;
  /** Most redirects followed. Default: the client's (10). */
  maxRedirects?: number;
  /** Retry settings; `false` or `0` disables retries. Default: the client's. */
  retry?: number | RetryOptions | false;
  /** Decode gzip / deflate / br response bodies. Default: the client's (true). */
  decompress?: boolean;
}

/** The request object the dispatch chain passes along. */
export class ClientRequest {
  /** Method token, e.g. `GET`. */
  method: string;
  /** The target URL. */
  url: URL;
  /** Header fields as the user gave them; framing and Host are added when the head is written. */
  headers: Headers;
  /** The body, or null. */
  body: RequestBody | null;
  /** Cancellation. */
  signal: AbortSignal | undefined;
  /** Connect timeout in ms (0: none). */
  connectTimeout: number;
  /** Response head timeout in ms (0: none). */
  headersTimeout: number;
  /** Response body idle timeout in ms (0: none). */
  bodyTimeout: number;
  /** Per-request redirect mode; undefined: the client's. */
  redirect: RedirectMode | undefined;
  /** Per-request redirect limit; undefined: the client's. */
  maxRedirects: number | undefined;
  /** Per-request retry settings; undefined: the client's. */
  retry: number | RetryOptions | false | undefined;
  /** Per-request decompression switch; undefined: the client's. */
  decompress: boolean | undefined;

  constructor(
    method: string,
    url: URL,
    headers: Headers,
    body: RequestBody | null,
    signal: AbortSignal | undefined,
    connectTimeout: number,
    headersTimeout: number,
    bodyTimeout: number,
  ) {
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.body = body;
    this.signal = signal;
    this.connectTimeout = connectTimeout;
    this.headersTimeout = headersTimeout;
    this.bodyTimeout = bodyTimeout;
    this.redirect = undefined;
    this.maxRedirects = undefined;
    this.retry = undefined;
    this.decompress = undefined;
  }

  /** A copy with some fields replaced (the header list is shared unless replaced too). */
  with(changes: Partial<Pick<ClientRequest, 'method' | 'url' | 'headers' | 'body'>>): ClientRequest {
    const copy = new ClientRequest(
      changes.method ?? this.method,
      changes.url ?? this.url,
      changes.headers ?? this.headers,
      'body' in changes ? (changes.body ?? null) : this.body,
      this.signal,
      this.connectTimeout,
      this.headersTimeout,
      this.bodyTimeout,
    );
    copy.redirect = this.redirect;
    copy.maxRedirects = this.maxRedirects;
    copy.retry = this.retry;
    copy.decompress = this.decompress;
    return copy;
  }
}
