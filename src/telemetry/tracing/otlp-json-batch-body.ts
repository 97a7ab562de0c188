/**
 * OtlpJsonBatchBody: the OTLP/HTTP JSON export request of one {@link OtlpSpanBatch}, encoded
 * chunk by chunk into the connection's reused buffer as it is written (chunked-body-writer.ts),
 * instead of into a body buffer of the whole batch's size. The JSON is the same as
 * otlp-json-encoding.ts describes: the prefix (resource and scope), the spans separated by
 * commas, the suffix. Writing it again (a retry) writes the same bytes.
 */
import type { Buffer } from 'node:buffer';
import { type ChunkedBody, ChunkedBodyWriter } from '../../h1/chunked-body-writer.js';
import { EXPORT_REQUEST_SUFFIX } from './otlp-json-encoding.js';
import { appendSpanJson, spanJsonBound } from './otlp-json-span-writer.js';
import type { OtlpSpanBatch } from './otlp-span-batch.js';

const COMMA = 0x2c;
const START = ChunkedBodyWriter.DATA_START;
const TAIL = ChunkedBodyWriter.TAIL;

/** One batch's JSON export request body (see the file comment). */
export class OtlpJsonBatchBody implements ChunkedBody {
  /**
   * @param prefix the request's JSON up to the first span (`exportRequestPrefix`), UTF-8
   * @param batch the spans, sealed
   */
  constructor(
    private readonly prefix: Buffer,
    private readonly batch: OtlpSpanBatch,
  ) {}

  writeTo(w: ChunkedBodyWriter): void {
    w.ensure(this.prefix.length);
    let at = START + this.prefix.copy(w.buf, START);
    let first = true;

    const { spans, spanCount, records } = this.batch;
    for (let i = 0; i < spanCount; i++) {
      const span = spans[i]!;
      // A comma before every span but the first; the span after it, leaving the tail free.
      let end = appendSpanJson(span, w.buf, first ? at : at + 1, TAIL);
      if (end < 0) {
        w.send(at);
        at = START;
        w.ensure(spanJsonBound(span) + 1);
        end = appendSpanJson(span, w.buf, first ? at : at + 1, TAIL);
      }
      if (!first) w.buf[at] = COMMA;
      at = end;
      first = false;
    }

    const recordCount = records.count;
    for (let i = 0; i < recordCount; i = records.encodedTo) {
      let end = records.encodeFrom(i, w.buf, w.view, first ? at : at + 1, TAIL);
      if (end < 0) {
        w.send(at);
        at = START;
        end = records.encodeFrom(i, w.buf, w.view, first ? at : at + 1, TAIL);
        if (end < 0) {
          // Record i alone is larger than an empty chunk.
          w.ensure(spanJsonBound(records.spanAt(i)) + 1);
          end = records.encodeFrom(i, w.buf, w.view, first ? at : at + 1, TAIL);
        }
      }
      if (!first) w.buf[at] = COMMA;
      at = end;
      first = false;
    }

    if (at + EXPORT_REQUEST_SUFFIX.length > w.buf.length - TAIL) {
      w.send(at);
      at = START;
    }
    at += w.buf.write(EXPORT_REQUEST_SUFFIX, at, 'latin1');
    w.end(at);
  }
}
