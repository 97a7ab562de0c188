/**
 * WHATWG Fetch over the client: `client.fetch(input, init)` takes what the global `fetch` takes
 * (a URL or a `Request`, and a `RequestInit`) and resolves with a WHATWG `Response`, so code
 * written for `fetch` moves over unchanged. It lives at the edge: requests are converted into
 * the client's own and responses back, the core path never sees WHATWG objects.
 *
 * Differences from browsers that follow from being a server-side client: no CORS, no cookies
 * jar, no cache; `redirect: 'manual'` returns the 3xx response itself (status and Location
 * visible) rather than an opaque-redirect. Errors follow fetch: a network failure rejects with a
 * `TypeError` whose `cause` is the client's typed error; an abort rejects with the signal's
 * reason (an `AbortError` `DOMException` by default).
 */
import { Buffer } from 'node:buffer';
import type { IncomingBody } from '../core/incoming-body.js';
import { ClientError, RequestAbortedError } from './client-errors.js';
import type { RedirectMode } from './client-request.js';
import type { ClientResponse } from './client-response.js';
import type { RequestBodyInit } from './request-body.js';

/** The part of `Client` the adapter uses. */
export interface FetchCapableClient {
  request(options: {
    method: string;
    url: string;
    headers: globalThis.Headers;
    body: RequestBodyInit | null;
    signal: AbortSignal | undefined;
    redirect: RedirectMode;
  }): Promise<ClientResponse>;
}

/** Statuses whose WHATWG `Response` must have a null body. */
function nullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

/** The body as a WHATWG ReadableStream of bytes, with cancellation passed through. */
function toReadableStream(body: IncomingBody): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel(reason) {
      body.cancel(reason instanceof Error ? reason : undefined);
      await iterator.return?.();
    },
  });
}

function toWhatwgResponse(response: ClientResponse, method: string): Response {
  const headers = new globalThis.Headers();
  const n = response.headers.size;
  for (let i = 0; i < n; i++) headers.append(response.headers.nameAt(i)!, response.headers.valueAt(i)!);
  const status = response.status;
  let body: ReadableStream<Uint8Array> | null = null;
  if (nullBodyStatus(status) || method === 'HEAD') {
    response.body.discard().catch(() => {});
  } else {
    body = toReadableStream(response.body);
  }
  // The Response constructor only takes 200..599; other codes are carried over by hand.
  const init: ResponseInit = {
    status: status >= 200 && status <= 599 ? status : 200,
    statusText: response.statusText,
    headers,
  };
  const result = new Response(body, init);
  if (init.status !== status) Object.defineProperty(result, 'status', { value: status });
  Object.defineProperty(result, 'url', { value: response.url });
  Object.defineProperty(result, 'redirected', { value: response.redirected });
  return result;
}

/** `fetch(input, init)` through `client`. */
export async function clientFetch(
  client: FetchCapableClient,
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  let url: string;
  let method: string;
  let headers: globalThis.Headers;
  let body: RequestBodyInit | null = null;
  let signal: AbortSignal | undefined;
  let redirect: RedirectMode;
  if (input instanceof Request) {
    url = input.url;
    method = init.method ?? input.method;
    headers = new globalThis.Headers(init.headers ?? input.headers);
    signal = init.signal ?? input.signal;
    redirect = (init.redirect ?? input.redirect) as RedirectMode;
    if (init.body === undefined && input.body !== null) body = Buffer.from(await input.arrayBuffer());
  } else {
    url = String(input);
    method = init.method ?? 'GET';
    headers = new globalThis.Headers(init.headers);
    signal = init.signal ?? undefined;
    redirect = (init.redirect ?? 'follow') as RedirectMode;
  }
  if (init.body !== undefined && init.body !== null) body = init.body as RequestBodyInit;
  // Fetch normalises the standard methods to upper case (WHATWG Fetch "normalize a method").
  const upper = method.toUpperCase();
  if (['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'].includes(upper)) method = upper;
  if (body !== null && (method === 'GET' || method === 'HEAD')) {
    throw new TypeError('Request with GET/HEAD method cannot have body.');
  }
  if (signal?.aborted) throw signal.reason;
  let response: ClientResponse;
  try {
    response = await client.request({ method, url, headers, body, signal, redirect });
  } catch (err) {
    if (err instanceof RequestAbortedError && signal?.aborted) throw signal.reason;
    if (err instanceof ClientError && err.code === 'AVX_CLIENT_UNEXPECTED_REDIRECT') {
      throw new TypeError('fetch failed: unexpected redirect', { cause: err });
    }
    if (err instanceof ClientError) throw new TypeError('fetch failed', { cause: err });
    throw err;
  }
  return toWhatwgResponse(response, method);
}
