/**
 * The client's dispatch chain: a request passes through middleware `(request, next) => response`
 * (user interceptors first, then the policies: redirect, retry, decompression) down to the pool.
 * The chain is composed once, when it changes, so sending a request creates no closures for it.
 */
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './client-response.js';

/** Sends a request and resolves with its response (head received, body arriving). */
export type Dispatch = (request: ClientRequest) => Promise<ClientResponse>;

/**
 * One link of the chain: may change the request, call `next` zero or more times (retries,
 * redirects), and change or replace the response.
 */
export type DispatchMiddleware = (request: ClientRequest, next: Dispatch) => Promise<ClientResponse>;

/** Composes `middleware` around `terminal`: `middleware[0]` runs first (outermost). */
export function composeDispatch(middleware: readonly DispatchMiddleware[], terminal: Dispatch): Dispatch {
  let next = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const link = middleware[i]!;
    const inner = next;
    next = (request) => link(request, inner);
  }
  return next;
}
