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

/** Turns an exception into a response. */
export type ErrorHandler = (error: unknown, req: Request) => HandlerResult | Promise<HandlerResult>;
