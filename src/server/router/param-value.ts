/**
 * Percent-decoding of route parameter values (RFC 3986 §2.1). The router matches the raw path
 * as sent; only the captured values are decoded, and only when they contain a `%`.
 *
 * A malformed escape (`%zz`, a truncated `%E2%82`, an escape that is not UTF-8) makes the
 * request a client error: {@link decodeParamValue} throws an {@link HttpError} 400 rather than
 * hand the handler a value that is neither raw nor decoded.
 */
import { HttpError } from '../http-error.js';

/** `raw` percent-decoded as UTF-8; throws HttpError 400 when an escape is malformed. */
export function decodeParamValue(raw: string): string {
  // indexOf is a native scan: cheaper than calling decodeURIComponent on every value.
  if (raw.indexOf('%') === -1) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the request path');
  }
}
