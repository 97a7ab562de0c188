/**
 * Spans as an OTLP `ExportTraceServiceRequest` in the OTLP/HTTP JSON encoding (OpenTelemetry
 * Protocol spec, "JSON Protobuf Encoding"; opentelemetry-proto `trace/v1/trace.proto`):
 * proto3 JSON field names in lowerCamelCase, trace and span ids as hex strings (not base64),
 * enums as integers, 64-bit integers (times in ns since the epoch, int attributes) as decimal
 * strings. One ResourceSpans for our resource, one ScopeSpans for the `avx-http` scope.
 */
import { Buffer } from 'node:buffer';
import { putUnixNanos, spanJsonBound, writeSpanJson } from './otlp-json-span-writer.js';
import type { AttributeValue, Span } from './span.js';

/** An OTLP `KeyValue`. */
export interface OtlpKeyValue {
  key: string;
  value: { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
}

/** Resource attributes of the exporting service (OTel resource semconv: `service.name`, ...). */
export type ResourceAttributes = Record<string, AttributeValue>;

/** The OTLP JSON of one value (as an object). */
export function otlpValue(value: AttributeValue): OtlpKeyValue['value'] {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

/**
 * Milliseconds since the epoch as a decimal count of nanoseconds, without losing precision (the
 * digits {@link putUnixNanos} writes into span JSON).
 */
export function unixNanos(ms: number): string {
  const buf = Buffer.allocUnsafe(32);
  return buf.toString('latin1', 0, putUnixNanos(buf, 0, ms));
}

/** `value` as a JSON string literal. */
const quote = JSON.stringify;

/**
 * The OTLP JSON text of one span (an element of `ScopeSpans.spans`). Ids are lowercase hex we
 * made or validated: no escaping.
 */
export function encodeSpanJson(span: Span): string {
  const buf = Buffer.allocUnsafe(spanJsonBound(span));
  return buf.toString('utf8', 0, writeSpanJson(span, buf, 0));
}

/**
 * The JSON text before the spans of a request for `resource` and `scope` (constant per
 * exporter, so it is made once).
 */
export function exportRequestPrefix(
  resource: ResourceAttributes,
  scope: { name: string; version: string },
): string {
  const attributes = Object.keys(resource).map((key) => ({ key, value: otlpValue(resource[key]!) }));
  return `{"resourceSpans":[{"resource":{"attributes":${quote(attributes)}},"scopeSpans":[{"scope":{"name":${quote(scope.name)},"version":${quote(scope.version)}},"spans":[`;
}

/** The JSON text after the spans. */
export const EXPORT_REQUEST_SUFFIX = ']}]}]}';
const SUFFIX = EXPORT_REQUEST_SUFFIX;

/**
 * The request body for `spans` (the first `count` of them), written directly as JSON text:
 * building the proto3 JSON object graph only to stringify it cost more than the spans.
 */
export function encodeExportTraceRequestJson(
  spans: readonly Span[],
  prefix: string,
  count: number = spans.length,
): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(encodeSpanJson(spans[i]!));
  return exportRequestBody(prefix, parts);
}

/**
 * The request body from spans already encoded by {@link encodeSpanJson}. `join` makes one flat
 * string (a `+=` chain would leave a deep rope for the socket write to flatten).
 */
export function exportRequestBody(prefix: string, spanJsons: readonly string[]): string {
  return `${prefix}${spanJsons.join(',')}${SUFFIX}`;
}

/** The request body for `spans` as a JSON value (what the text above parses to). */
export function encodeExportTraceRequest(
  spans: readonly Span[],
  resource: ResourceAttributes,
  scope: { name: string; version: string },
): unknown {
  return JSON.parse(encodeExportTraceRequestJson(spans, exportRequestPrefix(resource, scope)));
}
