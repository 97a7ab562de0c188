/**
 * HTTP request methods (RFC 9110 §9). A method is any token; the ones listed here are those of
 * the IANA HTTP Method Registry plus the extension methods Node's `http.METHODS` accepts, which
 * is the set a server sees in practice. Parsers reject other methods unless told otherwise.
 */
import { isToken } from './char-classes.js';
import { InvalidMethodError } from './errors.js';

/** Common method names as constants: `Method.GET === 'GET'`. */
export const Method = {
  GET: 'GET',
  HEAD: 'HEAD',
  POST: 'POST',
  PUT: 'PUT',
  DELETE: 'DELETE',
  CONNECT: 'CONNECT',
  OPTIONS: 'OPTIONS',
  TRACE: 'TRACE',
  PATCH: 'PATCH',
  QUERY: 'QUERY',
} as const;
export type Method = (typeof Method)[keyof typeof Method];

/** The IANA HTTP Method Registry and Node's extension methods, in alphabetical order. */
export const KNOWN_METHODS: readonly string[] = Object.freeze([
  'ACL',
  'BASELINE-CONTROL',
  'BIND',
  'CHECKIN',
  'CHECKOUT',
  'CONNECT',
  'COPY',
  'DELETE',
  'GET',
  'HEAD',
  'LABEL',
  'LINK',
  'LOCK',
  'M-SEARCH',
  'MERGE',
  'MKACTIVITY',
  'MKCALENDAR',
  'MKCOL',
  'MKREDIRECTREF',
  'MKWORKSPACE',
  'MOVE',
  'NOTIFY',
  'OPTIONS',
  'ORDERPATCH',
  'PATCH',
  'POST',
  'PRI',
  'PROPFIND',
  'PROPPATCH',
  'PURGE',
  'PUT',
  'QUERY',
  'REBIND',
  'REPORT',
  'SEARCH',
  'SOURCE',
  'SUBSCRIBE',
  'TRACE',
  'UNBIND',
  'UNCHECKOUT',
  'UNLINK',
  'UNLOCK',
  'UNSUBSCRIBE',
  'UPDATE',
  'UPDATEREDIRECTREF',
  'VERSION-CONTROL',
]);

const known = new Set(KNOWN_METHODS);

/** RFC 9110 §9.2.1: safe methods are read-only by contract. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'QUERY', 'PROPFIND', 'REPORT', 'SEARCH']);
/** RFC 9110 §9.2.2: idempotent = safe methods plus PUT and DELETE. */
const IDEMPOTENT = new Set([...SAFE, 'PUT', 'DELETE']);

/** True for a method in {@link KNOWN_METHODS} (case-sensitive, as methods are, RFC 9110 §9.1). */
export function isKnownMethod(method: string): boolean {
  return known.has(method);
}

/** True for a safe method (RFC 9110 §9.2.1). */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method);
}

/** True for an idempotent method (RFC 9110 §9.2.2): a retry after a failure cannot do harm. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Returns `method` when it is a valid token, else throws {@link InvalidMethodError}. */
export function validateMethod(method: string): string {
  if (!isToken(method)) throw new InvalidMethodError(method);
  return method;
}
