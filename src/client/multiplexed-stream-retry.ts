/**
 * When an exchange on an HTTP/2 or HTTP/3 client connection goes back to the pool queue, which
 * both drivers decide the same way: once at most, and only while its body can be sent again and
 * nobody aborted it. A stream the server refused (RFC 9113 §8.7 REFUSED_STREAM, RFC 9114 §4.1.1
 * H3_REQUEST_REJECTED) was not processed, whatever its method; a connection lost before the
 * response began hands back only idempotent requests (RFC 9110 §9.2.2).
 */
import { isIdempotentMethod } from '../core/method.js';
import { type ClientExchange, ExchangeState } from './client-exchange.js';

/** True when `exchange`, refused by the server before any processing, may be sent once more. */
export function isRefusedStreamRetryable(exchange: ClientExchange): boolean {
  const req = exchange.request;
  return (
    !exchange.retried &&
    exchange.state === ExchangeState.Sent &&
    !req.signal?.aborted &&
    (req.body === null || req.body.reusable)
  );
}

/** True when `exchange`, cut off with its connection (which had `connected`), may be sent once more. */
export function isConnectionLossRetryable(exchange: ClientExchange, connected: boolean): boolean {
  if (exchange.retried || !connected) return false;
  const req = exchange.request;
  if (req.signal?.aborted) return false;
  return isIdempotentMethod(req.method) && (req.body === null || req.body.reusable);
}

/** Marks `exchange` retried and queued again, and appends it to `retry` (a new list when undefined). */
export function requeueExchange(
  exchange: ClientExchange,
  retry: ClientExchange[] | undefined,
): ClientExchange[] {
  exchange.retried = true;
  exchange.state = ExchangeState.Queued;
  exchange.carrier = undefined;
  if (retry === undefined) return [exchange];
  retry.push(exchange);
  return retry;
}
