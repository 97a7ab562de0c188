/**
 * ServerSpanRecords: the SERVER spans of requests that nobody looked at while they ran, kept
 * as a few columns until their batch is encoded, instead of as {@link HttpServerSpan} objects.
 *
 * Why: tracing a small request at a hundred percent sampling cost about a fifth of a
 * hello-world server's throughput, and most of it was making the span: drawing and formatting
 * ids, a thirty-field object, the request's facts copied into it when the request started
 * and read back when it ended, all of it touched again by the exporter a while later, out of
 * the CPU caches. When the span is not carried through async context and nothing asked for it
 * during the handler (see trace-context-storage.ts), none of that has to happen while the
 * request runs: its facts are read once at the end (server-span-facts.ts; one shared object
 * while requests repeat them), its times come from the request clock, and its ids are drawn
 * for the whole batch at once, and written as hex straight into the encoding.
 *
 * A record holds: the facts object, the parent context (from `traceparent`), a trace id drawn
 * early when a sampler needed one, and the start and end times. Records whose facts object,
 * parent presence and tracestate match the previous record's are encoded by copying its bytes
 * and writing the ids and times over them (otlp-json-span-writer.ts, `fillTemplate`, `stampCopy`);
 * otherwise a full span is made from the record and written out.
 */
import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import type { GzipStreamWriter } from '../../runtime/gzip-stream-writer.js';
import { HttpServerSpan } from './http-server-span.js';
import { GzipSpanTemplate } from './otlp-json-gzip-span.js';
import {
  adoptSeconds,
  fillTemplate,
  type SpanTemplate,
  spanJsonBound,
  stampCopy,
  templateOf,
  timesFitTemplate,
  writeSpanJson,
} from './otlp-json-span-writer.js';
import type { ServerSpanFacts } from './server-span-facts.js';
import { SpanKind, type SpanSink } from './span.js';
import { SpanTemplateCache } from './span-template-cache.js';
import type { SpanContext } from './w3c-trace-context.js';

/** The bytes of one record's ids: a 16-byte trace id, then an 8-byte span id. */
const ID_BYTES = 24;
/** Ids per refill of the random pool (48 KiB). */
const POOL_IDS = 2048;
const COMMA = 0x2c;
/** Records of a template written before its DEFLATE form is made (deflateFrom). */
const GZIP_TEMPLATE_MIN_SPANS = 32;

/** A template's DEFLATE form, once made, and how many of its records went out before. */
interface GzipForm {
  gz: GzipSpanTemplate | undefined;
  records: number;
}
/** The sink of the spans made only to be encoded: they are already on their way. */
const ENCODING_ONLY: SpanSink = { onEnd() {} };

/** Server spans kept as records until encoded (see the file comment). */
export class ServerSpanRecords {
  /** Records held. */
  count = 0;
  /** The index after the last record {@link encodeFrom} wrote. */
  encodedTo = 0;
  private readonly facts: (ServerSpanFacts | undefined)[] = [];
  private readonly parents: (SpanContext | undefined)[] = [];
  private readonly traceIds: (string | undefined)[] = [];
  /** Start and end times, ms since the epoch, two per record. */
  private times = new Float64Array(64);
  /** A pool of random bytes for ids, {@link ID_BYTES} per record (see {@link drawIds}). */
  private random = Buffer.alloc(0);
  private randomView = new DataView(new ArrayBuffer(0));
  private randomWords = new Int32Array(0);
  /** Bytes of {@link random} handed out, and where the ids of the batch being encoded start. */
  private poolUsed = 0;
  private idsBase = 0;
  /** The encoding of the last record written in full, and what made it. */
  /** The templates: encodings of records written in full (span-template-cache.ts). */
  private readonly templates = new SpanTemplateCache<SpanTemplate>();
  /** Templates' DEFLATE forms (otlp-json-gzip-span.ts), made when worth it (deflateFrom). */
  private readonly gzipForms = new WeakMap<SpanTemplate, GzipForm>();
  /** The template of the last span written into the current gzip member, if it was a record's. */
  private templateInMember: SpanTemplate | undefined;
  /** A record's JSON on its way into a gzip member, and its DataView. */
  private scratch = Buffer.alloc(0);
  private scratchView = new DataView(new ArrayBuffer(0));
  /** Fills `buf[offset, offset + size)` with random bytes. */
  private readonly fillRandom: (buf: Buffer, offset: number, size: number) => unknown;

  /** @param fillRandom The id source; default `crypto.randomFillSync` (tests pass known bytes). */
  constructor(fillRandom: (buf: Buffer, offset: number, size: number) => unknown = randomFillSync) {
    this.fillRandom = fillRandom;
  }

  /**
   * Keeps a server span: its facts, parent context (undefined for a new trace), a trace id the
   * sampler already drew for a new trace (else undefined: drawn when encoding), and its times.
   */
  add(
    facts: ServerSpanFacts,
    parent: SpanContext | undefined,
    traceId: string | undefined,
    startTime: number,
    endTime: number,
  ): void {
    const i = this.count++;
    if (2 * i + 2 > this.times.length) {
      const grown = new Float64Array(this.times.length * 2);
      grown.set(this.times);
      this.times = grown;
    }
    this.facts[i] = facts;
    this.parents[i] = parent;
    this.traceIds[i] = traceId;
    this.times[2 * i] = startTime;
    this.times[2 * i + 1] = Math.max(endTime, startTime);
  }

  /**
   * Draws the ids of every record held, ahead of {@link encodeFrom}, from a pool of random
   * bytes refilled {@link POOL_IDS} ids at a time: a `randomFillSync` call costs about 4.5 µs
   * before its first byte, as much as a whole batch's bytes. An all-zero id (invalid, W3C
   * Trace Context §3.2.2.3) gets a last bit set.
   */
  drawIds(): void {
    const size = this.count * ID_BYTES;
    if (this.poolUsed + size > this.random.length) this.refillPool(size);
    this.idsBase = this.poolUsed;
    this.poolUsed += size;
  }

  /** Refills the pool of random id bytes, with room for at least `size` bytes. */
  private refillPool(size: number): void {
    if (this.random.length < size || this.random.length === 0) {
      // Its own ArrayBuffer, so that the 32-bit view below is aligned.
      const memory = new ArrayBuffer(Math.max(size, POOL_IDS * ID_BYTES));
      this.random = Buffer.from(memory);
      this.randomView = new DataView(memory);
      this.randomWords = new Int32Array(memory);
    }
    const random = this.random;
    const words = this.randomWords;
    this.fillRandom(random, 0, random.length);
    for (let w = 0, end = random.length >> 2; w < end; w += ID_BYTES >> 2) {
      if ((words[w]! | words[w + 1]! | words[w + 2]! | words[w + 3]!) === 0) random[4 * w + 15] = 1;
      if ((words[w + 4]! | words[w + 5]!) === 0) random[4 * w + ID_BYTES - 1] = 1;
    }
    this.poolUsed = 0;
  }

  /**
   * Appends records from `first` on at `at` of `buf` (whose DataView is `view`), separated by
   * commas, leaving `reserve` bytes after them. Records that encode like the template (same
   * facts object, parent presence and tracestate as the record it was made from) go in one
   * run: the template filled in once per record, then each record's ids and times written
   * over its copy. Any other record is written in full, alone, and becomes the template.
   * Returns the offset after the last record written, or -1 when record `first` does not fit;
   * {@link encodedTo} is then the index after the last one written. Call {@link drawIds} first.
   */
  encodeFrom(first: number, buf: Buffer, view: DataView, at: number, reserve: number): number {
    const template = this.templateFor(first);
    if (template !== undefined) {
      const room = Math.floor((buf.length - reserve - at + 1) / template.pattern.length);
      if (room === 0) return -1;
      const limit = Math.min(this.count, first + room);
      let last = first + 1;
      while (last < limit && this.encodesLikeTemplate(last)) last++;
      const end = fillTemplate(template, buf, at, last - first);
      const times = this.times;
      const size = template.pattern.length;
      let moved = false;
      for (let i = first, copyAt = at; i < last; i++, copyAt += size) {
        moved = this.stamp(i, template, buf, view, copyAt) || moved;
      }
      if (moved) {
        const i = last - 1;
        adoptSeconds(template, buf, at + (i - first) * size, times[2 * i]!, times[2 * i + 1]!);
      }
      this.encodedTo = last;
      return end;
    }
    const span = this.span(first);
    if (at + spanJsonBound(span) + reserve > buf.length) return -1;
    const end = this.writeFull(first, span, buf, at);
    this.encodedTo = first + 1;
    return end;
  }

  /**
   * Writes record `i` over the copy of `template` at `at` of `buf` (its DataView `view`): its
   * ids, parent span id and times (stampCopy); true when a time is in another second.
   */
  private stamp(i: number, template: SpanTemplate, buf: Buffer, view: DataView, at: number): boolean {
    const parent = this.parents[i];
    return stampCopy(
      template,
      buf,
      view,
      at,
      parent?.traceId ?? this.traceIds[i],
      this.randomView,
      this.idsBase + i * ID_BYTES,
      parent?.spanId,
      this.times[2 * i]!,
      this.times[2 * i + 1]!,
    );
  }

  /**
   * Writes record `i`, made the whole `span`, at `at` of `buf` (room checked by the caller); it
   * becomes the template when it can be one. Returns where it ends.
   */
  private writeFull(i: number, span: HttpServerSpan, buf: Buffer, at: number): number {
    const end = writeSpanJson(span, buf, at);
    const made = templateOf(span, buf, at, end);
    if (made !== undefined) this.templates.keep(made, this.facts[i]!, this.parents[i]);
    return end;
  }

  /**
   * The template record `i` encodes like, made the current one, or undefined: the current
   * template, else one made before for its facts object, parent presence and tracestate.
   */
  private templateFor(i: number): SpanTemplate | undefined {
    const template = this.templates.find(this.facts[i]!, this.parents[i]);
    return template !== undefined && timesFitTemplate(this.times[2 * i]!, this.times[2 * i + 1]!)
      ? template
      : undefined;
  }

  /**
   * Writes records from `first` on into the gzip member `g` (otlp-json-gzip-body.ts), each
   * after a comma when `comma` (else the first without one); returns the index after the last
   * written. Like {@link encodeFrom}, a run of records that encode like the template goes out
   * together: as DEFLATE codes referring to the span before (otlp-json-gzip-span.ts), but for
   * the run's first when the span before it in this member is not of the template; then that
   * one goes out verbatim, as does any other record, written in full (it becomes the
   * template). Call {@link drawIds} first, and {@link startMember} once per member.
   */
  deflateFrom(first: number, g: GzipStreamWriter, comma: boolean): number {
    const template = this.templateFor(first);
    if (template !== undefined) {
      let last = first + 1;
      while (last < this.count && this.encodesLikeTemplate(last)) last++;
      let i = first;
      // Making a template's DEFLATE form takes about a millisecond. It is made once
      // GZIP_TEMPLATE_MIN_SPANS records of the template have come (in one run or several), and
      // kept with the template; until then they go out verbatim, at about 1.5 µs per span.
      // Made for every new template instead, it cost up to 0.6 ms per span when requests of
      // several routes or with and without `traceparent` came interleaved.
      let form = this.gzipForms.get(template);
      if (form === undefined) {
        form = { gz: undefined, records: 0 };
        this.gzipForms.set(template, form);
      }
      if (form.gz === undefined) {
        form.records += last - first;
        if (form.records < GZIP_TEMPLATE_MIN_SPANS) {
          for (; i < last; i++) this.storeVerbatim(i, template, g, comma || i > first);
          this.templateInMember = template;
          return last;
        }
        form.gz = new GzipSpanTemplate(template);
      }
      const gz = form.gz;
      if (this.templateInMember !== template) {
        // No span of the template right before: this one verbatim, the rest refer to it.
        this.storeVerbatim(i, template, g, comma);
        this.templateInMember = template;
        i++;
      }
      const random = this.random;
      const times = this.times;
      for (; i < last; i++) {
        const parent = this.parents[i];
        gz.emit(
          g,
          parent?.traceId ?? this.traceIds[i],
          random,
          this.idsBase + i * ID_BYTES,
          parent?.spanId,
          times[2 * i]!,
          times[2 * i + 1]!,
        );
      }
      return last;
    }
    const span = this.span(first);
    const scratch = this.scratchFor(spanJsonBound(span) + 1);
    let at = 0;
    if (comma) scratch[at++] = COMMA;
    const end = this.writeFull(first, span, scratch, at);
    g.stored(scratch, 0, end);
    // The span just written is the template when it could be one (writeFull).
    const made = this.templates.current;
    this.templateInMember = made?.exemplar === span ? made : undefined;
    return first + 1;
  }

  /** Writes record `i`, a copy of `template` with its ids and times, to `g` as stored bytes. */
  private storeVerbatim(i: number, template: SpanTemplate, g: GzipStreamWriter, comma: boolean): void {
    const scratch = this.scratchFor(template.bytes.length + 1);
    let at = 0;
    if (comma) scratch[at++] = COMMA;
    scratch.set(template.bytes, at);
    const moved = this.stamp(i, template, scratch, this.scratchView, at);
    if (moved) adoptSeconds(template, scratch, at, this.times[2 * i]!, this.times[2 * i + 1]!);
    g.stored(scratch, 0, at + template.bytes.length);
  }

  /** Starts a gzip member: no span of any template is in it yet (see {@link deflateFrom}). */
  startMember(): void {
    this.templateInMember = undefined;
  }

  private scratchFor(size: number): Buffer {
    if (this.scratch.length < size) {
      this.scratch = Buffer.allocUnsafe(Math.max(size, 4096));
      this.scratchView = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
    }
    return this.scratch;
  }

  /** True when record `i` encodes like the template but for its ids and times. */
  private encodesLikeTemplate(i: number): boolean {
    return (
      this.templates.fits(this.facts[i], this.parents[i]) &&
      timesFitTemplate(this.times[2 * i]!, this.times[2 * i + 1]!)
    );
  }

  /** Lets go of every record. */
  clear(): void {
    const n = this.count;
    for (let i = 0; i < n; i++) {
      this.facts[i] = undefined;
      this.parents[i] = undefined;
      this.traceIds[i] = undefined;
    }
    this.count = 0;
  }

  /** Record `i` as a whole span (ids drawn). */
  private span(i: number): HttpServerSpan {
    const facts = this.facts[i]!;
    const parent = this.parents[i];
    const at = this.idsBase + i * ID_BYTES;
    const random = this.random;
    const traceId = parent?.traceId ?? this.traceIds[i] ?? random.toString('hex', at, at + 16);
    const spanId = random.toString('hex', at + 16, at + ID_BYTES);
    const name = facts.method === '_OTHER' ? 'HTTP' : facts.method;
    const span = new HttpServerSpan(
      name,
      SpanKind.Server,
      traceId,
      spanId,
      parent,
      true,
      ENCODING_ONLY,
      this.times[2 * i],
    );
    span.method = facts.method;
    facts.applyTo(span);
    span.finish(facts.responseStatus, facts.route, this.times[2 * i + 1]);
    return span;
  }

  /**
   * Copies record `i` into `into`, for an encoding of its own (otlp-protobuf-records.ts).
   * Call {@link drawIds} first.
   */
  read(i: number, into: ServerSpanRecord): void {
    into.facts = this.facts[i]!;
    into.parent = this.parents[i];
    into.traceId = this.traceIds[i];
    into.startTime = this.times[2 * i]!;
    into.endTime = this.times[2 * i + 1]!;
    into.ids = this.random;
    into.idsAt = this.idsBase + i * ID_BYTES;
  }

  /** Record `i` as a whole span, ids drawn (what {@link encodeFrom} writes in full). */
  spanAt(i: number): HttpServerSpan {
    return this.span(i);
  }
}

/** One record, as {@link ServerSpanRecords.read} hands it out. */
export interface ServerSpanRecord {
  facts: ServerSpanFacts;
  parent: SpanContext | undefined;
  /** A trace id drawn early (hex), else undefined: then the first 16 bytes of its ids. */
  traceId: string | undefined;
  /** Times, ms since the epoch. */
  startTime: number;
  endTime: number;
  /** Its drawn ids: a 16-byte trace id then an 8-byte span id, at `idsAt` of `ids`. */
  ids: Buffer;
  idsAt: number;
}
