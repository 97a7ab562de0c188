/**
 * The shapes of application code: route handlers, middleware and error handlers.
 *
 * Order (the onion): a request passes through the middleware in the order `app.use` added
 * them, then reaches the matched route handler (or the 404/405 answer); the response travels
 * back out through the same middleware in reverse. An exception anywhere goes to the error
 * handler, which turns it into a response.
 */
import type { Request } from './request.js';
import type { HandlerResult, Response } from './response.js';

/** A route handler: returns a Response or a value `toResponse` understands. */
export type Handler = (req: Request) => HandlerResult | Promise<HandlerResult>;

/** Calls the rest of the chain and resolves to its response. */
export type Next = () => Promise<Response>;

/** Middleware: may act before and after the rest of the chain (`await next()`), or answer itself. */
export type Middleware = (req: Request, next: Next) => Response | Promise<Response>;

/**
 * Runs the rest of the chain after an observer (see {@link ObservingMiddleware}) and returns its
 * outcome as is: a handler's own value, a Response, or a promise of either.
 */
export type Proceed = (req: Request) => HandlerResult | Promise<HandlerResult>;

/**
 * Middleware that only observes requests and never changes their responses (metrics, tracing).
 * Besides being ordinary middleware, it has an `observe` form: `observe(req, proceed)` must
 * return `proceed(req)`'s outcome untouched (it may call it inside a context, e.g.
 * `AsyncLocalStorage.run`), or a Response of its own instead of calling it. While every layer
 * from there to the handler observes, the app runs them this way, with no `next` closure and no
 * promise per request, and a synchronous handler's answer stays synchronous. After an ordinary
 * middleware, observers run as ordinary middleware.
 */
export interface ObservingMiddleware extends Middleware {
  observe(req: Request, proceed: Proceed): HandlerResult | Promise<HandlerResult>;
}

/**
 * Middleware told when the response to each request of its app has been sent in full, or
 * abandoned (the metrics and tracing instruments). The server's connections call it directly,
 * in the order `app.use` added them: cheaper per request than the `avx:server:response:finish`
 * channel (see server-diagnostics.ts), which needs a message object and a publish, and only
 * for this app's requests. It must not throw; an exception is rethrown asynchronously, as an
 * uncaught exception, like a diagnostics_channel subscriber's.
 */
export interface ResponseFinishObserver {
  /**
   * `status` was sent with `bytes` of body (-1 when unknown), at `finishedAt`
   * (`performance.now()` milliseconds, read once by the connection for every observer).
   */
  onResponseFinish(req: Request, status: number, bytes: number, finishedAt: number): void;
}

/**
 * What `app.use` attaches to an app instead of adding it as a middleware layer: instruments that
 * only need to hear of finished responses, to serve routes of their own (`metrics()` and its
 * `/metrics`) or to run requests in a context (`tracing()` and the active span). A layer costs
 * every request a call, even one that only passes the request on, and under load the code run
 * per request slows the rest of the request too (docs/telemetry.md). Such an object may still
 * be ordinary middleware elsewhere.
 */
export interface AppAttachment {
  /**
   * Registers what it needs on `app` (routes, finish observers, a dispatch context); called
   * once by `app.use`.
   */
  attachTo(app: AttachmentHost): void;
}

/**
 * A context an app runs each of its own requests in, around all of its middleware and the
 * handler (`tracing()`: the request's span is the active span there). `run` must return
 * `dispatch(req)`'s outcome untouched, calling it inside its context (e.g.
 * `AsyncLocalStorage.run`).
 */
export interface DispatchContext {
  run(req: Request, dispatch: Proceed): HandlerResult | Promise<HandlerResult>;
}

/** What an {@link AppAttachment} may register on the app it is attached to. */
export interface AttachmentHost {
  route(method: string, path: string, handler: Handler): unknown;
  /** Tells `observer` of each finished response of the app, as for middleware that is one. */
  observeFinish(observer: ResponseFinishObserver): unknown;
  /** Runs each request the app owns inside `context`, around every middleware layer. */
  dispatchIn(context: DispatchContext): unknown;
}

/** Turns an exception into a response. */
export type ErrorHandler = (error: unknown, req: Request) => HandlerResult | Promise<HandlerResult>;
