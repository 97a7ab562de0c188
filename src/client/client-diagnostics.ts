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
