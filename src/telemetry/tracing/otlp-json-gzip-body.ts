/**
 * OtlpJsonGzipBatchBody: the OTLP/HTTP JSON export request of one {@link OtlpSpanBatch},
 * gzip-compressed (`content-encoding: gzip`, which OTLP/HTTP servers must accept: OTLP spec
 * "OTLP/HTTP Request"), produced chunk by chunk into the connection's reused buffer like
 * {@link OtlpJsonBatchBody}, whose JSON it is, byte for byte, once inflated.
 *
 * Nothing is compressed by searching: the producer knows what repeats. Server spans kept as
 * records that encode like the one before them become a few back-references and their ids and
 * times as literals (otlp-json-gzip-span.ts, about a sixth of their JSON); everything else
 * (the prefix, other spans, the first span of a run) goes out verbatim in stored blocks.
 */
import { Buffer } from 'node:buffer';
import { type ChunkedBody, ChunkedBodyWriter } from '../../h1/chunked-body-writer.js';
import { GzipStreamWriter } from '../../runtime/gzip-stream-writer.js';
import { EXPORT_REQUEST_SUFFIX } from './otlp-json-encoding.js';
import { appendSpanJson, spanJsonBound } from './otlp-json-span-writer.js';
import type { OtlpSpanBatch } from './otlp-span-batch.js';

const COMMA = 0x2c;
const SUFFIX = Buffer.from(EXPORT_REQUEST_SUFFIX, 'latin1');

/** One batch's gzip-compressed JSON export request body (see the file comment). */
export class OtlpJsonGzipBatchBody implements ChunkedBody {
  /** Writers, one per body being written at a time (bodies are written one after another). */
  private static writer = new GzipStreamWriter(ChunkedBodyWriter.DATA_START, ChunkedBodyWriter.TAIL);
  private static scratch = Buffer.alloc(4096);

  /**
   * @param prefix the request's JSON up to the first span (`exportRequestPrefix`), UTF-8
   * @param batch the spans, sealed
   */
  constructor(
    private readonly prefix: Buffer,
    private readonly batch: OtlpSpanBatch,
  ) {}

  writeTo(w: ChunkedBodyWriter): void {
    const g = OtlpJsonGzipBatchBody.writer;
    g.begin(w, ChunkedBodyWriter.DATA_START);
    g.stored(this.prefix, 0, this.prefix.length);
    let first = true;

    const { spans, spanCount, records } = this.batch;
    records.startMember();
    for (let i = 0; i < spanCount; i++) {
      const span = spans[i]!;
      let scratch = OtlpJsonGzipBatchBody.scratch;
      const bound = spanJsonBound(span) + 1;
      if (scratch.length < bound) {
        scratch = Buffer.allocUnsafe(Math.max(bound, 2 * scratch.length));
        OtlpJsonGzipBatchBody.scratch = scratch;
      }
      let at = 0;
      if (!first) scratch[at++] = COMMA;
      const end = appendSpanJson(span, scratch, at, 0);
      g.stored(scratch, 0, end);
      first = false;
    }

    const recordCount = records.count;
    for (let i = 0; i < recordCount; ) {
      i = records.deflateFrom(i, g, !first);
      first = false;
    }

    g.stored(SUFFIX, 0, SUFFIX.length);
    g.finish();
    w.end(g.at);
  }
}
