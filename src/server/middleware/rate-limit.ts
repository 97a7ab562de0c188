/**
 * Rate-limit middleware: at most `limit` requests per `windowMs` per client key. A request over
 * the limit is answered 429 Too Many Requests (RFC 6585 §4) with `Retry-After` in seconds
 * (RFC 9110 §10.2.3) and never reaches the handler. Every counted response, allowed or
 * refused, carries the `RateLimit-Policy` and `RateLimit` header fields of the IETF httpapi
 * draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers-11, §3 and
 * §4): `RateLimit-Policy: "default";q=<limit>;w=<window seconds>` and
 * `RateLimit: "default";r=<available quota>;t=<effective window seconds>`. Both are
 * Structured Field lists (RFC 9651), appended rather than set, so several limiters with
 * different policy names can be stacked and a client sees every policy.
 *
 * Algorithm: a sliding-window counter (the two-window approximation). A key's counter keeps
 * the hits of its current fixed window and of the window before; a hit at `elapsed` ms into
 * the current window is allowed when `floor(previous * (window - elapsed) / window) + current`
 * is at most `limit`: the previous window's hits are assumed spread evenly, and only the part
 * of that window still inside the last `windowMs` counts. The floor costs at most one request
 * of precision and keeps tiny limits sane (with `limit: 1`, a lone hit early in the previous
 * window would otherwise block the whole of the next one).
 * Why this one: a fixed window lets a client send `2 * limit` requests around a window
 * boundary; an exact sliding log costs memory per request; a token bucket allows a full
 * bucket plus its refill, close to `2 * limit` in one window, and its state does not map onto
 * the draft's `q` per `w`. The counter costs two integers and a start time per key, is one
 * atomic script in Redis, and takes the edge off the boundary burst. A key's windows start at
 * its first hit (not at a wall-clock boundary shared by every client), so refused clients do
 * not all come back at the same moment (draft §8.5).
 *
 * Every request the middleware sees is counted, refused ones too (as express-rate-limit and
 * @fastify/rate-limit do): a client that keeps sending while refused stays refused, one that
 * waits `Retry-After` gets back in. `Retry-After` is computed from the counter, not guessed:
 * the first whole second by which the next request is allowed if none is sent before. On a
 * refusal the `RateLimit` effective window `t` equals `Retry-After`, as draft §6 asks ("the Retry-After
 * field value SHOULD NOT reference a point in time earlier than the end of the effective
 * window"); on an allowed response `t` is the time until the key's current window ends.
 *
 * Stores: the counter lives in a {@link RateLimitStore}: by default a {@link MemoryRateLimitStore}
 * per middleware (bounded by `maxKeys`, oldest keys evicted first, expired windows swept on the
 * TimerWheel), or a shared one (`RedisRateLimitStore`) so several processes share limits. The
 * store, not the middleware, reads the clock, and reports time as "ms into the current window",
 * so processes whose clocks disagree still agree on a shared store.
 *
 * Store failures fail open by default: the request passes uncounted and the error goes to
 * `onStoreError` (default: one process warning per run of failures). A rate limiter that takes
 * the whole site down when Redis restarts is worse than one that briefly lets traffic through.
 * Set `failOpen: false` to have such requests fail with {@link RateLimitError} instead.
 *
 * The default key is the peer address, with IPv6 addresses grouped by their /56 prefix (see
 * {@link RateLimitOptions.ipv6Subnet}). Behind a reverse proxy every request comes from the
 * proxy: give a `key` that reads the forwarded address you trust.
 */
import type { TimerWheel } from '../../runtime/timer-wheel.js';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import { Response } from '../response.js';
import { clientAddressKey } from './client-address-key.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { positiveInteger, RateLimitError, type RateLimitStore } from './rate-limit-store.js';

/** What the middleware knows of a refused request; given to {@link RateLimitOptions.limitedResponse}. */
export interface RateLimitInfo {
  /** The key the request was counted under. */
  key: string;
  /** Requests allowed per window. */
  limit: number;
  /** Requests still available now: always 0 on a refusal. */
  remaining: number;
  /** The `RateLimit` effective window `t`, in seconds. */
  resetSeconds: number;
  /** The `Retry-After` value, in seconds (>= 1). */
  retryAfterSeconds: number;
}

/** Options of {@link rateLimit}. Every field is optional. */
export interface RateLimitOptions {
  /** Requests allowed per key and window. Default 100. A positive integer. */
  limit?: number;
  /** Length of the window, in milliseconds. Default 60000 (one minute). A positive integer. */
  windowMs?: number;
  /**
   * The key requests are counted under; may be async. Default: the peer address
   * (`req.remoteAddress`), IPv4-mapped IPv6 addresses as IPv4, other IPv6 addresses cut to
   * their `ipv6Subnet` prefix. Requests with an unknown address (`''`) share one counter.
   */
  key?: (req: Request) => string | Promise<string>;
  /** Prefix length, in bits (0..128), IPv6 peers are grouped by in the default key. Default 56, a customer's usual delegation (RIPE-690), so one user cannot rotate through a /64's addresses. */
  ipv6Subnet?: number;
  /** Requests for which this returns true pass uncounted and get no rate-limit header fields; may be async. Default: none skipped. */
  skip?: (req: Request) => boolean | Promise<boolean>;
  /** Where counters live. Default: a new {@link MemoryRateLimitStore} with `maxKeys` and `timerWheel`. */
  store?: RateLimitStore;
  /** Keys the default in-memory store holds at most; ignored with `store`. Default 10000. */
  maxKeys?: number;
  /** The wheel the default in-memory store sweeps expired windows on; ignored with `store`. Default `defaultTimerWheel()`. */
  timerWheel?: TimerWheel;
  /** Status of a refusal. Default 429 (RFC 6585 §4). */
  statusCode?: number;
  /** Body of a refusal, as `text/plain; charset=utf-8`. Default `'Too Many Requests\n'`. */
  message?: string;
  /**
   * Builds the refusal instead of `statusCode` and `message` (e.g. an RFC 9457 problem+json
   * with the draft's `quota-exceeded` type). `Retry-After` and the rate-limit fields are added
   * to what it returns. Default: not used.
   */
  limitedResponse?: (req: Request, info: RateLimitInfo) => Response | Promise<Response>;
  /** Send `RateLimit-Policy` and `RateLimit` on allowed and refused responses. Default true. `Retry-After` is always sent on a refusal. */
  headers?: boolean;
  /** The policy's name in the header fields, an RFC 9651 String (printable ASCII). Default `'default'`. */
  policyName?: string;
  /** On a store error, let the request pass uncounted (true) or fail it with {@link RateLimitError} (false). Default true. */
  failOpen?: boolean;
  /**
   * Told of every store error (a throw, a rejection, or counters that are not numbers), and of
   * errors thrown by `key`, which are handled the same way.
   * Default: a process warning (`process.emitWarning`) for the first error after a success,
   * so a store that stays down warns once, not once per request.
   */
  onStoreError?: (error: unknown, req: Request) => void;
}

/** `name` as an RFC 9651 §3.3.3 String: printable ASCII, `"` and `\` escaped. */
function sfString(name: string): string {
  let out = '"';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new RateLimitError(
        'AVX_RATE_LIMIT_INVALID_OPTION',
        `policyName must be printable ASCII (an RFC 9651 §3.3.3 String), got ${JSON.stringify(name)}`,
      );
    }
    out += c === 0x22 || c === 0x5c ? `\\${name[i]}` : name[i];
  }
  return `${out}"`;
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function reportByWarning(error: unknown): void {
  process.emitWarning(
    `rate-limit store failed, requests pass uncounted until it recovers: ${String(error)}`,
    { type: 'AvxRateLimitWarning', code: 'AVX_RATE_LIMIT_STORE_FAILED' },
  );
}

/**
 * A rate-limit middleware (see the file comment for the algorithm and header fields).
 * Defaults: `limit` 100, `windowMs` 60000, key the peer address (IPv6 by /56), nothing
 * skipped, an in-memory store of at most 10000 keys, 429 with `'Too Many Requests\n'`,
 * header fields on, policy `"default"`, fail open with a warning. Throws
 * {@link RateLimitError} (`AVX_RATE_LIMIT_INVALID_OPTION`) at setup for out-of-range options.
 */
export function rateLimit(options: RateLimitOptions = {}): Middleware {
  const limit = positiveInteger(options.limit ?? 100, 'limit');
  const windowMs = positiveInteger(options.windowMs ?? 60_000, 'windowMs');
  const ipv6Subnet = options.ipv6Subnet ?? 56;
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 0 || ipv6Subnet > 128) {
    throw new RateLimitError(
      'AVX_RATE_LIMIT_INVALID_OPTION',
      `ipv6Subnet must be an integer from 0 to 128, got ${ipv6Subnet}`,
    );
  }
  const statusCode = options.statusCode ?? 429;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
    throw new RateLimitError(
      'AVX_RATE_LIMIT_INVALID_OPTION',
      `statusCode must be 100..999, got ${statusCode}`,
    );
  }
  const keyOf = options.key ?? ((req: Request) => clientAddressKey(req.remoteAddress, ipv6Subnet));
  const skip = options.skip;
  const store =
    options.store ??
    new MemoryRateLimitStore({ maxKeys: options.maxKeys ?? 10_000, timerWheel: options.timerWheel });
  const message = options.message ?? 'Too Many Requests\n';
  const limitedResponse = options.limitedResponse;
  const sendHeaders = options.headers ?? true;
  const name = sfString(options.policyName ?? 'default');
  // draft §3.1.3: w is a non-zero integer number of seconds; sub-second windows round up.
  const policy = `${name};q=${limit};w=${Math.max(1, Math.ceil(windowMs / 1000))}`;
  const failOpen = options.failOpen ?? true;
  const onStoreError = options.onStoreError;
  let failing = false;

  function storeFailed(error: unknown, req: Request): void {
    if (onStoreError !== undefined) onStoreError(error, req);
    else if (!failing) reportByWarning(error);
    failing = true;
  }

  return async function rateLimitMiddleware(req: Request, next: Next): Promise<Response> {
    if (skip !== undefined) {
      const skipped = skip(req);
      if (skipped === true || (skipped !== false && (await skipped) === true)) return next();
    }
    let key: string;
    let count: number;
    let previous: number;
    let elapsed: number;
    try {
      const k = keyOf(req);
      key = typeof k === 'string' ? k : await k;
      const pending = store.increment(key, windowMs);
      const counters = isThenable(pending) ? await pending : pending;
      count = counters.count;
      previous = counters.previousCount;
      elapsed = counters.elapsedMs;
      if (!(count >= 1 && previous >= 0 && elapsed >= 0)) {
        throw new TypeError(
          `rate-limit store returned invalid counters (count ${count}, previousCount ${previous}, elapsedMs ${elapsed})`,
        );
      }
    } catch (error) {
      storeFailed(error, req);
      if (failOpen) return next();
      throw new RateLimitError('AVX_RATE_LIMIT_STORE_FAILED', 'the rate-limit store failed', {
        cause: error,
      });
    }
    failing = false;

    if (elapsed >= windowMs) elapsed = windowMs - 1;
    const leftMs = windowMs - elapsed;
    const used = Math.floor((previous * leftMs) / windowMs) + count;
    if (used <= limit) {
      const res = await next();
      if (sendHeaders) {
        const h = res.headers;
        h.append('ratelimit-policy', policy);
        h.append('ratelimit', `${name};r=${limit - used};t=${Math.ceil(leftMs / 1000)}`);
      }
      return res;
    }

    // Refused. The next hit (count + 1) is allowed once floor(weighted previous) + count + 1 <= limit,
    // i.e. once the weighted previous count drops below `limit - count`: find the least such wait,
    // assuming no hit comes before. `waitMs` is where the wait must be strictly beyond.
    let waitMs: number;
    if (count < limit && previous > 0) {
      // Still in this window, once enough of the previous window has slid out of view.
      waitMs = leftMs - ((limit - count) * windowMs) / previous;
    } else {
      // In the next window, where this window's count is the previous one.
      waitMs = leftMs + windowMs * (1 - limit / count);
    }
    const retryAfter = Math.max(1, Math.floor(waitMs / 1000) + 1);
    let res: Response;
    if (limitedResponse !== undefined) {
      res = await limitedResponse(req, {
        key,
        limit,
        remaining: 0,
        resetSeconds: retryAfter,
        retryAfterSeconds: retryAfter,
      });
    } else {
      res = Response.text(message, { status: statusCode });
    }
    const h = res.headers;
    h.set('retry-after', String(retryAfter));
    if (sendHeaders) {
      h.append('ratelimit-policy', policy);
      h.append('ratelimit', `${name};r=0;t=${retryAfter}`);
    }
    return res;
  };
}
