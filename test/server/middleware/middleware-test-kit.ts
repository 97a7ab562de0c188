/**
 * Helpers for calling middleware directly, without sockets: build a Request, a `next` that
 * records whether it ran and answers with a given Response, and read any body kind to bytes.
 */
import { Headers, type HeadersInit } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import type { Next } from '../../../src/server/handler.js';
import { Request } from '../../../src/server/request.js';
import { Response, type ResponseBody } from '../../../src/server/response.js';

/** Fields of a test request; defaults: GET `/`, no headers, empty body. */
export interface TestRequestInit {
  method?: string;
  target?: string;
  headers?: HeadersInit;
  body?: string;
}

/** A Request as a driver would build it, from loopback. */
export function makeRequest(init: TestRequestInit = {}): Request {
  return new Request({
    method: init.method ?? 'GET',
    target: init.target ?? '/',
    headers: new Headers(init.headers),
    body: init.body === undefined ? IncomingBody.empty() : IncomingBody.of(init.body),
    protocol: 'http/1.1',
    connection: { remoteAddress: '127.0.0.1', remotePort: 1234, secure: false },
  });
}

/** A `next` that answers with `make()` and counts its calls in `calls`. */
export interface RecordingNext extends Next {
  calls: number;
}

/** A `next` answering with a fresh response from `make` (default: 200 text "from next"). */
export function recordingNext(make: () => Response = () => Response.text('from next')): RecordingNext {
  const next = (async () => {
    next.calls++;
    return make();
  }) as RecordingNext;
  next.calls = 0;
  return next;
}

/** Reads a response body of any kind into one Buffer. */
export async function bodyBytes(body: ResponseBody): Promise<Buffer> {
  if (body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The response's header fields as a plain object (lowercase names), for exact comparisons. */
export function headerObject(res: Response): Record<string, string | string[]> {
  return { ...res.headers.toObject() };
}
