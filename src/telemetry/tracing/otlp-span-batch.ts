/**
 * OtlpSpanBatch: the spans of one export request, ended spans and server-span records together.
 *
 * The exporter fills one batch at a time. When it leaves, the JSON request body is encoded from
 * the batch as it is written to the socket (otlp-json-batch-body.ts), so the batch is kept
 * until the collector has answered: a retry encodes it again, with the same ids (they are
 * drawn once, {@link OtlpSpanBatch.seal}). Then it is cleared and filled again.
 */
import { ServerSpanRecords } from './server-span-records.js';
import type { Span } from './span.js';

/** One export request's spans (see the file comment). */
export class OtlpSpanBatch {
  /** Ended spans, `spanCount` of them. */
  readonly spans: (Span | undefined)[] = [];
  spanCount = 0;
  /** Server spans kept as records (server-span-records.ts). */
  readonly records: ServerSpanRecords;

  constructor(records: ServerSpanRecords = new ServerSpanRecords()) {
    this.records = records;
  }

  /** Spans held. */
  get count(): number {
    return this.spanCount + this.records.count;
  }

  /** Adds an ended span. */
  add(span: Span): void {
    this.spans[this.spanCount++] = span;
  }

  /** Fixes the batch for sending: the records' ids are drawn, once for every encoding of it. */
  seal(): void {
    if (this.records.count > 0) this.records.drawIds();
  }

  /** Lets go of every span. */
  clear(): void {
    const spans = this.spans;
    for (let i = 0; i < this.spanCount; i++) spans[i] = undefined;
    this.spanCount = 0;
    this.records.clear();
  }
}
