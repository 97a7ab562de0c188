/**
 * ServerSpanRecordsProtobuf: the server spans kept as records (server-span-records.ts) written
 * as OTLP protobuf `Span`s (otlp-protobuf-encoding.ts), the `http/protobuf` counterpart of the
 * records' own JSON encoding.
 *
 * A record whose facts object, parent presence and tracestate are those of the record last
 * written in full encodes exactly as that one but for its ids and times, and in protobuf these
 * have fixed widths: it is written as a copy of that record's bytes with its own ids and times
 * over them. Its drawn ids go in as the random bytes themselves (protobuf carries ids as raw
 * bytes), with no hex digits made at all. Any other record is made a whole span, as the JSON
 * encoding does, written in full, and becomes the one copied.
 */
import { Buffer } from 'node:buffer';
import {
  type ProtobufSpanTemplate,
  stampParentAndTimes,
  writeSpanTemplate,
} from './otlp-protobuf-encoding.js';
import { type ProtobufWriter, putHexBytes } from './protobuf-writer.js';
import type { ServerSpanFacts } from './server-span-facts.js';
import type { ServerSpanRecord, ServerSpanRecords } from './server-span-records.js';
import { SpanTemplateCache } from './span-template-cache.js';

/** Copies `n` bytes; a loop beats a native call for an id's 8 or 16. */
function copyBytes(to: Uint8Array, at: number, from: Uint8Array, start: number, n: number): void {
  for (let i = 0; i < n; i++) to[at + i] = from[start + i]!;
}

/** Writes server-span records as protobuf spans (see the file comment). */
export class ServerSpanRecordsProtobuf {
  /** The record being written, filled by {@link ServerSpanRecords.read}: one object, reused. */
  private readonly record: ServerSpanRecord = {
    facts: undefined as unknown as ServerSpanFacts,
    parent: undefined,
    traceId: undefined,
    startTime: 0,
    endTime: 0,
    ids: Buffer.alloc(0),
    idsAt: 0,
  };
  /** The templates: encodings of records written in full (span-template-cache.ts). */
  private readonly templates = new SpanTemplateCache<ProtobufSpanTemplate>();

  /**
   * Draws the ids of every record of `records` and writes each as a `ScopeSpans.spans` field
   * with `w`. The records stay held: the caller clears them.
   */
  write(w: ProtobufWriter, records: ServerSpanRecords): void {
    const count = records.count;
    if (count === 0) return;
    records.drawIds();
    const r = this.record;
    for (let i = 0; i < count; i++) {
      records.read(i, r);
      const parent = r.parent;
      const template = this.templates.find(r.facts, parent);
      if (template !== undefined) {
        const bytes = template.bytes;
        w.ensure(bytes.length);
        const buf = w.buf;
        const at = w.pos;
        buf.set(bytes, at);
        const traceId = parent?.traceId ?? r.traceId;
        if (traceId !== undefined) putHexBytes(buf, at + template.traceIdAt, traceId);
        else copyBytes(buf, at + template.traceIdAt, r.ids, r.idsAt, 16);
        copyBytes(buf, at + template.spanIdAt, r.ids, r.idsAt + 16, 8);
        stampParentAndTimes(template, buf, at, parent?.spanId, r.startTime, r.endTime);
        w.pos = at + bytes.length;
        continue;
      }
      const made = writeSpanTemplate(w, records.spanAt(i));
      if (made !== undefined) this.templates.keep(made, r.facts, parent);
    }
  }
}
