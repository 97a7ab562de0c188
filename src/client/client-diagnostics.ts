/**
 * Lifecycle events of the client on `node:diagnostics_channel` (as undici publishes
 * `undici:request:*`), so telemetry (ours or an APM agent's) can observe requests without
 * reaching into the pool. Publishing costs one `hasSubscribers` check when nobody listens.
 *
 * Channels (one message object per attempt, the same object on every event of that attempt,
 * so a subscriber may keep its own state on it):
 * - `avx:client:request:start`     {@link ClientRequestMessage} when an attempt enters the pool
 * - `avx:client:response:headers`  the same message, `response` set, when the head arrived
 * - `avx:client:request:finish`    the same message when the response body has ended
 * - `avx:client:request:error`     the same message, `error` set, when the attempt failed
 * - `avx:client:connection:open`   `{ origin, connection }` when the pool creates a connection
 * - `avx:client:connection:close`  `{ origin, connection, error }` when one is gone
 * - `avx:client:cache`             {@link ClientCacheMessage} for each request the cache handled
 * - `avx:client:regional`          {@link ClientRegionalMessage} for each failover, hedge sent,
 *                                  hedge won, and request every region failed
 */
import { channel } from 'node:diagnostics_channel';
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './client-response.js';

/** The message of the `avx:client:request:*` and `avx:client:response:*` channels. */
export interface ClientRequestMessage {
  readonly request: ClientRequest;
  /** `scheme://host:port` of the pool. */
  readonly origin: string;
  /** `performance.now()` when the attempt started, in ms. */
  readonly startTime: number;
  /** The response, once its head arrived. */
  response: ClientResponse | undefined;
  /** Why the attempt failed, on `avx:client:request:error`. */
  error: Error | undefined;
  /** Free for one subscriber's state (our tracer keeps its span here). */
  span: unknown;
}

export const clientRequestStartChannel = channel('avx:client:request:start');
export const clientResponseHeadersChannel = channel('avx:client:response:headers');
export const clientRequestFinishChannel = channel('avx:client:request:finish');
export const clientRequestErrorChannel = channel('avx:client:request:error');
export const clientConnectionOpenChannel = channel('avx:client:connection:open');
export const clientConnectionCloseChannel = channel('avx:client:connection:close');

/** What the cache did with a request: its outcome, as `Cache-Status` says it (RFC 9211). */
export type ClientCacheResult =
  /** Served from the cache, no request sent. */
  | 'hit'
  /** Not in the cache (or no stored variant matched): sent, possibly stored. */
  | 'miss'
  /** Stored but stale, revalidated: the origin answered 304 and the stored body was served. */
  | 'revalidated'
  /** Stored and stale, sent, and the origin's new response served. */
  | 'stale'
  /** The origin failed and a stale response was served (stale-if-error). */
  | 'stale-if-error'
  /** The request went past the cache (its own validators or range, `no-store`, ...). */
  | 'bypass'
  /** `only-if-cached` with nothing stored: 504. */
  | 'unavailable';

/** The message of `avx:client:cache`. */
export interface ClientCacheMessage {
  readonly origin: string;
  readonly result: ClientCacheResult;
}

/** What regional failover did. */
export type ClientRegionalEvent = 'failover' | 'hedge-sent' | 'hedge-won' | 'all-failed';

/** The message of `avx:client:regional`. */
export interface ClientRegionalMessage {
  /** The origin the request was addressed to (the placeholder, when one is used). */
  readonly origin: string;
  readonly event: ClientRegionalEvent;
}

export const clientCacheChannel = channel('avx:client:cache');
export const clientRegionalChannel = channel('avx:client:regional');
