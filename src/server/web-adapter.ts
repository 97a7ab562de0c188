/**
 * Converters between our Request/Response and the WHATWG Fetch ones, at the edge of the app:
 * `fetchHandler(fn)` lets code written for `(request: Request) => Response` (the shape of
 * Workers, Deno, Bun and hono handlers) run as an avx route handler, streaming both ways.
 */
import { Readable } from 'node:stream';
import type { Handler } from './handler.js';
import type { Request } from './request.js';
import { Response } from './response.js';

/** A WHATWG `Request` for our request; its body streams from ours (read it at most once). */
export function toWebRequest(req: Request): globalThis.Request {
  const headers = new globalThis.Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  const method = req.method;
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: req.signal };
  if (hasBody) {
    init.body = Readable.toWeb(req.body.stream()) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new globalThis.Request(req.fullUrl, init);
}

/** Our Response for a WHATWG `Response`; its body is streamed, not buffered. */
export function fromWebResponse(res: globalThis.Response): Response {
  const out = new Response(null, { status: res.status, statusText: res.statusText || undefined });
  res.headers.forEach((value, name) => {
    out.headers.append(name, value);
  });
  // Set-Cookie is the one field the WHATWG Headers joins; take its separate values.
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 1) {
    out.headers.delete('set-cookie');
    for (const cookie of cookies) out.headers.append('set-cookie', cookie);
  }
  if (res.body !== null) out.body = res.body as unknown as AsyncIterable<Uint8Array>;
  return out;
}

/** Wraps a fetch-style handler as a route handler. */
export function fetchHandler(
  fn: (request: globalThis.Request) => globalThis.Response | Promise<globalThis.Response>,
): Handler {
  return async (req) => fromWebResponse(await fn(toWebRequest(req)));
}
