/**
 * What the rate-limit middleware (rate-limit.ts) and its counter stores share: the
 * {@link RateLimitStore} interface a store implements, the {@link RateLimitCounters} it returns,
 * and {@link RateLimitError}. They sit in a file of their own so that a store
 * (memory-rate-limit-store.ts, redis-rate-limit-store.ts) need not import the middleware, which
 * itself imports the in-memory store as its default.
 */
import { AvxError, type AvxErrorOptions } from '../../core/errors.js';

/** What a store knows about a key's counter right after counting one hit. */
export interface RateLimitCounters {
  /** Hits in the key's current window, this one included (>= 1). */
  count: number;
  /** Hits in the window just before the current one (0 when that window saw none). */
  previousCount: number;
  /** How far into the current window this hit fell, in ms (0 <= elapsedMs < windowMs). */
  elapsedMs: number;
}

/**
 * Where counters live. `increment` counts one hit for `key` atomically and returns the key's
 * counters; it may return them directly or as a Promise (a network store). Windows follow
 * the rules of rate-limit.ts's file comment: a key's first window starts at its first hit; a hit
 * `windowMs` or more after the current window began moves it on by one window (the current
 * count becomes the previous one), two windows or more starts afresh.
 *
 * The middleware reads the result before calling `increment` again, so a store may return the
 * same object every time (the in-memory store does, to allocate nothing per request).
 */
export interface RateLimitStore {
  /** Counts one hit for `key` in windows of `windowMs` milliseconds. */
  increment(key: string, windowMs: number): RateLimitCounters | Promise<RateLimitCounters>;
  /** Forgets `key` (e.g. after a successful login). Optional. */
  reset?(key: string): void | Promise<void>;
}

/** Error codes of {@link RateLimitError}. */
export type RateLimitErrorCode = 'AVX_RATE_LIMIT_INVALID_OPTION' | 'AVX_RATE_LIMIT_STORE_FAILED';

/** A rate-limit option is out of range, or (with `failOpen: false`) the store failed; `cause` holds its error. */
export class RateLimitError extends AvxError {
  constructor(code: RateLimitErrorCode, message: string, options?: AvxErrorOptions) {
    super(code, message, options);
  }
}

/**
 * @internal `value` of the option `name` if it is a positive integer; otherwise throws
 * {@link RateLimitError} (`AVX_RATE_LIMIT_INVALID_OPTION`).
 */
export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RateLimitError(
      'AVX_RATE_LIMIT_INVALID_OPTION',
      `${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}
