/**
 * Spans as OTLP protobuf messages, the `http/protobuf` encoding of OTLP/HTTP (OpenTelemetry
 * Protocol spec, "Binary Protobuf Encoding"; opentelemetry-proto `trace/v1/trace.proto`,
 * `common/v1/common.proto`, `resource/v1/resource.proto`): what otlp-json-encoding.ts sends
 * as JSON, field for field.
 *
 * - `Span`: trace_id (1) and span_id (2) as 16 and 8 raw bytes, trace_state (3),
 *   parent_span_id (4), name (5), kind (6, the `SpanKind` enum number), start and end times
 *   (7, 8) as fixed64 nanoseconds since the epoch, attributes (9) as `KeyValue`s, status (15)
 *   with message (2) and code (3).
 * - `KeyValue`: key (1), value (2) an `AnyValue` with one of string_value (1), bool_value (2),
 *   int_value (3, int64) and double_value (4).
 * - Fields at their proto3 default (empty string, unset status) are left out, as protobuf
 *   encoders do; a decoder reads them back as the defaults. An `AnyValue` member is written
 *   even at its default (`false`, `0`, `''`): it is a oneof, whose presence is the value.
 *
 * Every field of a span but its ids and times repeats from span to span of a route, and in
 * this encoding ids and times have fixed widths: {@link writeSpanTemplate} keeps a span's
 * bytes with the offsets of those fields, and the next span that encodes alike is a copy of
 * them with its own ids and times written over ({@link stampSpan}, otlp-protobuf-records.ts).
 */

import type { ResourceAttributes } from './otlp-json-encoding.js';
import { type ProtobufWriter, putHexBytes, WireType } from './protobuf-writer.js';
import type { AttributeValue, Span } from './span.js';

/** `ScopeSpans.spans`: the field every span is written as. */
const SCOPE_SPANS_SPANS = 2;
/** The length bytes reserved for a span: 128 bytes to 16 KiB take two. */
const SPAN_LENGTH_BYTES = 2;

const TWO_32 = 4294967296;
/** int64 holds integers from -2^63 to 2^63 - 1; others go out as doubles. */
const TWO_63 = 2 ** 63;

/**
 * Writes milliseconds since the epoch as a fixed64 count of nanoseconds at `at` of `buf`
 * (little-endian), rounded to the nanosecond exactly as the JSON encoding's digits
 * (otlp-json-span-writer.ts `putUnixNanos`). The count passes 2^53 (it is about 2^60), so it
 * is built in 32-bit halves: the milliseconds split at 2^32 make two products below 2^53.
 */
export function putUnixNanosFixed64(buf: Uint8Array, at: number, ms: number): void {
  let whole = Math.floor(ms);
  let fraction = Math.round((ms - whole) * 1e6);
  if (fraction >= 1e6) {
    whole += 1;
    fraction -= 1e6;
  }
  const wholeHigh = Math.floor(whole / TWO_32);
  const low = (whole - wholeHigh * TWO_32) * 1e6 + fraction;
  const carry = Math.floor(low / TWO_32);
  putUint32LE(buf, at, low - carry * TWO_32);
  putUint32LE(buf, at + 4, wholeHigh * 1e6 + carry);
}

function putUint32LE(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
  buf[at + 2] = (value >>> 16) & 0xff;
  buf[at + 3] = value >>> 24;
}

/** Writes a fixed64 time field (tag, then {@link putUnixNanosFixed64}); returns its offset. */
function writeTime(w: ProtobufWriter, field: number, ms: number): number {
  w.tag(field, WireType.I64);
  w.ensure(8);
  const at = w.pos;
  putUnixNanosFixed64(w.buf, at, ms);
  w.pos = at + 8;
  return at;
}

/** Writes an attribute value as the content of an `AnyValue`. */
function writeAnyValue(w: ProtobufWriter, value: AttributeValue): void {
  if (typeof value === 'string') {
    w.tag(1, WireType.Len);
    w.string(value);
  } else if (typeof value === 'boolean') {
    w.tag(2, WireType.Varint);
    w.uint(value ? 1 : 0);
  } else if (Number.isInteger(value) && value >= -TWO_63 && value < TWO_63) {
    w.tag(3, WireType.Varint);
    w.int64(value);
  } else {
    // Fractions, non-finite numbers, and integers past int64 (the JSON encoding writes those
    // last as intValue digits that no int64 holds).
    w.tag(4, WireType.I64);
    w.double(value);
  }
}

/** Writes a flat `[key, value, ...]` list as repeated `KeyValue` field `field`. */
export function writeKeyValues(
  w: ProtobufWriter,
  field: number,
  list: readonly (string | AttributeValue)[],
): void {
  for (let i = 0; i < list.length; i += 2) {
    w.tag(field, WireType.Len);
    const keyValue = w.begin(1);
    w.tag(1, WireType.Len);
    w.string(list[i] as string);
    w.tag(2, WireType.Len);
    const anyValue = w.begin(1);
    writeAnyValue(w, list[i + 1]!);
    w.end(anyValue, 1);
    w.end(keyValue, 1);
  }
}

/**
 * A span's encoding kept to be copied, with the offsets (from its first byte, the tag) of the
 * bytes of its ids and of its times, -1 for a parent span id it has not.
 */
export interface ProtobufSpanTemplate {
  /** The whole `ScopeSpans.spans` field: tag, length, `Span`. A copy: batch buffers are reused. */
  readonly bytes: Uint8Array;
  readonly traceIdAt: number;
  readonly spanIdAt: number;
  readonly parentAt: number;
  readonly startAt: number;
  readonly endAt: number;
}

/**
 * Where the last {@link writeSpan} put its content (`Span`, after the tag and length), and the
 * id and time bytes, from the start of the content.
 */
const written = { contentAt: 0, traceIdAt: 0, spanIdAt: 0, parentAt: -1, startAt: 0, endAt: 0 };

/**
 * Writes `span` as a `ScopeSpans.spans` field (tag, length, `Span`). Ids are the hex we made
 * or validated (W3C Trace Context): 32 and 16 digits.
 */
export function writeSpan(w: ProtobufWriter, span: Span): void {
  w.tag(SCOPE_SPANS_SPANS, WireType.Len);
  const start = w.begin(SPAN_LENGTH_BYTES);
  w.tag(1, WireType.Len);
  written.traceIdAt = w.hexBytes(span.traceId) - start;
  w.tag(2, WireType.Len);
  written.spanIdAt = w.hexBytes(span.spanId) - start;
  if (span.traceState !== undefined && span.traceState !== '') {
    w.tag(3, WireType.Len);
    w.string(span.traceState);
  }
  written.parentAt = -1;
  if (span.parentSpanId !== undefined) {
    w.tag(4, WireType.Len);
    written.parentAt = w.hexBytes(span.parentSpanId) - start;
  }
  if (span.name !== '') {
    w.tag(5, WireType.Len);
    w.string(span.name);
  }
  w.tag(6, WireType.Varint);
  w.uint(span.kind);
  written.startAt = writeTime(w, 7, span.startTime) - start;
  written.endAt = writeTime(w, 8, span.endTime) - start;
  writeKeyValues(w, 9, span.attributes);
  if (span.statusCode !== 0 || span.statusMessage !== '') {
    w.tag(15, WireType.Len);
    const status = w.begin(1);
    if (span.statusMessage !== '') {
      w.tag(2, WireType.Len);
      w.string(span.statusMessage);
    }
    if (span.statusCode !== 0) {
      w.tag(3, WireType.Varint);
      w.uint(span.statusCode);
    }
    w.end(status, 1);
  }
  written.contentAt = start + w.end(start, SPAN_LENGTH_BYTES);
}

/**
 * Writes `span` as {@link writeSpan} does and returns its template, or undefined when its ids
 * are not of the usual widths (then a copy could not take another span's) or it is over 4 KiB.
 */
export function writeSpanTemplate(w: ProtobufWriter, span: Span): ProtobufSpanTemplate | undefined {
  const from = w.pos;
  writeSpan(w, span);
  // Big spans (long attribute values) rarely repeat: not worth a copy kept.
  if (!fitsSpanTemplate(span) || w.pos - from > 4096) return undefined;
  // The offsets were taken from the content's start; the tag and length come before it.
  const head = written.contentAt - from;
  return {
    bytes: new Uint8Array(w.buf.subarray(from, w.pos)),
    traceIdAt: head + written.traceIdAt,
    spanIdAt: head + written.spanIdAt,
    parentAt: written.parentAt < 0 ? -1 : head + written.parentAt,
    startAt: head + written.startAt,
    endAt: head + written.endAt,
  };
}

/** True when `span`'s ids have a template's widths: 32 and 16 hex digits. */
export function fitsSpanTemplate(span: Span): boolean {
  return (
    span.traceId.length === 32 &&
    span.spanId.length === 16 &&
    (span.parentSpanId === undefined || span.parentSpanId.length === 16)
  );
}

/**
 * Writes a span's ids and times over the copy of `template` at `at` of `buf`: the trace id,
 * span id and parent span id from their hex digits (the parent only when the template has
 * one), then the times.
 */
export function stampSpan(
  template: ProtobufSpanTemplate,
  buf: Uint8Array,
  at: number,
  traceId: string,
  spanId: string,
  parentSpanId: string | undefined,
  startTime: number,
  endTime: number,
): void {
  putHexBytes(buf, at + template.traceIdAt, traceId);
  putHexBytes(buf, at + template.spanIdAt, spanId);
  stampParentAndTimes(template, buf, at, parentSpanId, startTime, endTime);
}

/** Writes the parent span id (when the template has one) and times over a template's copy. */
export function stampParentAndTimes(
  template: ProtobufSpanTemplate,
  buf: Uint8Array,
  at: number,
  parentSpanId: string | undefined,
  startTime: number,
  endTime: number,
): void {
  if (template.parentAt >= 0) putHexBytes(buf, at + template.parentAt, parentSpanId!);
  putUnixNanosFixed64(buf, at + template.startAt, startTime);
  putUnixNanosFixed64(buf, at + template.endAt, endTime);
}

/**
 * The encoded `ResourceSpans.resource` field (field 1: a `Resource` with `attributes`), made
 * once per exporter: it never changes.
 */
export function encodeResourceField(w: ProtobufWriter, resource: ResourceAttributes): Uint8Array {
  w.reset(w.buf);
  const list: (string | AttributeValue)[] = [];
  for (const key of Object.keys(resource)) list.push(key, resource[key]!);
  w.tag(1, WireType.Len);
  const start = w.begin(2);
  writeKeyValues(w, 1, list);
  w.end(start, 2);
  return w.toBytes();
}

/**
 * The encoded `ScopeSpans.scope` field (field 1: an `InstrumentationScope` with name 1 and
 * version 2), made once per exporter.
 */
export function encodeScopeField(w: ProtobufWriter, scope: { name: string; version: string }): Uint8Array {
  w.reset(w.buf);
  w.tag(1, WireType.Len);
  const start = w.begin(1);
  w.tag(1, WireType.Len);
  w.string(scope.name);
  w.tag(2, WireType.Len);
  w.string(scope.version);
  w.end(start, 1);
  return w.toBytes();
}
