/**
 * CORS middleware: the server side of the Fetch standard's CORS protocol (Fetch §3.2,
 * https://fetch.spec.whatwg.org/#http-cors-protocol).
 *
 * - A request without `Origin` is not a CORS request and passes through untouched (except
 *   `Vary: Origin` when the answer depends on the origin, so caches keep the variants apart).
 * - A CORS-preflight request (`OPTIONS` with `Origin` and `Access-Control-Request-Method`,
 *   Fetch §3.2.2) from an allowed origin is answered here, without calling the rest of the
 *   chain: 204 with `Access-Control-Allow-Origin`, `-Allow-Methods`, `-Allow-Headers`,
 *   `-Max-Age` and `-Allow-Credentials` as configured.
 * - Any other request from an allowed origin runs normally and its response gets
 *   `Access-Control-Allow-Origin`, `-Allow-Credentials` and `-Expose-Headers` (Fetch §3.2.3).
 * - A request from an origin that is not allowed gets no CORS headers at all (a preflight is
 *   passed on to the app, which answers it as any OPTIONS request); the browser then blocks it.
 *
 * Responses produced by the app's error handler (a thrown error) do not pass back through
 * middleware and so carry no CORS headers: return error responses instead of throwing them
 * where browsers must be able to read them.
 */
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import { Response } from '../response.js';
import { addVary } from './vary.js';

/**
 * Which origins may read responses: `'*'` (any), one origin, a list, or a predicate.
 * Origins are compared as serialized by browsers: `scheme://host[:port]`, lower case.
 */
export type CorsOrigin = string | readonly string[] | ((origin: string, req: Request) => boolean);

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * Allowed origins. Default `'*'`: any origin, answered with `Access-Control-Allow-Origin: *`,
   * or, with `credentials`, by reflecting the request's origin (Fetch forbids `*` there).
   * For anything but a plain `'*'` the request's origin is reflected and `Vary: Origin` is added.
   */
  origin?: CorsOrigin;
  /** Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). Default false. */
  credentials?: boolean;
  /** Methods listed in a preflight's `Access-Control-Allow-Methods`. Default GET, HEAD, PUT, PATCH, POST, DELETE. */
  methods?: readonly string[];
  /**
   * Request header names listed in a preflight's `Access-Control-Allow-Headers`.
   * Default: the request's `Access-Control-Request-Headers`, reflected (with `Vary` on it).
   */
  allowedHeaders?: readonly string[];
  /** Response header names scripts may read (`Access-Control-Expose-Headers`). Default: none. */
  exposedHeaders?: readonly string[];
  /** How long a preflight may be cached, in seconds (`Access-Control-Max-Age`). Default: not sent. */
  maxAge?: number;
  /** Status of a preflight response. Default 204. */
  preflightStatus?: number;
}

const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];

/** How the configured origins decide, prepared once. */
class OriginPolicy {
  /** Any origin, answered with a literal `*` (no credentials): the answer never varies. */
  readonly literalStar: boolean;
  private readonly any: boolean;
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly predicate: ((origin: string, req: Request) => boolean) | undefined;

  constructor(origin: CorsOrigin, credentials: boolean) {
    this.any = origin === '*';
    this.literalStar = this.any && !credentials;
    if (typeof origin === 'function') this.predicate = origin;
    else if (typeof origin === 'string')
      this.allowed = this.any ? undefined : new Set([origin.toLowerCase()]);
    else this.allowed = new Set(origin.map((o) => o.toLowerCase()));
  }

  /** The `Access-Control-Allow-Origin` value for `origin`, or undefined when it is not allowed. */
  allowOrigin(origin: string, req: Request): string | undefined {
    if (this.literalStar) return '*';
    if (this.any) return origin;
    if (this.predicate !== undefined) return this.predicate(origin, req) ? origin : undefined;
    return this.allowed!.has(origin) ? origin : undefined;
  }
}

/**
 * A CORS middleware (see the file comment for the protocol). Defaults: `origin` `'*'`,
 * `credentials` false, `methods` GET, HEAD, PUT, PATCH, POST, DELETE, `allowedHeaders` reflected
 * from the preflight, `exposedHeaders` none, `maxAge` not sent, `preflightStatus` 204.
 */
export function cors(options: CorsOptions = {}): Middleware {
  const credentials = options.credentials === true;
  const policy = new OriginPolicy(options.origin ?? '*', credentials);
  const methods = (options.methods ?? DEFAULT_METHODS).join(', ');
  const allowedHeaders = options.allowedHeaders?.join(', ');
  const exposedHeaders = options.exposedHeaders?.length ? options.exposedHeaders.join(', ') : undefined;
  const maxAge = options.maxAge === undefined ? undefined : String(Math.max(0, Math.floor(options.maxAge)));
  const preflightStatus = options.preflightStatus ?? 204;
  const varies = !policy.literalStar;

  return async function corsMiddleware(req: Request, next: Next): Promise<Response> {
    const origin = req.headers.get('origin');
    if (origin === undefined) {
      const res = await next();
      if (varies) addVary(res.headers, 'Origin');
      return res;
    }
    const allowOrigin = policy.allowOrigin(origin, req);
    if (
      allowOrigin !== undefined &&
      req.method === 'OPTIONS' &&
      req.headers.has('access-control-request-method')
    ) {
      const res = new Response(null, { status: preflightStatus });
      const h = res.headers;
      h.set('access-control-allow-origin', allowOrigin);
      if (credentials) h.set('access-control-allow-credentials', 'true');
      h.set('access-control-allow-methods', methods);
      if (allowedHeaders !== undefined) {
        if (allowedHeaders !== '') h.set('access-control-allow-headers', allowedHeaders);
      } else {
        const requested = req.headers.get('access-control-request-headers');
        if (requested !== undefined && requested !== '') h.set('access-control-allow-headers', requested);
        addVary(h, 'Access-Control-Request-Headers');
      }
      if (maxAge !== undefined) h.set('access-control-max-age', maxAge);
      if (varies) addVary(h, 'Origin');
      return res;
    }
    const res = await next();
    const h = res.headers;
    if (varies) addVary(h, 'Origin');
    if (allowOrigin === undefined) return res;
    h.set('access-control-allow-origin', allowOrigin);
    if (credentials) h.set('access-control-allow-credentials', 'true');
    if (exposedHeaders !== undefined) h.set('access-control-expose-headers', exposedHeaders);
    return res;
  };
}
