/**
 * The field section of a request sent over HTTP/2 (RFC 9113 §8.3.1) or HTTP/3 (RFC 9114
 * §4.3.1), which write it the same way: the request pseudo-header fields first, then the
 * caller's fields lowercased, without the connection-specific ones (RFC 9113 §8.2.2, RFC 9114
 * §4.2), `Host` (carried by `:authority`) and `Content-Length` (set here from the body), `TE`
 * only as `trailers`, then the body's implied Content-Type and its length.
 */
import { CONNECTION_SPECIFIC } from '../h2/h2-field-validation.js';
import type { ClientRequest } from './client-request.js';

/** Fields never sent in an HTTP/2 or HTTP/3 request, plus `host` and `content-length`. */
const DROPPED_FIELDS: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC, 'host', 'content-length']);

/** `[name0, value0, ...]` of `req` for `scheme` and `authority` (see the file comment). */
export function multiplexedRequestFields(req: ClientRequest, scheme: string, authority: string): string[] {
  const url = req.url;
  const fields: string[] = [
    ':method',
    req.method,
    ':scheme',
    scheme,
    ':authority',
    authority,
    ':path',
    `${url.pathname}${url.search}`,
  ];
  let hasContentType = false;
  const headers = req.headers;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.nameAt(i)!.toLowerCase();
    if (DROPPED_FIELDS.has(name)) continue;
    const value = headers.valueAt(i)!;
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    if (name === 'content-type') hasContentType = true;
    fields.push(name, value);
  }
  const body = req.body;
  if (body !== null) {
    if (body.contentType !== undefined && !hasContentType) fields.push('content-type', body.contentType);
    if (body.length >= 0) fields.push('content-length', String(body.length));
  } else if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    fields.push('content-length', '0');
  }
  return fields;
}
