/**
 * The head of a response sent over HTTP/2 (RFC 9113 §8.3.2) or HTTP/3 (RFC 9114 §4.3.2), which
 * both server drivers build the same way from a handler's result: the final status (an
 * informational or invalid one becomes 500, RFC 9110 §15.2), `:status`, the application's fields
 * lowercased without the connection-specific ones (RFC 9113 §8.2.2, RFC 9114 §4.2) and without
 * Content-Length (the driver sets it from the body), `Date` unless given (RFC 9110 §6.6.1),
 * `Alt-Svc` when the server advertises one (RFC 7838 §3) and the handler did not, and the
 * Content-Type a plain value implies. Content-Length and how the body goes out are left to the
 * driver.
 */
import { httpDate } from '../runtime/http-date.js';
import { type HandlerResult, isStreamBody, Response } from './response.js';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const BYTES = 'application/octet-stream';

/** A response head ready for the core, and the body still to send. */
export interface MultiplexedResponseHead {
  /** The handler's Response, or undefined when it returned a plain value. */
  response: Response | undefined;
  /** `[':status', status, name0, value0, ...]`, without Content-Length. */
  fields: string[];
  /** The body to send: the Response's body, or the plain value (an object as its JSON text). */
  body: unknown;
}

/** The final status of `result`: its Response's, else 204 for no value and 200 for one. */
export function finalResponseStatus(result: HandlerResult): number {
  const status =
    result instanceof Response ? result.status : result === null || result === undefined ? 204 : 200;
  // An informational or invalid status cannot be a final response (RFC 9110 §15.2).
  return !Number.isInteger(status) || status < 200 || status > 999 ? 500 : status;
}

/**
 * The head of `result` with `status` (from {@link finalResponseStatus}; see the file comment):
 * application fields named in `dropped` are left out, and `altSvc` (undefined: none) is added
 * unless the Response has its own Alt-Svc.
 */
export function multiplexedResponseHead(
  result: HandlerResult,
  status: number,
  dropped: ReadonlySet<string>,
  altSvc: string | undefined,
): MultiplexedResponseHead {
  const res = result instanceof Response ? result : undefined;
  const fields: string[] = [':status', String(status)];
  let hasDate = false;
  let hasType = false;
  if (res?.hasHeaders) {
    const headers = res.headers;
    for (let i = 0; i < headers.size; i++) {
      const name = headers.nameAt(i)!.toLowerCase();
      if (dropped.has(name) || name === 'content-length') continue;
      if (name === 'date') hasDate = true;
      else if (name === 'content-type') hasType = true;
      fields.push(name, headers.valueAt(i)!);
    }
  }
  if (!hasDate) fields.push('date', httpDate());
  if (altSvc !== undefined && !(res?.hasHeaders && res.headers.has('alt-svc')))
    fields.push('alt-svc', altSvc);
  let body: unknown = res !== undefined ? res.body : result;
  if (res === undefined && !hasType && body !== null && body !== undefined) {
    if (typeof body === 'string') fields.push('content-type', TEXT);
    else if (body instanceof Uint8Array) fields.push('content-type', BYTES);
    else if (typeof body === 'object' && isStreamBody(body)) fields.push('content-type', BYTES);
    else {
      fields.push('content-type', JSON_TYPE);
      body = JSON.stringify(body);
    }
  } else if (res === undefined && (body === null || body === undefined)) {
    body = null;
  }
  return { response: res, fields, body };
}
