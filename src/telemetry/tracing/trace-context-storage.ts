/**
 * The active span: the server span of the request being handled, so that a client request made
 * in the handler becomes its child.
 *
 * It is carried through the request's asynchronous context (`AsyncLocalStorage`, surviving
 * `await`s and timers), but only once something in the process reads it: a `Client` created
 * with `tracing`, a call to {@link activeSpan}, or `tracing({ context: 'always' })`. Entering
 * an async context per request has a price: on Node 20 it slows every callback and promise of
 * the process (async hooks run for each), about ten points of hello-world throughput; on Node
 * 24, whose contexts live in V8 (AsyncContextFrame), still about five, measured with
 * bench/telemetry-phases. Nobody reading the context would pay that for nothing. Until then the
 * span is active during the synchronous part of the handler only, which is also what the first
 * {@link activeSpan} call sees.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from './span.js';

const storage = new AsyncLocalStorage<Span>();

/** Whether spans are carried through async context (see the file comment). */
let carried = false;

/** The span of the handler running synchronously, while the context is not carried. */
let syncSpan: Span | undefined;

/** Carries the active span through async context from now on. */
export function carryActiveSpan(): void {
  carried = true;
}

/**
 * Sets whether the active span is carried through async context; for tests of the
 * synchronous-only mode.
 * @internal
 */
export function setActiveSpanCarried(on: boolean): void {
  carried = on;
}

/** Runs `fn(arg)` with `span` active (see the file comment). */
export function runWithActiveSpan<A, R>(span: Span, fn: (arg: A) => R, arg: A): R {
  if (carried) return storage.run(span, fn, arg);
  const previous = syncSpan;
  syncSpan = span;
  try {
    return fn(arg);
  } finally {
    syncSpan = previous;
  }
}

/**
 * The span active in the current asynchronous context, if any. The first call turns carrying
 * on (see the file comment).
 */
export function activeSpan(): Span | undefined {
  if (!carried) {
    carried = true;
    return syncSpan;
  }
  return storage.getStore() ?? syncSpan;
}
