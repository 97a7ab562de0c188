/**
 * The active span of the current asynchronous context (`AsyncLocalStorage`): the server tracing
 * middleware runs the rest of the request inside its span, so a client request made anywhere in
 * the handler (after awaits, in timers) finds it and becomes its child.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from './span.js';

/** The storage of the active span. */
export const activeSpanStorage = new AsyncLocalStorage<Span>();

/** The span active in the current async context, if any. */
export function activeSpan(): Span | undefined {
  return activeSpanStorage.getStore();
}
