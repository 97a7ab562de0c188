/**
 * A span: one timed operation of a trace (OpenTelemetry trace API "Span"), with its W3C context,
 * its parent's span id, kind, start and end times, attributes (OpenTelemetry HTTP semantic
 * conventions for ours) and status. Attributes are kept as one flat `[key, value, ...]` array.
 * A span that was not sampled still carries a context (so it propagates) but records nothing.
 */
import { performance } from 'node:perf_hooks';
import { SAMPLED_FLAG, type SpanContext } from './w3c-trace-context.js';

/** Span kinds, with their OTLP enum numbers (trace.proto `Span.SpanKind`). */
export const SpanKind = { Internal: 1, Server: 2, Client: 3, Producer: 4, Consumer: 5 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** Status codes, with their OTLP enum numbers (trace.proto `Status.StatusCode`). */
export const SpanStatusCode = { Unset: 0, Ok: 1, Error: 2 } as const;
export type SpanStatusCode = (typeof SpanStatusCode)[keyof typeof SpanStatusCode];

/** An attribute value (OTLP AnyValue: string, int, double or bool). */
export type AttributeValue = string | number | boolean;

/** Receives spans as they end (an exporter). */
export interface SpanSink {
  onEnd(span: Span): void;
}

/** The epoch time of `performance.now()`'s zero (a getter call each time otherwise). */
const timeOrigin = performance.timeOrigin;

/** Milliseconds since the Unix epoch, with sub-millisecond precision. */
export function epochMilliseconds(): number {
  return timeOrigin + performance.now();
}

/** One operation of a trace. */
export class Span implements SpanContext {
  /** The span name; a server span is renamed `{method} {route}` once the route is known. */
  name: string;
  readonly kind: SpanKind;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceFlags: number;
  readonly traceState: string | undefined;
  readonly remote = false;
  /** Start time, ms since the epoch. */
  readonly startTime: number;
  /** End time, ms since the epoch; 0 while running. */
  endTime = 0;
  /** Attributes as `[key, value, key, value, ...]`. */
  readonly attributes: (string | AttributeValue)[] = [];
  statusCode: SpanStatusCode = SpanStatusCode.Unset;
  statusMessage = '';
  private readonly sink: SpanSink | undefined;

  constructor(
    name: string,
    kind: SpanKind,
    traceId: string,
    spanId: string,
    parent: SpanContext | undefined,
    sampled: boolean,
    sink: SpanSink | undefined,
    startTime: number = epochMilliseconds(),
  ) {
    this.name = name;
    this.kind = kind;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parent?.spanId;
    this.traceFlags = sampled
      ? (parent?.traceFlags ?? 0) | SAMPLED_FLAG
      : (parent?.traceFlags ?? 0) & ~SAMPLED_FLAG;
    this.traceState = parent?.traceState;
    this.startTime = startTime;
    this.sink = sink;
  }

  /** True when this span is recorded and exported. */
  get recording(): boolean {
    return (this.traceFlags & SAMPLED_FLAG) !== 0 && this.sink !== undefined;
  }

  /** True once ended. */
  get ended(): boolean {
    return this.endTime !== 0;
  }

  /** Sets an attribute (ignored when not recording or ended). */
  setAttribute(key: string, value: AttributeValue): this {
    if (this.endTime === 0 && this.recording) this.attributes.push(key, value);
    return this;
  }

  /** The value of an attribute set earlier (the last one). */
  attribute(key: string): AttributeValue | undefined {
    const a = this.attributes;
    for (let i = a.length - 2; i >= 0; i -= 2) if (a[i] === key) return a[i + 1];
    return undefined;
  }

  /** Sets the status (OTel: Error with a message, or Ok). */
  setStatus(code: SpanStatusCode, message = ''): this {
    this.statusCode = code;
    this.statusMessage = code === SpanStatusCode.Error ? message : '';
    return this;
  }

  /** Ends the span (once) and hands it to the exporter when recording. */
  end(endTime: number = epochMilliseconds()): void {
    if (this.endTime !== 0) return;
    this.endTime = Math.max(endTime, this.startTime);
    if (this.recording) this.sink!.onEnd(this);
  }
}
