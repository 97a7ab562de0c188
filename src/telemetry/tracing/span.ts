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
export const timeOrigin = performance.timeOrigin;

/** Milliseconds since the Unix epoch, with sub-millisecond precision. */
export function epochMilliseconds(): number {
  return timeOrigin + performance.now();
}

/** The attribute list of a span with none yet: shared, never written. */
const NO_ATTRIBUTES: readonly (string | AttributeValue)[] = Object.freeze([]);

/** One operation of a trace. */
export class Span implements SpanContext {
  /** The span name; a server span is named `{method} {route}` once the route is known. */
  name: string;
  readonly kind: SpanKind;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceFlags: number;
  readonly traceState: string | undefined;
  readonly remote = false;
  /** True when this span is recorded and exported (sampled, with a sink). */
  readonly recording: boolean;
  /** Start time, ms since the epoch. */
  readonly startTime: number;
  /** End time, ms since the epoch; 0 while running. */
  endTime = 0;
  statusCode: SpanStatusCode = SpanStatusCode.Unset;
  statusMessage = '';
  /**
   * Where the digits of ids the tracer drew are (trace-ids.ts): the pool's digits as bytes,
   * and the offsets of the trace id (-1 when it came from the parent) and the span id. The
   * exporter copies them from there. Undefined for spans made otherwise.
   * @internal
   */
  idDigits: Uint8Array | undefined = undefined;
  /** @internal */
  traceIdDigitsAt = -1;
  /** @internal */
  spanIdDigitsAt = -1;
  /** Attributes set with {@link setAttribute}, `[key, value, ...]`; a shared empty list until then. */
  protected attributeList: (string | AttributeValue)[] = NO_ATTRIBUTES as (string | AttributeValue)[];
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
    this.recording = sampled && sink !== undefined;
    this.startTime = startTime;
    this.sink = sink;
  }

  /** Attributes as `[key, value, key, value, ...]` (a read-only view: use {@link setAttribute}). */
  get attributes(): readonly (string | AttributeValue)[] {
    return this.attributeList;
  }

  /** True once ended. */
  get ended(): boolean {
    return this.endTime !== 0;
  }

  /** Sets an attribute (ignored when not recording or ended). */
  setAttribute(key: string, value: AttributeValue): this {
    if (this.endTime === 0 && this.recording) {
      if (this.attributeList === NO_ATTRIBUTES) this.attributeList = [key, value];
      else this.attributeList.push(key, value);
    }
    return this;
  }

  /** The value of an attribute set earlier (the last one). */
  attribute(key: string): AttributeValue | undefined {
    const a = this.attributes;
    for (let i = a.length - 2; i >= 0; i -= 2) if (a[i] === key) return a[i + 1];
    return undefined;
  }

  /** Sets the status (OTel: Error with a message, or Ok); ignored once ended. */
  setStatus(code: SpanStatusCode, message = ''): this {
    if (this.endTime !== 0) return this;
    this.statusCode = code;
    this.statusMessage = code === SpanStatusCode.Error ? message : '';
    return this;
  }

  /**
   * True when `other` is encoded exactly as this span except for its ids and times: same
   * class, name, kind, status, tracestate, parent presence and attributes. The exporter then
   * copies the remembered encoding of `other` and writes only the ids and times.
   */
  encodesLike(other: Span): boolean {
    if (
      other.constructor !== this.constructor ||
      other.kind !== this.kind ||
      other.statusCode !== this.statusCode ||
      other.statusMessage !== this.statusMessage ||
      other.traceState !== this.traceState ||
      (other.parentSpanId === undefined) !== (this.parentSpanId === undefined) ||
      other.name !== this.name
    ) {
      return false;
    }
    const a = this.attributeList;
    const b = other.attributeList;
    const n = a.length;
    if (b.length !== n) return false;
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** Ends the span (once) and hands it to the exporter when recording. */
  end(endTime: number = epochMilliseconds()): void {
    if (this.endTime !== 0) return;
    this.endTime = Math.max(endTime, this.startTime);
    if (this.recording) this.sink!.onEnd(this);
  }
}
