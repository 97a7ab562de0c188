/**
 * The redirect policy (RFC 9110 §15.4): follows 301, 302, 303, 307 and 308 responses that carry
 * a Location (RFC 9110 §10.2.2, resolved against the request URI), up to a limit.
 *
 * - 303 (§15.4.4) turns any method but HEAD into GET without a body; 301 and 302 do so for POST
 *   only (§15.4.2, §15.4.3: the historic behaviour user agents share).
 * - 307 and 308 (§15.4.8, §15.4.9) keep the method and body; a body that cannot be sent again
 *   (a one-shot stream) stops the chain and the 3xx is returned.
 * - Crossing to another origin drops Authorization, Cookie and Proxy-Authorization, so
 *   credentials never leak to a host they were not meant for (RFC 9110 §15.4, "Security").
 * - Content fields go with the body when the method becomes GET.
 */
import { Headers } from '../core/headers.js';
import { TooManyRedirectsError, UnexpectedRedirectError } from './client-errors.js';
import type { ClientRequest, RedirectMode } from './client-request.js';
import type { ClientResponse } from './client-response.js';
import type { Dispatch, DispatchMiddleware } from './dispatch.js';

/** Defaults of the redirect policy; a request's own `redirect` / `maxRedirects` win. */
export interface RedirectOptions {
  /** Default `'follow'`. */
  mode?: RedirectMode;
  /** Most redirects followed for one request. Default 10. */
  maxRedirects?: number;
}

const CREDENTIAL_FIELDS = ['authorization', 'cookie', 'proxy-authorization'];
const CONTENT_FIELDS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function drop(response: ClientResponse): void {
  response.body.discard().catch(() => {});
}

/** The redirect policy as dispatch middleware. */
export function redirectPolicy(options: RedirectOptions = {}): DispatchMiddleware {
  const defaultMode = options.mode ?? 'follow';
  const defaultMax = options.maxRedirects ?? 10;
  return async function redirect(request: ClientRequest, next: Dispatch): Promise<ClientResponse> {
    const mode = request.redirect ?? defaultMode;
    let response = await next(request);
    if (mode === 'manual' || !isRedirect(response.status)) return response;
    const max = request.maxRedirects ?? defaultMax;
    let current = request;
    let followed = 0;
    while (isRedirect(response.status)) {
      const location = response.headers.get('location');
      if (location === undefined) break;
      const status = response.status;
      if (mode === 'error') {
        drop(response);
        throw new UnexpectedRedirectError(current.url.origin, status, location);
      }
      if (followed >= max) {
        drop(response);
        throw new TooManyRedirectsError(current.url.origin, max);
      }
      let target: URL;
      try {
        target = new URL(location, current.url);
      } catch {
        break; // not a URI reference we can follow: hand the 3xx to the caller
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') break;
      let method = current.method;
      let body = current.body;
      const headers = new Headers(current.headers);
      if (
        (status === 303 && method !== 'GET' && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = null;
        for (const name of CONTENT_FIELDS) headers.delete(name);
      } else if (body !== null && !body.reusable) {
        break; // a one-shot stream body cannot be sent again
      }
      if (target.origin !== current.url.origin) {
        for (const name of CREDENTIAL_FIELDS) headers.delete(name);
      }
      headers.delete('host');
      drop(response);
      current = current.with({ method, url: target, headers, body });
      response = await next(current);
      followed++;
    }
    if (followed > 0) response.redirected = true;
    return response;
  };
}
