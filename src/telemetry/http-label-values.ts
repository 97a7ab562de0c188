/**
 * Low-cardinality label values for HTTP telemetry, shared by metrics and tracing:
 * - the method as OpenTelemetry's HTTP semantic conventions spell it (`http.request.method`):
 *   the RFC 9110 §9 methods and PATCH (RFC 5789) as sent, anything else `_OTHER`, so a client
 *   inventing methods cannot create series without bound;
 * - the status class (`2xx`...), from a table indexed by `status / 100`.
 */

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** The method label: a known method as is, else `_OTHER` (OTel HTTP semconv). */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** `1xx`..`5xx`; `0xx` for a status outside 100..599 (none sent). */
export function statusClassLabel(status: number): string {
  const c = (status / 100) | 0;
  return c >= 1 && c <= 5 ? STATUS_CLASSES[c]! : STATUS_CLASSES[0]!;
}

/** The `route` label of a request no route matched (never the raw path). */
export const UNMATCHED_ROUTE = '(unmatched)';
