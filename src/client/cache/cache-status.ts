/**
 * The `Cache-Status` response field (RFC 9211) the cache policy adds to every response it
 * handles, so callers and logs can see what the cache did. One list member, named after the
 * cache (`avx` by default), with the parameters of RFC 9211 §2:
 *
 * | Outcome                                  | Value                                        |
 * | ---------------------------------------- | -------------------------------------------- |
 * | fresh hit, no request sent               | `avx; hit; ttl=42`                            |
 * | stale hit allowed by `max-stale`         | `avx; hit; ttl=-5`                            |
 * | nothing stored for the URI               | `avx; fwd=uri-miss`                           |
 * | stored, but no variant matches `Vary`    | `avx; fwd=vary-miss`                          |
 * | request forced a trip (`no-cache`, ...)  | `avx; fwd=request; fwd-status=304`            |
 * | stale, revalidated (304) or replaced     | `avx; fwd=stale; fwd-status=304`              |
 * | stale served after a 5xx (RFC 5861)      | `avx; fwd=stale; fwd-status=503; ttl=-5; detail=stale-if-error` |
 * | not handled (conditional, Range, body)   | `avx; fwd=bypass`                             |
 * | `only-if-cached` with nothing usable     | `avx; detail=only-if-cached` (on a 504)       |
 *
 * `stored` is added when the response is a candidate for storing (it is kept only if its body
 * completes within `maxEntryBytes`).
 */

/** Parameters of one Cache-Status member (RFC 9211 §2). */
export interface CacheStatusParams {
  /** §2.1: served from the cache without going forward. */
  hit?: boolean;
  /** §2.2: why the request went forward. */
  fwd?: 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale';
  /** §2.3: the status of the forwarded response. */
  fwdStatus?: number;
  /** §2.4: remaining freshness in ms (negative once stale); written in whole seconds. */
  ttlMs?: number;
  /** §2.5: the response was (to be) stored. */
  stored?: boolean;
  /** §2.8: extra detail. */
  detail?: string;
}

/** Formats one Cache-Status list member. */
export function formatCacheStatus(cacheName: string, params: CacheStatusParams): string {
  let value = cacheName;
  if (params.hit === true) value += '; hit';
  if (params.fwd !== undefined) value += `; fwd=${params.fwd}`;
  if (params.fwdStatus !== undefined) value += `; fwd-status=${params.fwdStatus}`;
  if (params.ttlMs !== undefined) value += `; ttl=${Math.floor(params.ttlMs / 1000)}`;
  if (params.stored === true) value += '; stored';
  if (params.detail !== undefined) value += `; detail=${params.detail}`;
  return value;
}
