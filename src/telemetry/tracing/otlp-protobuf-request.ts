/**
 * OtlpProtobufRequestEncoder: one export batch as the body of an OTLP/HTTP `http/protobuf`
 * request, an `ExportTraceServiceRequest` (opentelemetry-proto
 * `collector/trace/v1/trace_service.proto`): one `ResourceSpans` (resource_spans, 1) for our
 * resource, holding one `ScopeSpans` (scope_spans, 2) for the `avx-http` scope, holding the
 * batch's spans: the `Span` objects, then the server spans kept as records. The same shape as
 * the JSON body (otlp-json-encoding.ts).
 *
 * The body is written into the buffer the exporter hands in (its last accepted body, reused),
 * which grows when the batch does not fit. The resource and scope fields never change and are
 * encoded once. As in the JSON encoding, a span that encodes like the last one of its kind
 * written in full (`Span.encodesLike`: same route, status, client, ...) is a copy of that one's
 * bytes with its ids and times written over.
 */
import { Buffer } from 'node:buffer';
import { HttpServerSpan } from './http-server-span.js';
import type { ResourceAttributes } from './otlp-json-encoding.js';
import {
  encodeResourceField,
  encodeScopeField,
  fitsSpanTemplate,
  type ProtobufSpanTemplate,
  stampSpan,
  writeSpanTemplate,
} from './otlp-protobuf-encoding.js';
import { ServerSpanRecordsProtobuf } from './otlp-protobuf-records.js';
import { ProtobufWriter, WireType } from './protobuf-writer.js';
import type { ServerSpanRecords } from './server-span-records.js';
import type { Span } from './span.js';

/**
 * The length bytes reserved for the `ResourceSpans` and `ScopeSpans` around the spans: three
 * hold 16 KiB to 2 MiB, the size of a batch of a few hundred spans.
 */
const BATCH_LENGTH_BYTES = 3;

const EMPTY = Buffer.alloc(0);

/** A template and the span it was made from ({@link Span.encodesLike} compares with it). */
interface SpanEncoding {
  readonly exemplar: Span;
  readonly template: ProtobufSpanTemplate;
}

/** Encodes export batches as protobuf request bodies (see the file comment). */
export class OtlpProtobufRequestEncoder {
  private readonly writer = new ProtobufWriter();
  private readonly resourceField: Uint8Array;
  private readonly scopeField: Uint8Array;
  private readonly records = new ServerSpanRecordsProtobuf();
  /** The last server span and the last other span written in full. */
  private serverEncoding: SpanEncoding | undefined;
  private otherEncoding: SpanEncoding | undefined;

  constructor(resource: ResourceAttributes, scope: { name: string; version: string }) {
    this.resourceField = encodeResourceField(this.writer, resource);
    this.scopeField = encodeScopeField(this.writer, scope);
    this.writer.reset(EMPTY);
  }

  /**
   * Writes the request body for the first `count` of `spans` (letting go of them: their slots
   * become undefined) and every record of `records` (cleared), starting at the beginning of
   * `buf`. Returns the buffer written (`buf`, or a larger one) and the body's length.
   */
  encode(
    spans: (Span | undefined)[],
    count: number,
    records: ServerSpanRecords,
    buf: Buffer,
  ): { buf: Buffer; length: number } {
    const w = this.writer;
    w.reset(buf);
    w.tag(1, WireType.Len);
    const resourceSpans = w.begin(BATCH_LENGTH_BYTES);
    w.raw(this.resourceField);
    w.tag(2, WireType.Len);
    const scopeSpans = w.begin(BATCH_LENGTH_BYTES);
    w.raw(this.scopeField);
    for (let i = 0; i < count; i++) {
      this.writeSpan(w, spans[i]!);
      spans[i] = undefined;
    }
    this.records.write(w, records);
    records.clear();
    w.end(scopeSpans, BATCH_LENGTH_BYTES);
    w.end(resourceSpans, BATCH_LENGTH_BYTES);
    const body = { buf: w.buf, length: w.pos };
    w.reset(EMPTY);
    return body;
  }

  /** Writes one span: a copy of the last alike one with its ids and times, or in full. */
  private writeSpan(w: ProtobufWriter, span: Span): void {
    const server = span instanceof HttpServerSpan;
    const last = server ? this.serverEncoding : this.otherEncoding;
    if (last !== undefined && span.encodesLike(last.exemplar) && fitsSpanTemplate(span)) {
      const template = last.template;
      const bytes = template.bytes;
      w.ensure(bytes.length);
      const at = w.pos;
      w.buf.set(bytes, at);
      stampSpan(
        template,
        w.buf,
        at,
        span.traceId,
        span.spanId,
        span.parentSpanId,
        span.startTime,
        span.endTime,
      );
      w.pos = at + bytes.length;
      return;
    }
    const template = writeSpanTemplate(w, span);
    if (template === undefined) return;
    if (server) this.serverEncoding = { exemplar: span, template };
    else this.otherEncoding = { exemplar: span, template };
  }
}
