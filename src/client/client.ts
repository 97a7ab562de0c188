/**
 * `Client`: the HTTP client's public face. It turns `request()` options into a
 * {@link ClientRequest}, runs it through the dispatch chain (user interceptors, then the
 * redirect, retry and decompression policies, then the connection pool of the request's origin)
 * and resolves with a {@link ClientResponse} once the head has arrived.
 *
 * Dispatch order (outermost first):
 *
 * ```
 * client.request()
 *   -> use() / onRequest() / onResponse() interceptors, in registration order
 *   -> redirect policy   (RFC 9110 §15.4)
 *   -> retry policy      (backoff, Retry-After, RFC 9110 §10.2.3)
 *   -> decompression    (Accept-Encoding, gzip / deflate / br, RFC 9110 §8.4)
 *   -> origin pool -> HTTP/1.1 or HTTP/2 connection
 *      (with `http3`: the HTTP/3 pool of the origin's Alt-Svc h3 alternative first, TCP on
 *      connection failure, RFC 7838 §2.4)
 * ```
 */
import { InvalidMethodError } from '../core/errors.js';
import { Headers, type HeadersInit } from '../core/headers.js';
import { isKnownMethod, validateMethod } from '../core/method.js';
import type { H1ParserOptions } from '../h1/h1-types.js';
import type { H2ConnectionOptions } from '../h2/h2-connection-options.js';
import { defaultTimerWheel, type TimerWheel } from '../runtime/timer-wheel.js';
import { AltSvcCache } from './alt-svc.js';
import {
  ClientClosedError,
  ConnectError,
  ConnectTimeoutError,
  InvalidRequestError,
  RequestTimeoutError,
} from './client-errors.js';
import type { ClientPush, ClientPushHandler } from './client-push.js';
import { ClientRequest, type RequestOptions } from './client-request.js';
import type { ClientResponse } from './client-response.js';
import { clientTracingPolicy, type TracingClientOptions } from './client-tracing.js';
import type { ClientTlsOptions } from './connector.js';
import { bareHostname } from './connector.js';
import { type DecompressionOptions, decompressionPolicy } from './decompression-policy.js';
import { composeDispatch, type Dispatch, type DispatchMiddleware } from './dispatch.js';
import { clientFetch } from './fetch-adapter.js';
import type { H1ConnectionSettings } from './h1-client-connection.js';
import { H3OriginPool, h3TrustAnchors } from './h3-origin-pool.js';
import { OriginPool, type OriginPoolH2, type PoolStats } from './pool/origin-pool.js';
import { type ProxyOptions, ProxySelector } from './proxy-config.js';
import { type RedirectOptions, redirectPolicy } from './redirect-policy.js';
import { normalizeRequestBody } from './request-body.js';
import { type RetryOptions, retryPolicy } from './retry-policy.js';

/** Options of {@link Client}. Every field is optional; the defaults are safe. */
export interface ClientOptions {
  /** Most connections per origin. Default 64. */
  connections?: number;
  /** Requests in flight per connection (HTTP/1.1 pipelining, RFC 9112 §9.3.2). Default 1 (off). */
  pipelining?: number;
  /** Most requests waiting per origin when every connection is busy. Default 10000. */
  maxQueued?: number;
  /** Most idle connections kept per origin. Default: `connections`. */
  maxIdle?: number;
  /** How long an idle connection is kept, in ms. Default 4000. */
  keepAliveTimeout?: number;
  /** Cap on the idle time a server's `Keep-Alive: timeout` may grant, in ms. Default 600000. */
  keepAliveMaxTimeout?: number;
  /** Establishing a connection (TCP, TLS, proxy tunnel), in ms; 0 disables. Default 10000. */
  connectTimeout?: number;
  /** From sending a request to its response head being complete, in ms; 0 disables. Default 30000. */
  headersTimeout?: number;
  /** Longest silence while reading a response body, in ms; 0 disables. Default 30000. */
  bodyTimeout?: number;
  /** The whole request, all attempts, until the body ends, in ms; 0 disables. Default 0. */
  timeout?: number;
  /** Largest response body, in bytes (before decoding). Default Infinity. */
  maxResponseBytes?: number;
  /** Unread response bytes above which reading pauses (backpressure). Default 65536. */
  highWaterMark?: number;
  /** Response parser limits (header bytes 16 KiB, 100 fields by default). */
  parser?: H1ParserOptions;
  /** Redirect policy defaults (follow, at most 10). */
  redirect?: RedirectOptions;
  /** Retry policy defaults (2 retries), or `false` for none. */
  retry?: RetryOptions | number | false;
  /** Decompression policy defaults (on, `gzip, deflate, br`). */
  decompress?: DecompressionOptions | boolean;
  /**
   * Replaces the default policies (redirect, retry, decompression) with this list, in order
   * (outermost first). The built-in ones are exported to be reused: `redirectPolicy()`, ...
   */
  policies?: DispatchMiddleware[];
  /** TLS settings (TLS 1.3 minimum, system CAs, SNI and ALPN `h2`, `http/1.1` by default). */
  tls?: ClientTlsOptions;
  /**
   * HTTP/2 (RFC 9113): `true` also speaks h2c with prior knowledge to `http:` origins (§3.3);
   * unless `false`, `https:` origins are offered `h2` by ALPN and use it when the server picks it.
   * One connection per origin carries every request. Default: ALPN only.
   */
  http2?: boolean;
  /**
   * HTTP/3 (RFC 9114) over QUIC, for `https:` origins. `true`: every https response's Alt-Svc
   * field (RFC 7838) is remembered per origin, and once an origin advertised `h3` its later
   * requests go over HTTP/3 to the advertised host and UDP port (the first one goes over TCP as
   * usual); when that connection fails (handshake error or timeout) the request goes over TCP
   * and the alternative is forgotten (RFC 7838 §2.4). `'only'`: HTTP/3 straight to the URL's
   * host and port (as a UDP port), no fallback. The server's certificate is checked against
   * `tls.ca` (default Node's roots) for the URL's host; `tls.rejectUnauthorized: false` is not
   * supported over QUIC (with `true` HTTP/3 is then not used; with `'only'` the constructor
   * throws). Not used through a proxy or a `socketPath`. Default false.
   */
  http3?: boolean | 'only';
  /** Limits and windows of HTTP/2 connections (see `H2ConnectionOptions`). */
  http2Options?: H2ConnectionOptions;
  /**
   * Accept HTTP/2 server push (RFC 9113 §8.4): called with each response a server promises
   * (see {@link ClientPush}). Default: none, and push is refused (SETTINGS_ENABLE_PUSH = 0; a
   * PUSH_PROMISE is then a connection error PROTOCOL_ERROR).
   */
  http2Push?: ClientPushHandler;
  /** Connect every origin through this Unix domain socket. Default: none. */
  socketPath?: string;
  /**
   * HTTP proxy: a URL, options, or `'env'` to read HTTP_PROXY / HTTPS_PROXY / NO_PROXY.
   * Default: none (direct connections).
   */
  proxy?: string | URL | ProxyOptions | 'env';
  /** Timer wheel for every timeout. Default: the process-wide `defaultTimerWheel()`. */
  timerWheel?: TimerWheel;
  /**
   * Trace requests: inject W3C `traceparent` / `tracestate` from the active span and record a
   * CLIENT span per attempt with the tracer `tracing()` installed (the innermost policy).
   * Default false.
   */
  tracing?: boolean | TracingClientOptions;
}

/** `request()` options without url and method, for the shortcuts. */
export type ShortcutOptions = Omit<RequestOptions, 'url' | 'method'>;

/** The request options of a client, plus a `json` body shortcut. */
export interface ClientRequestOptions extends RequestOptions {
  /** Serialised with `JSON.stringify` as the body, with `content-type: application/json`. */
  json?: unknown;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new InvalidRequestError(`${name} must be a number >= 0, got ${String(value)}`);
  }
  return v;
}

function totalTimeoutFired(controller: AbortController): void {
  const error = (controller as AbortController & { avxTimeoutError?: Error }).avxTimeoutError;
  controller.abort(error);
}

/** An HTTP client with a connection pool per origin. */
export class Client {
  readonly #options: ClientOptions;
  readonly #wheel: TimerWheel;
  readonly #connections: number;
  readonly #pipelining: number;
  readonly #maxQueued: number;
  readonly #maxIdle: number;
  readonly #keepAliveTimeout: number;
  readonly #keepAliveMaxTimeout: number;
  readonly #connectTimeout: number;
  readonly #headersTimeout: number;
  readonly #bodyTimeout: number;
  readonly #totalTimeout: number;
  readonly #proxy: ProxySelector | undefined;
  readonly #pools = new Map<string, OriginPool>();
  /** HTTP/3 pools, by origin and UDP endpoint. */
  readonly #h3Pools = new Map<string, H3OriginPool>();
  readonly #http3: boolean | 'only';
  /** The Alt-Svc alternatives origins advertised (with `http3: true`). */
  readonly #altSvc: AltSvcCache | undefined;
  readonly #interceptors: DispatchMiddleware[] = [];
  readonly #policies: DispatchMiddleware[];
  #dispatch: Dispatch;
  #closed = false;

  constructor(options: ClientOptions = {}) {
    this.#options = options;
    this.#wheel = options.timerWheel ?? defaultTimerWheel();
    this.#connections = Math.max(1, Math.floor(positive(options.connections, 64, 'connections')));
    this.#pipelining = Math.max(1, Math.floor(positive(options.pipelining, 1, 'pipelining')));
    this.#maxQueued = positive(options.maxQueued, 10_000, 'maxQueued');
    this.#maxIdle = positive(options.maxIdle, this.#connections, 'maxIdle');
    this.#keepAliveTimeout = positive(options.keepAliveTimeout, 4000, 'keepAliveTimeout');
    this.#keepAliveMaxTimeout = positive(options.keepAliveMaxTimeout, 600_000, 'keepAliveMaxTimeout');
    this.#connectTimeout = positive(options.connectTimeout, 10_000, 'connectTimeout');
    this.#headersTimeout = positive(options.headersTimeout, 30_000, 'headersTimeout');
    this.#bodyTimeout = positive(options.bodyTimeout, 30_000, 'bodyTimeout');
    this.#totalTimeout = positive(options.timeout, 0, 'timeout');
    const proxy = options.proxy;
    this.#proxy =
      proxy === undefined
        ? undefined
        : proxy === 'env'
          ? ProxySelector.fromEnv()
          : ProxySelector.fromOptions(proxy);
    const decompress = options.decompress;
    this.#policies = options.policies ?? [
      redirectPolicy(options.redirect),
      retryPolicy(options.retry ?? {}),
      decompressionPolicy(typeof decompress === 'boolean' ? { enabled: decompress } : decompress),
    ];
    const tracing = options.tracing;
    if (tracing !== undefined && tracing !== false) {
      this.#policies = [...this.#policies, clientTracingPolicy(tracing === true ? {} : tracing)];
    }
    this.#dispatch = this.#compose();
    let http3 = options.http3 ?? false;
    if (http3 !== false && options.tls?.rejectUnauthorized === false) {
      if (http3 === 'only') {
        throw new InvalidRequestError('http3: the QUIC handshake cannot skip certificate verification');
      }
      http3 = false;
    }
    this.#http3 = http3;
    this.#altSvc = http3 === true ? new AltSvcCache() : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Interceptors

  /** Adds dispatch middleware, after those added before it and before the policies. */
  use(middleware: DispatchMiddleware): this {
    this.#interceptors.push(middleware);
    this.#dispatch = this.#compose();
    return this;
  }

  /** Adds a hook that may change (or replace, by returning one) every request before it is sent. */
  onRequest(
    hook: (request: ClientRequest) => ClientRequest | undefined | Promise<ClientRequest | undefined>,
  ): this {
    return this.use(async (request, next) => {
      const changed = await hook(request);
      return next(changed ?? request);
    });
  }

  /** Adds a hook that observes every response (head received) with its request. */
  onResponse(hook: (response: ClientResponse, request: ClientRequest) => void | Promise<void>): this {
    return this.use(async (request, next) => {
      const response = await next(request);
      await hook(response, request);
      return response;
    });
  }

  #compose(): Dispatch {
    return composeDispatch([...this.#interceptors, ...this.#policies], this.#toPool);
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  /**
   * Sends a request. Resolves with the response once its head has arrived; the body then
   * streams in. Rejects with a typed {@link ClientError} (connect failure, timeout, abort, ...).
   */
  request(options: ClientRequestOptions): Promise<ClientResponse> {
    let request: ClientRequest;
    try {
      request = this.#build(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#dispatch(request);
  }

  /** GET `url`. */
  get(url: string | URL, options?: ShortcutOptions & { json?: unknown }): Promise<ClientResponse> {
    return this.request({ ...options, url, method: 'GET' });
  }

  /** HEAD `url`. */
  head(url: string | URL, options?: ShortcutOptions): Promise<ClientResponse> {
    return this.request({ ...options, url, method: 'HEAD' });
  }

  /** POST `url` (body in `options.body` or `options.json`). */
  post(url: string | URL, options?: ShortcutOptions & { json?: unknown }): Promise<ClientResponse> {
    return this.request({ ...options, url, method: 'POST' });
  }

  /** PUT `url`. */
  put(url: string | URL, options?: ShortcutOptions & { json?: unknown }): Promise<ClientResponse> {
    return this.request({ ...options, url, method: 'PUT' });
  }

  /** PATCH `url`. */
  patch(url: string | URL, options?: ShortcutOptions & { json?: unknown }): Promise<ClientResponse> {
    return this.request({ ...options, url, method: 'PATCH' });
  }

  /** DELETE `url`. */
  delete(url: string | URL, options?: ShortcutOptions & { json?: unknown }): Promise<ClientResponse> {
    return this.request({ ...options, url, method: 'DELETE' });
  }

  /** WHATWG `fetch` over this client: accepts and returns WHATWG `Request` / `Response`. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return clientFetch(this, input, init);
  }

  #build(options: ClientRequestOptions): ClientRequest {
    if (options === null || typeof options !== 'object') {
      throw new InvalidRequestError('request options must be an object with at least a url');
    }
    if (this.#closed) throw new ClientClosedError();
    const input = options.url;
    let url: URL;
    if (input instanceof URL) {
      url = input;
    } else {
      try {
        url = new URL(input);
      } catch (err) {
        throw new InvalidRequestError(`invalid URL ${JSON.stringify(String(input))}`, '', err);
      }
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidRequestError(`unsupported protocol ${url.protocol}: use http: or https:`, url.origin);
    }
    const method = options.method ?? 'GET';
    if (!isKnownMethod(method)) {
      try {
        validateMethod(method);
      } catch (err) {
        throw new InvalidRequestError((err as Error).message, url.origin, err);
      }
    }
    if (method === 'CONNECT') {
      throw new InvalidRequestError(
        'CONNECT is not supported by request(); configure a proxy instead',
        url.origin,
        new InvalidMethodError(method),
      );
    }
    const headers = new Headers(options.headers as HeadersInit | undefined);
    let body = normalizeRequestBody(options.body);
    if (options.json !== undefined) {
      body = normalizeRequestBody(JSON.stringify(options.json));
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    let connect = this.#connectTimeout;
    let head = this.#headersTimeout;
    let bodyIdle = this.#bodyTimeout;
    let total = this.#totalTimeout;
    const t = options.timeout;
    if (typeof t === 'number') {
      total = t;
    } else if (t !== undefined) {
      connect = t.connect ?? connect;
      head = t.headers ?? head;
      bodyIdle = t.body ?? bodyIdle;
      total = t.total ?? total;
    }
    let signal = options.signal;
    if (total > 0) signal = this.#totalTimeoutSignal(url.origin, total, signal);
    const request = new ClientRequest(method, url, headers, body, signal, connect, head, bodyIdle);
    request.redirect = options.redirect;
    request.maxRedirects = options.maxRedirects;
    request.retry = options.retry;
    request.decompress = options.decompress;
    return request;
  }

  /** A signal that fires {@link RequestTimeoutError} after `ms`, or when `outer` fires. */
  #totalTimeoutSignal(origin: string, ms: number, outer: AbortSignal | undefined): AbortSignal {
    const controller = new AbortController() as AbortController & { avxTimeoutError?: Error };
    controller.avxTimeoutError = new RequestTimeoutError(origin, ms);
    const handle = this.#wheel.schedule(ms, totalTimeoutFired, controller);
    if (outer !== undefined) {
      if (outer.aborted) controller.abort(outer.reason);
      else
        outer.addEventListener('abort', () => controller.abort(outer.reason), {
          once: true,
          signal: controller.signal,
        });
    }
    controller.signal.addEventListener('abort', () => this.#wheel.cancel(handle), { once: true });
    return controller.signal;
  }

  #toPool = (request: ClientRequest): Promise<ClientResponse> => {
    const url = request.url;
    if (
      this.#http3 !== false &&
      url.protocol === 'https:' &&
      this.#options.socketPath === undefined &&
      this.#proxy?.select(url) === undefined
    ) {
      return this.#toH3(request);
    }
    return this.#toTcp(request);
  };

  /** HTTP/3 (see {@link ClientOptions.http3}). */
  #toH3(request: ClientRequest): Promise<ClientResponse> {
    const url = request.url;
    const port = Number(url.port) || 443;
    if (this.#http3 === 'only') return this.#h3Pool(url, bareHostname(url.hostname), port).dispatch(request);
    const altSvc = this.#altSvc!;
    const origin = url.origin;
    const alt = altSvc.lookup(origin, 'h3')[0];
    if (alt === undefined) return this.#toTcp(request).then(this.#noteAltSvc);
    const host = alt.host === '' ? bareHostname(url.hostname) : alt.host;
    return this.#h3Pool(url, host, alt.port)
      .dispatch(request)
      .then(this.#noteAltSvc, (err: unknown) => {
        // RFC 7838 §2.4: the alternative failed before the request was sent: use the origin.
        if (!(err instanceof ConnectError || err instanceof ConnectTimeoutError)) throw err;
        // Its own response's Alt-Svc is not taken up again: the next request stays on TCP.
        altSvc.forget(origin);
        return this.#toTcp(request);
      });
  }

  /** Remembers an https response's Alt-Svc field (RFC 7838 §3). */
  #noteAltSvc = (response: ClientResponse): ClientResponse => {
    const field = response.headers.get('alt-svc');
    if (field !== undefined) this.#altSvc!.update(new URL(response.url).origin, field);
    return response;
  };

  #h3Pool(url: URL, host: string, port: number): H3OriginPool {
    const key = `${url.origin} ${host} ${port}`;
    let pool = this.#h3Pools.get(key);
    if (pool === undefined) {
      const tls = this.#options.tls;
      pool = new H3OriginPool(
        {
          origin: url.origin,
          authority: url.host,
          hostname: host,
          port,
          serverName: tls?.servername ?? bareHostname(url.hostname),
          trustAnchors: h3TrustAnchors(tls?.ca),
          maxResponseBytes: this.#options.maxResponseBytes ?? Number.POSITIVE_INFINITY,
          highWaterMark: this.#options.highWaterMark ?? 65536,
          idleTimeout: this.#keepAliveTimeout,
          wheel: this.#wheel,
        },
        this.#maxQueued,
      );
      this.#h3Pools.set(key, pool);
    }
    return pool;
  }

  #toTcp(request: ClientRequest): Promise<ClientResponse> {
    const url = request.url;
    const key = url.origin;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      if (this.#closed) return Promise.reject(new ClientClosedError(key));
      try {
        pool = this.#createPool(url);
      } catch (err) {
        return Promise.reject(err);
      }
      this.#pools.set(key, pool);
    }
    return pool.dispatch(request);
  }

  #createPool(url: URL): OriginPool {
    const secure = url.protocol === 'https:';
    const proxy = this.#options.socketPath === undefined ? this.#proxy?.select(url) : undefined;
    const forward = proxy !== undefined && !secure;
    let extraLines = '';
    if (forward) {
      if (proxy.authorization !== undefined) extraLines += `proxy-authorization: ${proxy.authorization}\r\n`;
      for (let i = 0; i < proxy.headers.length; i += 2)
        extraLines += `${proxy.headers[i]}: ${proxy.headers[i + 1]}\r\n`;
    }
    const settings: H1ConnectionSettings = {
      target: {
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port) || (secure ? 443 : 80),
        origin: url.origin,
        socketPath: this.#options.socketPath,
        proxy,
        tls: this.#options.tls,
      },
      host: url.host,
      absoluteForm: forward,
      extraLines,
      parser: this.#options.parser ?? {},
      maxResponseBytes: this.#options.maxResponseBytes ?? Number.POSITIVE_INFINITY,
      highWaterMark: this.#options.highWaterMark ?? 65536,
      pipelining: this.#pipelining,
      wheel: this.#wheel,
    };
    return new OriginPool(
      url.origin,
      settings,
      {
        connections: this.#connections,
        maxQueued: this.#maxQueued,
        maxIdle: this.#maxIdle,
        idleTimeout: this.#keepAliveTimeout,
        maxIdleTimeout: this.#keepAliveMaxTimeout,
        connectTimeout: this.#connectTimeout,
      },
      this.#h2For(settings, secure, forward),
    );
  }

  /** How the pool of an origin speaks HTTP/2, or undefined for HTTP/1.1 only. */
  #h2For(settings: H1ConnectionSettings, secure: boolean, forward: boolean): OriginPoolH2 | undefined {
    const http2 = this.#options.http2;
    if (http2 === false || forward) return undefined;
    let mode: OriginPoolH2['mode'];
    let target = settings.target;
    if (secure) {
      const offered = this.#options.tls?.ALPNProtocols;
      if (offered !== undefined && !offered.includes('h2')) return undefined;
      // RFC 9113 §3.2: offer h2 first, fall back to HTTP/1.1 if the server prefers it.
      target = { ...target, tls: { ...target.tls, ALPNProtocols: offered ?? ['h2', 'http/1.1'] } };
      mode = 'alpn';
    } else if (http2 === true) {
      mode = 'prior-knowledge';
    } else {
      return undefined;
    }
    return {
      mode,
      settings: {
        target,
        authority: settings.host,
        maxResponseBytes: settings.maxResponseBytes,
        highWaterMark: settings.highWaterMark,
        idleTimeout: this.#keepAliveTimeout,
        h2:
          this.#options.http2Push === undefined
            ? this.#options.http2Options
            : { ...this.#options.http2Options, enablePush: true },
        onPush: this.#options.http2Push,
        wheel: this.#wheel,
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle and statistics

  /** Counters summed over every origin, or of one origin (`'http://host:port'`). */
  stats(origin?: string): PoolStats {
    const total: PoolStats = {
      connections: 0,
      connecting: 0,
      active: 0,
      idle: 0,
      pending: 0,
      created: 0,
      reused: 0,
      requests: 0,
    };
    const pools: [string, { stats(): PoolStats }][] = [...this.#pools];
    for (const [key, pool] of this.#h3Pools) pools.push([key.slice(0, key.indexOf(' ')), pool]);
    for (const [key, pool] of pools) {
      if (origin !== undefined && key !== origin) continue;
      const s = pool.stats();
      total.connections += s.connections;
      total.connecting += s.connecting;
      total.active += s.active;
      total.idle += s.idle;
      total.pending += s.pending;
      total.created += s.created;
      total.reused += s.reused;
      total.requests += s.requests;
    }
    return total;
  }

  /** True once `close()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops taking requests and resolves once every queued and in-flight one has finished. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values(), ...this.#h3Pools.values()].map((pool) => pool.close()));
  }

  /** Fails every queued and in-flight request (with `reason`) and closes every connection now. */
  destroy(reason?: Error): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) pool.destroy(reason);
    for (const pool of this.#h3Pools.values()) pool.destroy(reason);
  }
}
