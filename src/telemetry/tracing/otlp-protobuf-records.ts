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

/** Facts objects whose templates are kept (see ServerSpanRecordsProtobuf.templates). */
const MAX_TEMPLATE_FACTS = 64;

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
  /** The encoding of the record last written in full, and what made it. */
  private template: ProtobufSpanTemplate | undefined;
  private templateFacts: ServerSpanFacts | undefined;
  private templateTraceState: string | undefined;
  /**
   * Templates made before, by facts object, with the tracestate they were made with: records
   * of a few routes, or with and without a parent, interleaved take theirs up again instead of
   * each being written in full (as server-span-records.ts does for JSON).
   */
  private readonly templates = new Map<
    ServerSpanFacts,
    { template: ProtobufSpanTemplate; traceState: string | undefined }[]
  >();

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
      const template = this.templateFor(r);
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
      if (made !== undefined) {
        const traceState = parent?.traceState;
        this.template = made;
        this.templateFacts = r.facts;
        this.templateTraceState = traceState;
        // Bounded: facts objects change with every new route, client or status.
        if (this.templates.size >= MAX_TEMPLATE_FACTS) this.templates.clear();
        const entries = this.templates.get(r.facts);
        if (entries === undefined) this.templates.set(r.facts, [{ template: made, traceState }]);
        else if (entries.length < 4) entries.push({ template: made, traceState });
      }
    }
  }

  /** The template `r` encodes like (made the current one), or undefined. */
  private templateFor(r: ServerSpanRecord): ProtobufSpanTemplate | undefined {
    const parent = r.parent;
    const template = this.template;
    if (
      template !== undefined &&
      r.facts === this.templateFacts &&
      (parent === undefined) === template.parentAt < 0 &&
      parent?.traceState === this.templateTraceState
    ) {
      return template;
    }
    const entries = this.templates.get(r.facts);
    if (entries === undefined) return undefined;
    for (const entry of entries) {
      if ((parent === undefined) === entry.template.parentAt < 0 && parent?.traceState === entry.traceState) {
        this.template = entry.template;
        this.templateFacts = r.facts;
        this.templateTraceState = entry.traceState;
        return entry.template;
      }
    }
    return undefined;
  }
}
