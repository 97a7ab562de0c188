/**
 * Freshness of a stored response (RFC 9111 §4.2) as seen by a private cache: the freshness
 * lifetime from `max-age` or `Expires` (§4.2.1, §5.3) or, failing both, the heuristic from
 * `Last-Modified` (§4.2.2), and the current age from `Age`, `Date` and the request and response
 * times (§4.2.3, §5.1). Pure functions of the stored record and a time value: no clock is read.
 * All durations are in milliseconds.
 */
import { Headers } from '../../core/headers.js';
import { parseHttpDate } from '../../runtime/http-date.js';
import { type CacheDirectives, cacheControlOf, deltaSeconds } from './cache-control.js';
import type { StoredResponse } from './stored-response.js';

/**
 * Status codes that are heuristically cacheable (RFC 9110 §15.1): a cache may store them and
 * assign them a heuristic freshness lifetime when nothing explicit is given (RFC 9111 §4.2.2).
 */
export const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Statuses this cache understands, for `must-understand` (RFC 9111 §5.2.2.3). */
export const UNDERSTOOD_STATUSES = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501,
]);

/** Share of the time since Last-Modified used as heuristic lifetime (RFC 9111 §4.2.2 suggests 10%). */
const HEURISTIC_FRACTION = 0.1;

/** The parts of a stored response's head that freshness depends on, parsed once. */
export interface FreshnessFacts {
  /** Response Cache-Control directives. */
  directives: CacheDirectives;
  /** Freshness lifetime in ms (RFC 9111 §4.2.1); 0 when the response is stale from the start. */
  lifetime: number;
  /** True when `lifetime` came from the heuristic (RFC 9111 §4.2.2). */
  heuristic: boolean;
  /** The Date value in ms (RFC 9110 §6.6.1), or the response time when it was missing or invalid. */
  date: number;
}

/**
 * RFC 9111 §4.2.1: the freshness lifetime of a response, for a private cache (`s-maxage` is for
 * shared caches and is ignored). `heuristicMaxMs` caps the §4.2.2 heuristic.
 */
export function freshnessFacts(entry: StoredResponse, heuristicMaxMs: number): FreshnessFacts {
  const headers = Headers.fromFlat(entry.headers, { trusted: true });
  const directives = cacheControlOf(headers);
  const dateValue = headers.get('date');
  const parsedDate = dateValue === undefined ? undefined : parseHttpDate(dateValue);
  const date = parsedDate ?? entry.responseTime;
  const facts = { directives, lifetime: 0, heuristic: false, date };
  if (directives.has('max-age')) {
    // An invalid max-age leaves the response stale (RFC 9111 §4.2.1, §1.2.2).
    facts.lifetime = (deltaSeconds(directives.get('max-age')) ?? 0) * 1000;
    return facts;
  }
  const expires = headers.getAll('expires');
  if (expires.length > 0) {
    // RFC 9111 §5.3: an invalid date (including "0"), or several Expires lines, is in the past.
    const at = expires.length === 1 ? parseHttpDate(expires[0]!) : undefined;
    facts.lifetime = at === undefined ? 0 : Math.max(0, at - date);
    return facts;
  }
  // RFC 9111 §4.2.2: a heuristic only when the status allows it or the response is marked public.
  if (!HEURISTICALLY_CACHEABLE.has(entry.status) && !directives.has('public')) return facts;
  const lastModifiedValue = headers.get('last-modified');
  const lastModified = lastModifiedValue === undefined ? undefined : parseHttpDate(lastModifiedValue);
  if (lastModified === undefined || lastModified >= date) return facts;
  facts.lifetime = Math.min(heuristicMaxMs, Math.floor((date - lastModified) * HEURISTIC_FRACTION));
  facts.heuristic = true;
  return facts;
}

/**
 * RFC 9111 §4.2.3: the current age of a stored response at time `now`, in ms.
 *
 * ```
 * apparent_age          = max(0, response_time - date_value)
 * corrected_age_value   = age_value + (response_time - request_time)
 * corrected_initial_age = max(apparent_age, corrected_age_value)
 * current_age           = corrected_initial_age + (now - response_time)
 * ```
 */
export function currentAge(entry: StoredResponse, facts: FreshnessFacts, now: number): number {
  const headers = Headers.fromFlat(entry.headers, { trusted: true });
  // RFC 9111 §5.1: Age is delta-seconds; an invalid value is ignored.
  const ageValue = (deltaSeconds(headers.get('age')) ?? 0) * 1000;
  const apparentAge = Math.max(0, entry.responseTime - facts.date);
  const responseDelay = Math.max(0, entry.responseTime - entry.requestTime);
  const correctedInitialAge = Math.max(apparentAge, ageValue + responseDelay);
  const residentTime = Math.max(0, now - entry.responseTime);
  return correctedInitialAge + residentTime;
}
