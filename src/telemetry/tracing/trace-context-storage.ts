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
 *
 * In either mode the tracing middleware does not make the span when the request starts
 * ({@link runWithDeferredSpan}): it is made from the request if something asks for it while
 * the handler runs, and otherwise kept as a record when the response ends
 * (server-span-records.ts). Carried, the context holds the request and where its span comes
 * from ({@link DeferredSpanContext}) until then: most handlers of a process with a tracing
 * client make no client call, and making their spans up front cost as much again as the
 * context itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from './span.js';

/** A request whose span is made when someone asks for it, as the async context holds it. */
class DeferredSpanContext {
  constructor(
    readonly source: DeferredSpanSource<unknown>,
    readonly request: unknown,
  ) {}
}

const storage = new AsyncLocalStorage<Span | DeferredSpanContext>();

/** Whether spans are carried through async context (see the file comment). */
let carried = false;

/** The span of the handler running synchronously, while the context is not carried. */
let syncSpan: Span | undefined;

/** Makes the span of a request whose span was deferred, on demand. */
export interface DeferredSpanSource<R> {
  spanOf(request: R): Span | undefined;
}

/** The deferred span's source and request of the handler running synchronously, if any. */
let syncSource: DeferredSpanSource<unknown> | undefined;
let syncRequest: unknown;

/** Carries the active span through async context from now on. */
export function carryActiveSpan(): void {
  carried = true;
}

/** True once the active span is carried through async context. */
export function isActiveSpanCarried(): boolean {
  return carried;
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
  const previousSpan = syncSpan;
  const previousSource = syncSource;
  syncSpan = span;
  syncSource = undefined;
  try {
    return fn(arg);
  } finally {
    syncSpan = previousSpan;
    syncSource = previousSource;
  }
}

/**
 * Runs `fn(arg)` with the span of `request` active but not made: `source.spanOf(request)`
 * makes it if {@link activeSpan} is called while `fn` runs (synchronously only, until the
 * context is carried; see the file comment). `spanOf` must give the same span each time.
 */
export function runWithDeferredSpan<Q, A, R>(
  source: DeferredSpanSource<Q>,
  request: Q,
  fn: (arg: A) => R,
  arg: A,
): R {
  if (carried) {
    return storage.run(new DeferredSpanContext(source as DeferredSpanSource<unknown>, request), fn, arg);
  }
  const previousSpan = syncSpan;
  const previousSource = syncSource;
  const previousRequest = syncRequest;
  syncSpan = undefined;
  syncSource = source as DeferredSpanSource<unknown>;
  syncRequest = request;
  try {
    return fn(arg);
  } finally {
    syncSpan = previousSpan;
    syncSource = previousSource;
    syncRequest = previousRequest;
  }
}

/** The span of the handler running synchronously, made now if it was deferred. */
function syncActiveSpan(): Span | undefined {
  if (syncSpan === undefined && syncSource !== undefined) {
    syncSpan = syncSource.spanOf(syncRequest);
    syncSource = undefined;
    syncRequest = undefined;
  }
  return syncSpan;
}

/**
 * The span active in the current asynchronous context, if any. The first call turns carrying
 * on (see the file comment).
 */
export function activeSpan(): Span | undefined {
  if (!carried) {
    carried = true;
    return syncActiveSpan();
  }
  const value = storage.getStore();
  if (value === undefined) return syncActiveSpan();
  return value instanceof DeferredSpanContext ? value.source.spanOf(value.request) : value;
}
