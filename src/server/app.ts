/**
 * The application: routes, middleware and error handling, independent of any protocol.
 * `app.handle(req)` is the one entry point every driver (HTTP/1.1 now, HTTP/2 and HTTP/3
 * later) calls; `app.fetch(request)` adapts WHATWG Request/Response for fetch-style hosts and
 * tests; `app.listen()` starts a server.
 *
 * Request lifecycle (see README "Request lifecycle"):
 *   driver parses the head -> Request -> middleware (in `use` order) -> router -> handler
 *   -> Response back out through the middleware -> driver frames and writes it.
 * Errors thrown anywhere go to the error handler; `HttpError`s (and errors that carry an HTTP
 * `status`) keep their status, anything else is a 500 without internals unless `development`.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { Headers } from '../core/headers.js';
import { IncomingBody } from '../core/incoming-body.js';
import { type WebSocketHandler, WebSocketRoutes, type WebSocketServerOptions } from '../ws/ws-server.js';
import type { ExtendedConnectHandler } from './extended-connect.js';
import type {
  AppAttachment,
  DispatchContext,
  ErrorHandler,
  Handler,
  Middleware,
  Next,
  ObservingMiddleware,
  Proceed,
  ResponseFinishObserver,
} from './handler.js';
import { HttpError } from './http-error.js';
import { Request } from './request.js';
import { type HandlerResult, Response, toResponse } from './response.js';
import { RadixRouter } from './router/radix-router.js';
import type { Router } from './router/router.js';
import { type ListenOptions, Server } from './server.js';
import type { UpgradeHandler } from './upgrade.js';

/** Options of {@link App}. */
export interface AppOptions {
  /**
   * Development mode: error responses include the message and stack of unexpected errors.
   * Default: `process.env.NODE_ENV === 'development'`.
   */
  development?: boolean;
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1048576 (1 MiB). */
  bodyLimit?: number;
  /** The router to use. Default: a {@link RadixRouter}. */
  router?: Router<Handler>;
}

/** An HTTP application. */
export class App {
  /** Development mode (see {@link AppOptions.development}). */
  readonly development: boolean;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit: number;

  private readonly router: Router<Handler>;
  private readonly middleware: Middleware[] = [];
  /** Middleware told of each finished response ({@link ResponseFinishObserver}). */
  private readonly finishObservers: ResponseFinishObserver[] = [];
  /**
   * Whether the app marks the requests it dispatches first as its own (see {@link dispatch}):
   * once it has finish observers or a dispatch context.
   */
  private ownsRequests = false;
  /** Runs the chain inside every {@link DispatchContext}, the first one added outermost. */
  private dispatchInContexts: Proceed | undefined;
  /** `proceed` functions of observing layers, by the index they run from. */
  private readonly proceeds: Proceed[] = [];
  private errorHandler: ErrorHandler | undefined;
  private notFoundHandler: Handler | undefined;
  private readonly upgradeHandlers = new Map<string, UpgradeHandler>();
  private readonly connectProtocols = new Map<string, ExtendedConnectHandler>();

  constructor(options: AppOptions = {}) {
    this.development = options.development ?? process.env.NODE_ENV === 'development';
    this.bodyLimit = options.bodyLimit ?? 1048576;
    this.router = options.router ?? new RadixRouter<Handler>();
  }

  // ---------------------------------------------------------------------------------------------
  // Registration

  /** Registers `handler` for `method` and `path` (see the router for the pattern syntax). */
  route(method: string, path: string, handler: Handler): this {
    this.router.add(method.toUpperCase(), path, handler);
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.route('GET', path, handler);
  }
  post(path: string, handler: Handler): this {
    return this.route('POST', path, handler);
  }
  put(path: string, handler: Handler): this {
    return this.route('PUT', path, handler);
  }
  patch(path: string, handler: Handler): this {
    return this.route('PATCH', path, handler);
  }
  delete(path: string, handler: Handler): this {
    return this.route('DELETE', path, handler);
  }
  head(path: string, handler: Handler): this {
    return this.route('HEAD', path, handler);
  }
  options(path: string, handler: Handler): this {
    return this.route('OPTIONS', path, handler);
  }
  /** Registers `handler` for every method. */
  all(path: string, handler: Handler): this {
    return this.route('ALL', path, handler);
  }

  /**
   * Handles `Upgrade: <token>` requests (token compared case-insensitively), e.g. `websocket`.
   * The handler takes over the connection (see {@link UpgradeContext}); requests asking for a
   * token nobody handles are served as ordinary requests (RFC 9110 §7.8 lets a server ignore
   * Upgrade).
   */
  upgrade(token: string, handler: UpgradeHandler): this {
    this.upgradeHandlers.set(token.toLowerCase(), handler);
    return this;
  }

  /**
   * Serves a protocol bootstrapped over HTTP/2 by extended CONNECT (RFC 8441): requests with
   * `:method CONNECT` and `:protocol <token>` (compared case-insensitively) go to `handler`,
   * which accepts them (see `ExtendedConnectContext`) or returns a response to decline.
   * While an app has such a handler, its HTTP/2 connections announce
   * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) unless `http2.enableConnectProtocol` says
   * otherwise. `app.ws(...)` registers `websocket` here itself.
   */
  connectProtocol(token: string, handler: ExtendedConnectHandler): this {
    this.connectProtocols.set(token.toLowerCase(), handler);
    return this;
  }

  /** The extended CONNECT handler for a `:protocol` token, if any. */
  connectProtocolHandlerFor(token: string): ExtendedConnectHandler | undefined {
    if (this.connectProtocols.size === 0) return undefined;
    return this.connectProtocols.get(token.toLowerCase());
  }

  /** True when some protocol is served over extended CONNECT (RFC 8441), e.g. a WebSocket route. */
  get servesConnectProtocols(): boolean {
    return this.connectProtocols.size > 0;
  }

  private wsRoutes: WebSocketRoutes | undefined;

  /**
   * Serves WebSocket (RFC 6455) connections at `path` (router pattern syntax; `req.params` is
   * filled in). The handler gets each accepted {@link WebSocket} and its upgrade request; see
   * {@link WebSocketServerOptions} for subprotocols, the Origin check, permessage-deflate,
   * limits and the heartbeat. Upgrade requests for paths without a WebSocket route get 404.
   * The same routes answer WebSockets over HTTP/2 (RFC 8441 extended CONNECT).
   */
  ws(path: string, handler: WebSocketHandler, options?: WebSocketServerOptions): this {
    if (this.wsRoutes === undefined) {
      this.wsRoutes = new WebSocketRoutes();
      this.upgrade('websocket', this.wsRoutes.upgradeHandler);
      this.connectProtocol('websocket', this.wsRoutes.extendedConnectHandler);
    }
    this.wsRoutes.add(path, handler, options);
    return this;
  }

  /** The handler for the first protocol in an `Upgrade` field value that has one. */
  upgradeHandlerFor(upgradeField: string): UpgradeHandler | undefined {
    if (this.upgradeHandlers.size === 0) return undefined;
    for (const part of upgradeField.split(',')) {
      const token = part.trim().split('/')[0].toLowerCase();
      const handler = this.upgradeHandlers.get(token);
      if (handler !== undefined) return handler;
    }
    return undefined;
  }

  /**
   * Adds middleware; it runs for every request, in the order added. An {@link AppAttachment}
   * (`metrics()`, `tracing()`) is attached instead: it registers its routes, finish observers
   * and dispatch context, and adds no layer.
   */
  use(middleware: Middleware | (Middleware & AppAttachment)): this {
    if (typeof (middleware as Partial<AppAttachment>).attachTo === 'function') {
      (middleware as AppAttachment).attachTo(this);
      return this;
    }
    this.middleware.push(middleware);
    const observer = middleware as Middleware & Partial<ResponseFinishObserver>;
    if (typeof observer.onResponseFinish === 'function')
      this.observeFinish(observer as ResponseFinishObserver);
    return this;
  }

  /** Tells `observer` of each finished response of this app (see {@link responseFinished}). */
  observeFinish(observer: ResponseFinishObserver): this {
    this.finishObservers.push(observer);
    this.ownsRequests = true;
    return this;
  }

  /**
   * Runs each request this app owns (see {@link dispatch}) inside `context`, around every
   * middleware layer and the handler, whatever the order of `app.use` calls. Contexts added
   * earlier are outermost.
   */
  dispatchIn(context: DispatchContext): this {
    const inner = this.dispatchInContexts ?? this.runFromStart;
    this.dispatchInContexts = (req) => context.run(req, inner);
    this.ownsRequests = true;
    return this;
  }

  /** True when some middleware observes finished responses: drivers then call {@link responseFinished}. */
  get observesFinish(): boolean {
    return this.finishObservers.length > 0;
  }

  /**
   * Tells the {@link ResponseFinishObserver} middleware that the response to `req` is done,
   * at `finishedAt` (`performance.now()`), called by the drivers.
   */
  responseFinished(req: Request, status: number, bytes: number, finishedAt: number): void {
    // Only the requests this app owns (see dispatch): one its dispatch never saw, or saw
    // after another app with observers, is not its to report.
    if (req.observedBy !== this) return;
    const observers = this.finishObservers;
    for (let i = 0; i < observers.length; i++) {
      try {
        observers[i]!.onResponseFinish(req, status, bytes, finishedAt);
      } catch (err) {
        // Like a diagnostics_channel subscriber's error: uncaught, but not in the driver's path.
        process.nextTick(rethrow, err);
      }
    }
  }

  /** Sets the error handler (default: status from `HttpError`/`status`, else 500). */
  onError(handler: ErrorHandler): this {
    this.errorHandler = handler;
    return this;
  }

  /** Sets the handler for requests no route matches (default: 404 text). */
  notFound(handler: Handler): this {
    this.notFoundHandler = handler;
    return this;
  }

  // ---------------------------------------------------------------------------------------------
  // Dispatch

  /**
   * Runs the request through middleware, router and handler. Resolves to the handler's result
   * unconverted when no ordinary middleware changed it (drivers frame plain strings and objects
   * directly), else to a {@link Response}. Never rejects: errors become error responses.
   */
  dispatch(req: Request): HandlerResult | Promise<HandlerResult> {
    // The first app with instruments to see a request owns it (see responseFinished) and
    // notes when it started, for all its instruments at once: the instruments themselves then
    // need no work when the request starts.
    if (this.ownsRequests && req.observedBy === undefined) {
      req.observedBy = this;
      req.instrumentedAt = performance.now();
    }
    const inContexts = this.dispatchInContexts;
    // Only the owner's contexts: a request handed on from another app is in that app's.
    if (inContexts !== undefined && req.observedBy === this) {
      try {
        return inContexts(req);
      } catch (err) {
        return this.handleError(err, req);
      }
    }
    return this.runFrom(req, 0);
  }

  /** The whole chain, from the first layer. */
  private readonly runFromStart: Proceed = (req) => this.runFrom(req, 0);

  /**
   * Runs the chain from layer `index`: observing layers (see {@link ObservingMiddleware}) call
   * on with the next layer's `proceed`; the first ordinary middleware starts the onion; past
   * the last layer the router and handler answer, unconverted.
   */
  private runFrom(req: Request, index: number): HandlerResult | Promise<HandlerResult> {
    const layers = this.middleware;
    try {
      if (index === layers.length) {
        const result = this.routeRequest(req);
        if (isPromise(result)) return result.then(undefined, (err) => this.handleError(err, req));
        return result;
      }
      const layer = layers[index] as Partial<ObservingMiddleware>;
      if (layer.observe !== undefined) return layer.observe(req, this.proceedFrom(index + 1));
    } catch (err) {
      return this.handleError(err, req);
    }
    return this.runChain(req, index);
  }

  /** The `proceed` that runs the chain from layer `index`, made once per layer. */
  private proceedFrom(index: number): Proceed {
    let proceed = this.proceeds[index];
    if (proceed === undefined) {
      proceed = (req) => this.runFrom(req, index);
      this.proceeds[index] = proceed;
    }
    return proceed;
  }

  /** The onion from ordinary middleware layer `index` inwards. */
  private runChain(req: Request, index: number): HandlerResult | Promise<HandlerResult> {
    const chain = new Chain(req);
    let result: Response | Promise<Response>;
    try {
      result = this.runLayer(chain, index);
    } catch (err) {
      return this.handleError(err, req);
    }
    // Every layer handed the innermost promise straight back (`return next()`, as no-op
    // middleware does) and the handler answered synchronously: the outcome is known now, so
    // skip the microtask hops, and send the handler's own value, which the drivers frame
    // without a Response. (A layer that wanted to change the response returned a promise of
    // its own.)
    if (result === chain.inner && chain.settled) return chain.raw;
    if (isPromise(result)) return result.then(undefined, (err) => this.handleError(err, req));
    return result;
  }

  /** Like {@link dispatch}, but always resolves to a {@link Response}. */
  async handle(req: Request): Promise<Response> {
    return toResponse(await this.dispatch(req));
  }

  /**
   * Serves a WHATWG `Request` and returns a WHATWG `Response`, so the app runs anywhere fetch
   * handlers run (and tests need no socket).
   */
  async fetch(request: globalThis.Request): Promise<globalThis.Response> {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    if (!headers.has('host')) headers.set('host', url.host);
    const bytes = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
    const req = new Request({
      method: request.method,
      target: url.pathname + url.search,
      headers,
      body: bytes === undefined ? IncomingBody.empty() : IncomingBody.of(bytes),
      protocol: 'http/1.1',
      connection: { remoteAddress: '', remotePort: 0, secure: url.protocol === 'https:' },
    });
    return toWebResponse(await this.handle(req));
  }

  /** Starts serving on a port (see {@link ListenOptions}); resolves once listening. */
  async listen(options: ListenOptions = {}): Promise<Server> {
    const server = new Server(this, options);
    await server.start();
    return server;
  }

  private routeRequest(req: Request): HandlerResult | Promise<HandlerResult> {
    const match = this.router.match(req.method, req.path);
    if (match !== null) {
      req.params = match.params;
      req.route = match.pattern;
      return match.handler(req);
    }
    return this.unmatched(req);
  }

  private unmatched(req: Request): HandlerResult | Promise<HandlerResult> {
    const allowed = this.router.allowedMethods(req.path);
    if (allowed.length > 0) {
      if (req.method === 'OPTIONS') {
        return new Response(null, { status: 204, headers: { allow: [...allowed, 'OPTIONS'].join(', ') } });
      }
      // RFC 9110 §15.5.6: a 405 must list the methods the target supports.
      return new Response('Method Not Allowed', {
        status: 405,
        headers: { allow: allowed.join(', '), 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    if (this.notFoundHandler !== undefined) return this.notFoundHandler(req);
    return new Response('Not Found', {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }

  /**
   * Runs middleware layer `index` (or, past the last one, the router and handler). Returns what
   * the layer returned; a `next` resolves to the rest of the chain's Response.
   */
  private runLayer(chain: Chain, index: number): Response | Promise<Response> {
    const layer = this.middleware[index];
    // One closure per layer: it must remember its index so that a layer calling `next` again
    // (a retry) reruns the layers after it.
    const next: Next =
      index + 1 === this.middleware.length
        ? () => this.innermostRun(chain)
        : () => this.nextLayer(chain, index + 1);
    return layer(chain.req, next);
  }

  /** The `next` of layer `index - 1`: layer `index` as a promise (never throws). */
  private nextLayer(chain: Chain, index: number): Promise<Response> {
    try {
      const result = this.runLayer(chain, index);
      // A layer returning the inner promise itself needs no wrapper (nor a microtask hop).
      return isPromise(result) ? result : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The router and handler behind the last middleware. The handler's errors become responses
   * here, innermost, so that every middleware (CORS, request ids, compression, logging) sees
   * and decorates error responses too.
   */
  private innermostRun(chain: Chain): Promise<Response> {
    const req = chain.req;
    let promise: Promise<Response>;
    try {
      const result = this.routeRequest(req);
      if (!isPromise(result)) {
        promise = Promise.resolve(toResponse(result));
        if (chain.inner === undefined) {
          chain.raw = result;
          chain.settled = true;
        }
      } else {
        promise = result.then(toResponse, (err) => this.handleError(err, req));
      }
    } catch (err) {
      promise = this.handleError(err, req);
    }
    // Only the first run is remembered: a repeated `next` (a retry) is a different outcome.
    if (chain.inner === undefined) chain.inner = promise;
    return promise;
  }

  private async handleError(error: unknown, req: Request): Promise<Response> {
    if (this.errorHandler !== undefined) {
      try {
        return toResponse(await this.errorHandler(error, req));
      } catch (second) {
        return this.defaultError(second);
      }
    }
    return this.defaultError(error);
  }

  /** The built-in error response: the error's own status when it has one, else 500. */
  private defaultError(error: unknown): Response {
    const status = statusOf(error);
    const expose = status < 500 || this.development;
    const message =
      expose && error instanceof Error ? error.message : status >= 500 ? 'Internal Server Error' : '';
    const body: Record<string, unknown> = { error: message || 'Error', status };
    if (this.development && error instanceof Error && error.stack !== undefined) body.stack = error.stack;
    const res = Response.json(body, { status });
    if (error instanceof HttpError && error.headers !== undefined) {
      for (const name of Object.keys(error.headers)) res.headers.set(name, error.headers[name]);
    }
    return res;
  }
}

/** The HTTP status an error asks for: `HttpError.status` or a numeric `status` in 400..599. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) return status;
  return 500;
}

/**
 * One request's trip through the middleware: lets `dispatch` tell, without waiting, that the
 * chain returned the innermost promise unchanged and what that promise holds.
 */
class Chain {
  /** The promise the innermost `next` returned first. */
  inner: Promise<Response> | undefined = undefined;
  /** True when the handler answered synchronously, with `raw`. */
  settled = false;
  /** The handler's synchronous result, unconverted. */
  raw: HandlerResult = undefined;

  constructor(readonly req: Request) {}
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

/** Converts our Response to a WHATWG Response (buffering stream bodies through a ReadableStream). */
async function toWebResponse(res: Response): Promise<globalThis.Response> {
  const headers = new globalThis.Headers();
  if (res.hasHeaders) for (const [name, value] of res.headers) headers.append(name, value);
  const body = res.body;
  let webBody: ConstructorParameters<typeof globalThis.Response>[0] = null;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    webBody = body;
  } else if (body !== null) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    }
    webBody = Buffer.concat(chunks);
  }
  const nullBody = res.status === 204 || res.status === 304 || (res.status >= 100 && res.status < 200);
  return new globalThis.Response(nullBody ? null : webBody, {
    status: res.status,
    statusText: res.statusText,
    headers,
  });
}

function rethrow(err: unknown): never {
  throw err;
}
