/**
 * The retry policy: sends a request again after a failure that another attempt may fix, with
 * exponential backoff and jitter between attempts.
 *
 * - Network failures (refused or reset connections, connect timeouts) are retried for
 *   idempotent methods (RFC 9110 §9.2.2), since repeating those cannot do harm.
 * - Statuses 408, 500, 502 and 504 are retried for idempotent methods; 429 (RFC 6585 §4) and
 *   503 (RFC 9110 §15.6.4) for any method, since they say the request was not acted upon.
 * - A `Retry-After` field (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) sets the delay;
 *   past `maxRetryAfter` the response is returned instead of waiting.
 * - A request whose body cannot be sent again (a one-shot stream) is never retried.
 * - Waiting honours the request's AbortSignal.
 */

import { isIdempotentMethod } from '../core/method.js';
import { parseHttpDate } from '../runtime/http-date.js';
import { ClientError } from './client-errors.js';
import { abortError } from './client-exchange.js';
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './client-response.js';
import type { Dispatch, DispatchMiddleware } from './dispatch.js';

/** Retry settings. */
export interface RetryOptions {
  /** Most retries after the first attempt. Default 2. */
  limit?: number;
  /** Methods retried after failures. Default: the idempotent ones (RFC 9110 §9.2.2). */
  methods?: readonly string[];
  /** Statuses retried. Default `[408, 429, 500, 502, 503, 504]`. */
  statusCodes?: readonly number[];
  /** Error codes retried. Default: connect failures, connect timeouts, lost connections. */
  errorCodes?: readonly string[];
  /** First backoff delay in ms; doubles every attempt. Default 100. */
  baseDelay?: number;
  /** Largest backoff delay in ms. Default 5000. */
  maxDelay?: number;
  /** Longest `Retry-After` (ms) we wait for; a longer one returns the response. Default 30000. */
  maxRetryAfter?: number;
}

interface ResolvedRetry {
  limit: number;
  methods: ReadonlySet<string> | undefined;
  statusCodes: ReadonlySet<number>;
  errorCodes: ReadonlySet<string>;
  baseDelay: number;
  maxDelay: number;
  maxRetryAfter: number;
}

const DEFAULT_STATUS_CODES = [408, 429, 500, 502, 503, 504];
const DEFAULT_ERROR_CODES = [
  'AVX_CLIENT_CONNECT_FAILED',
  'AVX_CLIENT_CONNECT_TIMEOUT',
  'AVX_CLIENT_CONNECTION_CLOSED',
];
/** System errors no retry can fix. */
const PERMANENT_ERRNOS = new Set([
  'ENOTFOUND',
  'EAI_FAIL',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

function resolve(
  options: RetryOptions | number | false | undefined,
  base: ResolvedRetry | undefined,
): ResolvedRetry {
  if (options === false) return { ...(base ?? resolve({}, undefined)), limit: 0 };
  if (typeof options === 'number') return { ...(base ?? resolve({}, undefined)), limit: options };
  const o = options ?? {};
  return {
    limit: o.limit ?? base?.limit ?? 2,
    methods: o.methods !== undefined ? new Set(o.methods) : base?.methods,
    statusCodes:
      o.statusCodes !== undefined
        ? new Set(o.statusCodes)
        : (base?.statusCodes ?? new Set(DEFAULT_STATUS_CODES)),
    errorCodes:
      o.errorCodes !== undefined ? new Set(o.errorCodes) : (base?.errorCodes ?? new Set(DEFAULT_ERROR_CODES)),
    baseDelay: o.baseDelay ?? base?.baseDelay ?? 100,
    maxDelay: o.maxDelay ?? base?.maxDelay ?? 5000,
    maxRetryAfter: o.maxRetryAfter ?? base?.maxRetryAfter ?? 30_000,
  };
}

/**
 * RFC 9110 §10.2.3: `Retry-After` as a delay in ms from `now`, or undefined when absent or
 * malformed. A date in the past gives 0.
 */
export function retryAfterDelay(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = parseHttpDate(v);
  if (date === undefined) return undefined;
  return Math.max(0, date - now);
}

/** Backoff for retry number `attempt` (0-based): exponential, capped, with "equal jitter". */
export function backoffDelay(attempt: number, baseDelay: number, maxDelay: number): number {
  const ceiling = Math.min(maxDelay, baseDelay * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function bodyReplayable(request: ClientRequest): boolean {
  return request.body === null || request.body.reusable;
}

function methodAllowed(request: ClientRequest, settings: ResolvedRetry): boolean {
  return settings.methods !== undefined
    ? settings.methods.has(request.method)
    : isIdempotentMethod(request.method);
}

/**
 * Waits `ms` between attempts. A plain (ref'd) Node timer, not the timer wheel: the wheel's host
 * timer never keeps the process alive, and a request waiting to be retried is pending work that
 * must, like a pending socket would.
 */
function sleep(ms: number, request: ClientRequest): Promise<void> {
  const signal = request.signal;
  return new Promise<void>((resolveSleep, reject) => {
    if (signal?.aborted) {
      reject(abortError(request.url.origin, signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(request.url.origin, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolveSleep();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The retry policy as dispatch middleware. `options` are the defaults; a request's `retry` wins. */
export function retryPolicy(options: RetryOptions | number | false = {}): DispatchMiddleware {
  const defaults = resolve(options, undefined);
  return async function retry(request: ClientRequest, next: Dispatch): Promise<ClientResponse> {
    const settings = request.retry === undefined ? defaults : resolve(request.retry, defaults);
    if (settings.limit <= 0) return next(request);
    for (let attempt = 0; ; attempt++) {
      let response: ClientResponse;
      try {
        response = await next(request);
      } catch (err) {
        if (
          attempt >= settings.limit ||
          !(err instanceof ClientError) ||
          !settings.errorCodes.has(err.code) ||
          PERMANENT_ERRNOS.has((err as { errno?: string }).errno ?? '') ||
          !methodAllowed(request, settings) ||
          !bodyReplayable(request) ||
          request.signal?.aborted
        ) {
          throw err;
        }
        await sleep(backoffDelay(attempt, settings.baseDelay, settings.maxDelay), request);
        continue;
      }
      const status = response.status;
      if (attempt >= settings.limit || !settings.statusCodes.has(status) || !bodyReplayable(request))
        return response;
      if (status !== 429 && status !== 503 && !methodAllowed(request, settings)) return response;
      let delay = retryAfterDelay(response.headers.get('retry-after'));
      if (delay !== undefined && delay > settings.maxRetryAfter) return response;
      delay ??= backoffDelay(attempt, settings.baseDelay, settings.maxDelay);
      response.body.discard().catch(() => {});
      await sleep(delay, request);
    }
  };
}
