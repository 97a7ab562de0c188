/**
 * Spans as an OTLP `ExportTraceServiceRequest` in the OTLP/HTTP JSON encoding (OpenTelemetry
 * Protocol spec, "JSON Protobuf Encoding"; opentelemetry-proto `trace/v1/trace.proto`):
 * proto3 JSON field names in lowerCamelCase, trace and span ids as hex strings (not base64),
 * enums as integers, 64-bit integers (times in ns since the epoch, int attributes) as decimal
 * strings. One ResourceSpans for our resource, one ScopeSpans for the `avx-http` scope.
 */
import type { AttributeValue, Span } from './span.js';

/** An OTLP `KeyValue`. */
export interface OtlpKeyValue {
  key: string;
  value: { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
}

/** Resource attributes of the exporting service (OTel resource semconv: `service.name`, ...). */
export type ResourceAttributes = Record<string, AttributeValue>;

/** The OTLP JSON of one value. */
export function otlpValue(value: AttributeValue): OtlpKeyValue['value'] {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

/** Milliseconds since the epoch as a decimal count of nanoseconds, without losing precision. */
export function unixNanos(ms: number): string {
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString();
}

function attributesOf(flat: readonly (string | AttributeValue)[]): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  for (let i = 0; i < flat.length; i += 2)
    out.push({ key: flat[i] as string, value: otlpValue(flat[i + 1]!) });
  return out;
}

/** The request body for `spans`. */
export function encodeExportTraceRequest(
  spans: readonly Span[],
  resource: ResourceAttributes,
  scope: { name: string; version: string },
): unknown {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: Object.entries(resource).map(([key, value]) => ({ key, value: otlpValue(value) })),
        },
        scopeSpans: [
          {
            scope,
            spans: spans.map((span) => {
              const out: Record<string, unknown> = {
                traceId: span.traceId,
                spanId: span.spanId,
                name: span.name,
                kind: span.kind,
                startTimeUnixNano: unixNanos(span.startTime),
                endTimeUnixNano: unixNanos(span.endTime),
                attributes: attributesOf(span.attributes),
                status:
                  span.statusMessage === ''
                    ? { code: span.statusCode }
                    : { code: span.statusCode, message: span.statusMessage },
              };
              if (span.parentSpanId !== undefined) out.parentSpanId = span.parentSpanId;
              if (span.traceState !== undefined) out.traceState = span.traceState;
              return out;
            }),
          },
        ],
      },
    ],
  };
}
