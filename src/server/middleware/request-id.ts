/**
 * Request id middleware: gives every request an id that logs, traces and the client can quote.
 * An incoming `X-Request-Id` (set by a proxy or the client) is reused when it looks safe:
 * 1 to `maxLength` characters from `A-Z a-z 0-9 - _ . : + / = @`, so it cannot smuggle
 * control characters or odd bytes into logs. Otherwise a new id is made
 * (`crypto.randomUUID()`, RFC 9562 version 4). The id is stored in `req.locals.requestId`
 * and echoed in the response's `X-Request-Id`.
 */
import { randomUUID } from 'node:crypto';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import type { Response } from '../response.js';

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** Header field carrying the id, in the request and the response. Default `X-Request-Id`. */
  header?: string;
  /** Reuse a valid incoming id. Default true; set false when clients are not trusted to pick ids. */
  trustIncoming?: boolean;
  /** Longest incoming id reused, in characters. Default 128. */
  maxLength?: number;
  /** Makes a new id. Default `crypto.randomUUID`. */
  generate?: () => string;
}

/** 1 for the characters an incoming id may use. */
const ID_CHARS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:+/=@')
  ID_CHARS[c.charCodeAt(0)] = 1;

/** True when `id` is 1..maxLength characters from the safe set. */
export function isSafeRequestId(id: string, maxLength: number): boolean {
  const n = id.length;
  if (n === 0 || n > maxLength) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c >= 128 || ID_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * A middleware that sets `req.locals.requestId` and the response's id header. Defaults:
 * `header` `X-Request-Id`, `trustIncoming` true, `maxLength` 128, `generate` `crypto.randomUUID`.
 */
export function requestId(options: RequestIdOptions = {}): Middleware {
  const header = options.header ?? 'X-Request-Id';
  const trustIncoming = options.trustIncoming ?? true;
  const maxLength = options.maxLength ?? 128;
  const generate = options.generate ?? randomUUID;

  return async function requestIdMiddleware(req: Request, next: Next): Promise<Response> {
    let id: string | undefined;
    if (trustIncoming) {
      const incoming = req.headers.get(header);
      if (incoming !== undefined && isSafeRequestId(incoming, maxLength)) id = incoming;
    }
    if (id === undefined) id = generate();
    req.locals.requestId = id;
    const res = await next();
    res.headers.set(header, id);
    return res;
  };
}
