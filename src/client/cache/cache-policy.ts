/**
 * The cache policy: a private (single-user, browser-like) HTTP cache (RFC 9111) as dispatch
 * middleware. It
 *
 * - stores final responses to GET (§3) that say they may be stored, capturing the body while
 *   the caller reads it, and answers HEAD from a stored GET;
 * - serves fresh responses (§4.2) without a request, with a computed `Age` (§5.1, §4.2.3);
 * - revalidates stale ones (§4.3) with `If-None-Match` / `If-Modified-Since`, updating the stored
 *   header fields from a 304 (§4.3.4), and may serve a stale one after a 5xx when
 *   `stale-if-error` allows it (RFC 5861 §4);
 * - honours the request directives of §5.2.1 and `Pragma: no-cache` (§5.4);
 * - keeps one response per `Vary` secondary key (§4.1);
 * - invalidates after successful unsafe requests (§4.4);
 * - reports what it did in a `Cache-Status` field (RFC 9211, see `cache-status.ts`).
 *
 * Where it sits in the chain matters: added with `client.use(cachePolicy())` it runs before
 * the redirect, retry and decompression policies, so it stores decoded bodies and does not
 * store responses reached through a redirect. Put it in `policies` after `redirectPolicy()` to
 * cache each hop instead. The request is matched against `Vary` as it reached the cache, before
 * inner policies (e.g. decompression's `Accept-Encoding`) add fields.
 */
import { Buffer } from 'node:buffer';
import { Headers } from '../../core/headers.js';
import { IncomingBody } from '../../core/incoming-body.js';
import { isSafeMethod } from '../../core/method.js';
import { formatHttpDate } from '../../runtime/http-date.js';
import {
  type ClientCacheMessage,
  type ClientCacheResult,
  clientCacheChannel,
} from '../client-diagnostics.js';
import type { ClientRequest } from '../client-request.js';
import { ClientResponse } from '../client-response.js';
import type { Dispatch, DispatchMiddleware } from '../dispatch.js';
import { copyingBody } from './body-copy.js';
import {
  type CacheDirectives,
  cacheControlOf,
  deltaSeconds,
  requestCacheControlOf,
} from './cache-control.js';
import { type CacheStatusParams, formatCacheStatus } from './cache-status.js';
import type { CacheStore } from './cache-store.js';
import {
  currentAge,
  type FreshnessFacts,
  freshnessFacts,
  HEURISTICALLY_CACHEABLE,
  UNDERSTOOD_STATUSES,
} from './freshness.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import {
  matchesVary,
  responseFromStored,
  type StoredResponse,
  secondaryKey,
  storableHeaderFields,
  updatedHeaderFields,
  varyFieldNames,
} from './stored-response.js';

/** Settings of the cache policy. */
export interface CacheOptions {
  /**
   * Most bytes the default in-memory store keeps before evicting the least recently used
   * entries. Ignored when `store` is given. Default 33554432 (32 MiB).
   */
  maxBytes?: number;
  /** Largest body stored, in bytes; larger ones are delivered but not stored. Default 1048576 (1 MiB). */
  maxEntryBytes?: number;
  /**
   * Safe methods (RFC 9110 §9.2.1) the cache answers. A HEAD is answered from a stored GET and
   * its own responses are not stored. Default `['GET', 'HEAD']`.
   */
  methods?: readonly string[];
  /** Cap of the heuristic freshness lifetime (RFC 9111 §4.2.2), in ms. Default 86400000 (24 h). */
  heuristicMaxMs?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Where responses are kept. Default: a new {@link MemoryCacheStore} of `maxBytes`. */
  store?: CacheStore;
  /**
   * Store responses to requests carrying `Authorization` even without `public`, `s-maxage` or
   * `must-revalidate`. RFC 9111 §3.5 only forbids this to shared caches, but one client often
   * serves many users in a server process, so the shared-cache rule applies by default.
   * Default false.
   */
  storeAuthorized?: boolean;
  /** The cache's name in `Cache-Status` (RFC 9211 §2: a token). Default `'avx'`. */
  cacheName?: string;
}

/** Request fields that make the cache step aside: conditional and range requests (RFC 9110 §13, §14.2). */
const BYPASS_FIELDS = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
];

/** Statuses after which `stale-if-error` may serve a stale response (RFC 5861 §4). */
const ERROR_STATUSES = new Set([500, 502, 503, 504]);

const EMPTY = Buffer.alloc(0);

/** The primary cache key (RFC 9111 §2): method and target URI without its fragment. */
export function cacheKey(method: string, url: URL): string {
  const href = url.href;
  const hash = href.indexOf('#');
  return `${method} ${hash === -1 ? href : href.slice(0, hash)}`;
}

interface Lookup {
  entry: StoredResponse;
  facts: FreshnessFacts;
  age: number;
  /** Remaining freshness in ms; negative once stale. */
  ttl: number;
}

/** The cache policy as dispatch middleware. */
export function cachePolicy(options: CacheOptions = {}): DispatchMiddleware {
  const maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  if (!(maxEntryBytes >= 0))
    throw new RangeError(`maxEntryBytes must be a number >= 0, got ${maxEntryBytes}`);
  const heuristicMaxMs = options.heuristicMaxMs ?? 86_400_000;
  if (!(heuristicMaxMs >= 0))
    throw new RangeError(`heuristicMaxMs must be a number >= 0, got ${heuristicMaxMs}`);
  const methods = new Set(options.methods ?? ['GET', 'HEAD']);
  for (const m of methods) {
    if (!isSafeMethod(m))
      throw new RangeError(`the cache only answers safe methods (RFC 9110 §9.2.1), not ${m}`);
  }
  /** Methods whose responses are stored: all but HEAD, which is answered from GET. */
  const storedMethods = [...methods].filter((m) => m !== 'HEAD');
  if (methods.has('HEAD') && !storedMethods.includes('GET')) storedMethods.push('GET');
  const clock = options.now ?? Date.now;
  const store = options.store ?? new MemoryCacheStore({ maxBytes: options.maxBytes ?? 32 * 1024 * 1024 });
  const storeAuthorized = options.storeAuthorized ?? false;
  const name = options.cacheName ?? 'avx';

  const status = (response: ClientResponse, params: CacheStatusParams): ClientResponse => {
    response.headers.append('cache-status', formatCacheStatus(name, params));
    if (clientCacheChannel.hasSubscribers) {
      const message: ClientCacheMessage = { origin: originOf(response.url), result: cacheResult(params) };
      clientCacheChannel.publish(message);
    }
    return response;
  };

  const inspect = (entry: StoredResponse, now: number): Lookup => {
    const facts = freshnessFacts(entry, heuristicMaxMs);
    const age = currentAge(entry, facts, now);
    return { entry, facts, age, ttl: facts.lifetime - age };
  };

  const serve = (found: Lookup, request: ClientRequest, params: CacheStatusParams): ClientResponse => {
    const age = String(Math.floor(found.age / 1000));
    const response = responseFromStored(found.entry, found.entry.status, { age }, request.method !== 'HEAD');
    return status(response, params);
  };

  /** Adds `entry` under `key`, replacing variants the same request would have selected (§4.1). */
  const save = async (key: string, entry: StoredResponse, presented: Headers): Promise<void> => {
    const current = (await store.get(key)) ?? [];
    const kept = current.filter((v) => v !== entry && !matchesVary(v, presented));
    await store.set(key, [...kept, entry]);
  };

  /** Removes one stored variant of `key`. */
  const drop = async (key: string, entry: StoredResponse): Promise<void> => {
    const current = (await store.get(key)) ?? [];
    const kept = current.filter((v) => v !== entry);
    if (kept.length === 0) await store.delete(key);
    else await store.set(key, kept);
  };

  /** RFC 9111 §3: may this response to this request be stored? */
  const storable = (
    request: ClientRequest,
    requestCc: CacheDirectives,
    response: ClientResponse,
  ): boolean => {
    if (!storedMethods.includes(request.method)) return false;
    const code = response.status;
    if (code < 200 || code === 206 || code === 304 || response.redirected) return false;
    const cc = cacheControlOf(response.headers);
    // §5.2.2.3: must-understand stores only understood statuses, and then overrides no-store.
    if (cc.has('must-understand')) {
      if (!UNDERSTOOD_STATUSES.has(code)) return false;
    } else if (cc.has('no-store')) return false;
    if (requestCc.has('no-store')) return false; // §5.2.1.5
    // §3.5 (shared-cache rule, applied unless storeAuthorized).
    if (
      !storeAuthorized &&
      request.headers.has('authorization') &&
      !cc.has('public') &&
      !cc.has('s-maxage') &&
      !cc.has('must-revalidate')
    )
      return false;
    if (varyFieldNames(response.headers)[0] === '*') return false; // §4.1: it could never be selected
    const length = response.headers.get('content-length');
    if (length !== undefined && Number(length) > maxEntryBytes) return false;
    return (
      cc.has('public') ||
      cc.has('private') ||
      cc.has('max-age') ||
      response.headers.has('expires') ||
      HEURISTICALLY_CACHEABLE.has(code)
    );
  };

  /** Arranges for `response` (to `request`) to be stored when it may be, and labels it. */
  const keep = (
    request: ClientRequest,
    requestCc: CacheDirectives,
    response: ClientResponse,
    key: string,
    presented: Headers,
    times: { requestTime: number; responseTime: number },
    params: CacheStatusParams,
  ): ClientResponse => {
    params.fwdStatus = response.status;
    if (storable(request, requestCc, response)) {
      const headers = storableHeaderFields(response.headers);
      // RFC 9110 §6.6.1: a recipient with a clock adds the Date a cached response lacks.
      if (!response.headers.has('date')) headers.push('date', formatHttpDate(times.responseTime));
      const entry: StoredResponse = {
        status: response.status,
        statusText: response.statusText,
        headers,
        body: EMPTY,
        url: response.url,
        httpVersion: response.httpVersion,
        requestTime: times.requestTime,
        responseTime: times.responseTime,
        vary: secondaryKey(presented, varyFieldNames(response.headers)),
      };
      response.body = copyingBody(response.body, maxEntryBytes, (body) =>
        save(key, { ...entry, body }, presented),
      );
      params.stored = true;
    }
    return status(response, params);
  };

  /** RFC 9111 §4.4: a non-error response to an unsafe method invalidates the URIs it names. */
  const invalidate = async (request: ClientRequest, response: ClientResponse): Promise<void> => {
    if (response.status < 200 || response.status >= 400) return;
    const targets = [request.url];
    for (const field of ['location', 'content-location']) {
      const value = response.headers.get(field);
      if (value === undefined) continue;
      try {
        const target = new URL(value, request.url);
        if (target.origin === request.url.origin) targets.push(target); // same origin only
      } catch {
        // not a URI reference: nothing to invalidate
      }
    }
    for (const target of targets) for (const m of storedMethods) await store.delete(cacheKey(m, target));
  };

  return async function cache(request: ClientRequest, next: Dispatch): Promise<ClientResponse> {
    const method = request.method;
    if (!methods.has(method)) {
      if (isSafeMethod(method)) return next(request);
      const response = await next(request);
      try {
        await invalidate(request, response);
      } catch {
        // best effort: a failing store does not fail the request
      }
      return response;
    }
    const requestCc = requestCacheControlOf(request.headers);
    if (request.body !== null || BYPASS_FIELDS.some((f) => request.headers.has(f))) {
      return status(await next(request), { fwd: 'bypass' });
    }
    const key = cacheKey(method === 'HEAD' ? 'GET' : method, request.url);
    const presented = new Headers(request.headers);
    const variants = (await store.get(key)) ?? [];
    const now = clock();
    let found: Lookup | undefined;
    for (const v of variants) {
      // §4.1: when several match, the most recent one.
      if (matchesVary(v, presented) && (found === undefined || v.responseTime > found.entry.responseTime))
        found = inspect(v, now);
    }
    if (found === undefined) {
      if (requestCc.has('only-if-cached')) return onlyIfCached(request, name); // §5.2.1.7
      const params: CacheStatusParams = { fwd: variants.length > 0 ? 'vary-miss' : 'uri-miss' };
      const requestTime = clock();
      const response = await next(request);
      const times = { requestTime, responseTime: clock() };
      return keep(request, requestCc, response, key, presented, times, params);
    }
    const cc = found.facts.directives;
    const mustRevalidate = cc.has('must-revalidate');
    const reason = refusal(found, requestCc);
    if (reason === undefined) return serve(found, request, { hit: true, ttlMs: found.ttl });
    if (requestCc.has('only-if-cached')) return onlyIfCached(request, name);
    if (method === 'HEAD') {
      // §4.3.5: a HEAD cannot bring a body, but its fields can freshen the stored GET when they
      // show the same representation; fields that show another one make the entry useless.
      const requestTime = clock();
      const response = await next(request);
      const responseTime = clock();
      if (response.status === 200) {
        const verdict = sameRepresentation(found.entry, response.headers);
        try {
          if (verdict === 'same')
            await save(key, freshened(found.entry, response, requestTime, responseTime), presented);
          else if (verdict === 'different') await drop(key, found.entry);
        } catch {
          // best effort: the response is returned either way
        }
      }
      return status(response, { fwd: reason, fwdStatus: response.status });
    }

    // §4.3.1: validate with the stored validators.
    const stored = Headers.fromFlat(found.entry.headers, { trusted: true });
    const conditional = new Headers(request.headers);
    const etag = stored.get('etag');
    const lastModified = stored.get('last-modified');
    if (etag !== undefined) conditional.set('if-none-match', etag);
    if (lastModified !== undefined) conditional.set('if-modified-since', lastModified);
    const sent =
      etag !== undefined || lastModified !== undefined ? request.with({ headers: conditional }) : request;

    const staleIfError = (): boolean => {
      if (mustRevalidate || cc.has('no-cache')) return false;
      const limit = deltaSeconds(requestCc.get('stale-if-error')) ?? deltaSeconds(cc.get('stale-if-error'));
      return limit !== undefined && Math.max(0, -found.ttl) <= limit * 1000;
    };
    const requestTime = clock();
    let response: ClientResponse;
    try {
      response = await next(sent);
    } catch (err) {
      if (staleIfError())
        return serve(found, request, { fwd: reason, ttlMs: found.ttl, detail: 'stale-if-error' });
      throw err;
    }
    const responseTime = clock();
    if (response.status === 304 && sent !== request) {
      // §4.3.4: freshen the stored response with the 304's fields, serve its content.
      await response.dump();
      const updated = freshened(found.entry, response, requestTime, responseTime);
      try {
        await save(key, updated, presented);
      } catch {
        // best effort: the response is served either way
      }
      const refreshed = inspect(updated, responseTime);
      return serve(refreshed, request, { fwd: reason, fwdStatus: 304, ttlMs: refreshed.ttl });
    }
    if (ERROR_STATUSES.has(response.status) && staleIfError()) {
      await response.dump();
      return serve(found, request, {
        fwd: reason,
        fwdStatus: response.status,
        ttlMs: found.ttl,
        detail: 'stale-if-error',
      });
    }
    // §4.3.3: a full response replaces the stored one.
    return keep(request, requestCc, response, key, presented, { requestTime, responseTime }, { fwd: reason });
  };
}

/**
 * Why a stored response cannot be served as it is, as the Cache-Status `fwd` reason, or
 * undefined when it can be.
 */
function refusal(found: Lookup, requestCc: CacheDirectives): 'request' | 'stale' | undefined {
  const reqMaxAge = deltaSeconds(requestCc.get('max-age'));
  const minFresh = deltaSeconds(requestCc.get('min-fresh'));
  if (requestCc.has('no-cache')) return 'request'; // §5.2.1.4
  if (reqMaxAge !== undefined && found.age > reqMaxAge * 1000) return 'request'; // §5.2.1.1
  if (minFresh !== undefined && found.ttl < minFresh * 1000) return 'request'; // §5.2.1.3
  const cc = found.facts.directives;
  if (cc.has('no-cache')) return 'stale'; // §5.2.2.4: validated every time
  if (found.ttl > 0) return undefined; // §4.2: fresh
  // §4.2.4, §5.2.1.2: stale may be served within max-stale, never under must-revalidate (§5.2.2.2).
  if (cc.has('must-revalidate')) return 'stale';
  const maxStale = requestCc.get('max-stale');
  if (maxStale === undefined) return 'stale';
  if (maxStale === null) return undefined;
  return -found.ttl <= (deltaSeconds(maxStale) ?? 0) * 1000 ? undefined : 'stale';
}

/** RFC 9111 §5.2.1.7: nothing usable is stored, so the cache answers 504 itself. */
function onlyIfCached(request: ClientRequest, cacheName: string): ClientResponse {
  const headers = new Headers([
    ['content-length', '0'],
    ['cache-status', formatCacheStatus(cacheName, { detail: 'only-if-cached' })],
  ]);
  if (clientCacheChannel.hasSubscribers) {
    const message: ClientCacheMessage = { origin: request.url.origin, result: 'unavailable' };
    clientCacheChannel.publish(message);
  }
  return new ClientResponse(504, 'Gateway Timeout', headers, IncomingBody.empty(), request.url.href, '1.1');
}

/** The outcome a Cache-Status says, for `avx:client:cache` (client-diagnostics.ts). */
function cacheResult(params: CacheStatusParams): ClientCacheResult {
  if (params.hit === true) return 'hit';
  if (params.detail === 'stale-if-error') return 'stale-if-error';
  if (params.detail === 'only-if-cached') return 'unavailable';
  if (params.fwd === 'bypass') return 'bypass';
  if (params.fwdStatus === 304) return 'revalidated';
  if (params.fwd === 'stale') return 'stale';
  return 'miss';
}

/** `scheme://host:port` of a URL string, or `''`. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/**
 * The stored response with the fields of a 304 (§4.3.4) or of a HEAD response (§4.3.5) that
 * showed the same representation: their fields replace the stored ones, and the stored Date and
 * Age go unless the new response has its own, since they described the older response.
 */
function freshened(
  entry: StoredResponse,
  response: ClientResponse,
  requestTime: number,
  responseTime: number,
): StoredResponse {
  const stale = ['date', 'age'].filter((f) => !response.headers.has(f));
  const merged = updatedHeaderFields(entry.headers, response.headers);
  const headers: string[] = [];
  for (let i = 0; i < merged.length; i += 2) {
    if (!stale.includes(merged[i]!.toLowerCase())) headers.push(merged[i]!, merged[i + 1]!);
  }
  if (!response.headers.has('date')) headers.push('date', formatHttpDate(responseTime));
  return { ...entry, headers, requestTime, responseTime };
}

/**
 * Whether a HEAD response's fields describe the stored representation (§4.3.5): the same strong
 * ETag; else, without ETags, the same Last-Modified and Content-Length. `'unknown'` when there
 * is nothing to compare.
 */
function sameRepresentation(entry: StoredResponse, fresh: Headers): 'same' | 'different' | 'unknown' {
  const stored = Headers.fromFlat(entry.headers, { trusted: true });
  const storedTag = stored.get('etag');
  const freshTag = fresh.get('etag');
  if (storedTag !== undefined || freshTag !== undefined) {
    if (storedTag === undefined || freshTag === undefined) return 'different';
    if (storedTag.startsWith('W/') || freshTag.startsWith('W/'))
      return storedTag === freshTag ? 'unknown' : 'different';
    return storedTag === freshTag ? 'same' : 'different';
  }
  const storedModified = stored.get('last-modified');
  const freshModified = fresh.get('last-modified');
  if (storedModified === undefined && freshModified === undefined) return 'unknown';
  if (storedModified !== freshModified) return 'different';
  return stored.get('content-length') === fresh.get('content-length') ? 'same' : 'different';
}
