/**
 * Tracer: starts spans. A new span is the child of the given parent context (or a root with a
 * fresh 128-bit trace id), gets a fresh 64-bit span id, and is sampled per the tracer's
 * {@link Sampler} (default: parent-based, 100% for roots). Sampled spans go to the sink (the
 * exporter) when they end.
 */
import { HttpServerSpan } from './http-server-span.js';
import { parentBasedSampler, ratioSampler, type Sampler } from './sampler.js';
import { Span, SpanKind, type SpanSink } from './span.js';
import { drawIdDigits, idDigits, idText } from './trace-ids.js';
import type { SpanContext } from './w3c-trace-context.js';

/** A source of spans. */
export class Tracer {
  readonly sampler: Sampler;
  readonly sink: SpanSink | undefined;

  /**
   * @param sink where ended, sampled spans go (default: none, spans only propagate)
   * @param sampler the head sampler (default: parent-based, always-on for roots)
   */
  constructor(sink?: SpanSink, sampler: Sampler = parentBasedSampler(ratioSampler(1))) {
    this.sink = sink;
    this.sampler = sampler;
  }

  /** Starts a span; `parent` undefined starts a new trace. */
  startSpan(name: string, kind: SpanKind, parent: SpanContext | undefined, startTime?: number): Span {
    return this.start(Span, name, kind, parent, startTime);
  }

  /**
   * Starts the SERVER span of an HTTP request; `method` is the `http.request.method` value
   * (`_OTHER` names the span `HTTP`). The caller fills in the request's facts.
   */
  startHttpServerSpan(method: string, parent: SpanContext | undefined, startTime?: number): HttpServerSpan {
    const name = method === '_OTHER' ? 'HTTP' : method;
    const span = this.start(HttpServerSpan, name, SpanKind.Server, parent, startTime);
    span.method = method;
    return span;
  }

  /** Draws the ids, asks the sampler and makes a span of class `make`. */
  private start<S extends Span>(
    make: SpanClass<S>,
    name: string,
    kind: SpanKind,
    parent: SpanContext | undefined,
    startTime: number | undefined,
  ): S {
    const at = drawIdDigits(parent === undefined);
    const spanAt = parent === undefined ? at + 32 : at;
    const traceId = parent?.traceId ?? idText.slice(at, spanAt);
    const sampled = this.sampler.shouldSample(parent, traceId);
    const spanId = idText.slice(spanAt, spanAt + 16);
    const span = new make(name, kind, traceId, spanId, parent, sampled, this.sink, startTime);
    // Where the new ids' digits are, for the exporter to copy.
    span.idDigits = idDigits;
    span.traceIdDigitsAt = parent === undefined ? at : -1;
    span.spanIdDigitsAt = spanAt;
    return span;
  }
}

/** A span class: Span's constructor parameters. */
type SpanClass<S extends Span> = new (...args: ConstructorParameters<typeof Span>) => S;

let processTracer: Tracer | undefined;

/** The tracer `tracing()` installed last, used by clients created with `tracing: true`. */
export function defaultTracer(): Tracer | undefined {
  return processTracer;
}

/** Sets (or clears) the process's default tracer. */
export function setDefaultTracer(tracer: Tracer | undefined): void {
  processTracer = tracer;
}
