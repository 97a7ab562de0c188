/**
 * Writes one span's OTLP/HTTP JSON (see otlp-json-encoding.ts for the format) straight into a
 * byte buffer: the exporter's batch. Building a JavaScript string per span and then writing it
 * out cost twice: the string rope was flattened, then transcoded to UTF-8, and that was most of
 * the cost of tracing a hello-world request. Here the constant parts are pre-encoded bytes, ids
 * and numbers are written digit by digit, and strings are copied byte by byte while they are
 * printable ASCII (every method, route, address and id in practice); a string needing JSON
 * escapes or UTF-8 falls back to `JSON.stringify` plus one UTF-8 write.
 *
 * The caller reserves {@link spanJsonBound} bytes first; the writer never checks.
 *
 * {@link appendSpanJson}, the exporter's entry, goes further: most spans are encoded exactly as
 * the previous span of their kind except for ids and times (same route, status, client;
 * {@link Span.encodesLike} tells). It keeps the last encoding of a server span and of any
 * other span, and for a span that encodes like it, copies it and writes the ids and times over
 * theirs. Ids have fixed widths and the nanosecond times have 19 digits until 2286, so the
 * offsets hold.
 */
import { Buffer } from 'node:buffer';
import { HttpServerSpan } from './http-server-span.js';
import type { AttributeValue, Span } from './span.js';

const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');

const TRACE_ID = bytes('{"traceId":"');
const SPAN_ID = bytes('","spanId":"');
const PARENT_SPAN_ID = bytes('","parentSpanId":"');
const TRACE_STATE = bytes('","traceState":');
const QUOTE_NAME = bytes('","name":');
const NAME = bytes(',"name":');
const KIND = bytes(',"kind":');
const START = bytes(',"startTimeUnixNano":"');
const END = bytes('","endTimeUnixNano":"');
const ATTRIBUTES = bytes('","attributes":[');
const STATUS = bytes('],"status":{"code":');
const MESSAGE = bytes(',"message":');
const STRING_VALUE = bytes('"stringValue":');
const INT_VALUE = bytes('"intValue":"');
const DOUBLE_VALUE = bytes('"doubleValue":');
const TRUE_VALUE = bytes('"boolValue":true}}');
const FALSE_VALUE = bytes('"boolValue":false}}');
const NULL_VALUE = bytes('null}}');
const CLOSE_VALUE = bytes('}}');
const CLOSE_INT_VALUE = bytes('"}}');

/**
 * Per attribute name: its `{"key":<key>,"value":{` prefix, and the last string value written
 * under it with the whole `KeyValue` encoded. Most values repeat from span to span (method,
 * route, scheme, addresses, protocol version), and one copy of the remembered bytes is far
 * cheaper than encoding them again.
 */
interface KeyEncoding {
  readonly prefix: Uint8Array;
  lastValue: string | undefined;
  lastBytes: Uint8Array;
}

const keyEncodings = new Map<string, KeyEncoding>();

function keyEncoding(key: string): KeyEncoding {
  let entry = keyEncodings.get(key);
  if (entry === undefined) {
    entry = {
      prefix: Buffer.from(`{"key":${JSON.stringify(key)},"value":{`, 'utf8'),
      lastValue: undefined,
      lastBytes: new Uint8Array(0),
    };
    // Bounded: applications may set attributes with names of their own.
    if (keyEncodings.size < 256) keyEncodings.set(key, entry);
  }
  return entry;
}

/** Longest string value whose encoding is remembered. */
const MEMO_MAX = 256;

/** Writes one `KeyValue`. */
function putAttribute(buf: Buffer, at: number, key: string, value: AttributeValue): number {
  const entry = keyEncoding(key);
  if (typeof value === 'string') {
    if (value === entry.lastValue) return put(buf, at, entry.lastBytes);
    const start = at;
    at = put(buf, at, entry.prefix);
    at = putValue(buf, at, value);
    if (value.length <= MEMO_MAX) {
      entry.lastValue = value;
      entry.lastBytes = new Uint8Array(buf.subarray(start, at)); // a copy: the batch is reused
    }
    return at;
  }
  at = put(buf, at, entry.prefix);
  return putValue(buf, at, value);
}

/** Copies `piece` to `buf` at `at`; a loop beats a native call for these short pieces. */
function put(buf: Uint8Array, at: number, piece: Uint8Array): number {
  const n = piece.length;
  if (n > 24) {
    buf.set(piece, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) buf[at + i] = piece[i]!;
  return at + n;
}

/** Copies `n` bytes of `from` at `start` to `buf` at `at` (an id's digits). */
function copyDigits(buf: Uint8Array, at: number, from: Uint8Array, start: number, n: number): void {
  for (let i = 0; i < n; i++) buf[at + i] = from[start + i]!;
}

/** Writes ASCII text we made or validated (hex ids, digits): no escaping needed. */
function putAscii(buf: Uint8Array, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) buf[at + i] = text.charCodeAt(i);
  return at + n;
}

/** Writes `text` as a JSON string literal, quotes included. */
function putString(buf: Buffer, at: number, text: string): number {
  const start = at;
  buf[at++] = 0x22;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // RFC 8259 §7: quote, backslash and controls need escapes; above 0x7e, UTF-8 is multi-byte.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      return start + buf.write(JSON.stringify(text), start, 'utf8');
    }
    buf[at++] = c;
  }
  buf[at++] = 0x22;
  return at;
}

/** Writes a non-negative safe integer in decimal. */
function putUint(buf: Uint8Array, at: number, value: number): number {
  if (value < 10) {
    buf[at] = 0x30 + value;
    return at + 1;
  }
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 0x30 + (v - q * 10);
    v = q;
  }
  return at + digits;
}

/** Writes an integer (possibly negative) in decimal. */
function putInt(buf: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    buf[at] = 0x2d; // -
    return putUint(buf, at + 1, -value);
  }
  return putUint(buf, at, value);
}

/** The decimal digits of `value`, zero-padded to `width`, at `at` (integers below 2^31). */
function putPadded(buf: Uint8Array, at: number, value: number, width: number): number {
  for (let i = at + width - 1; i >= at; i--) {
    const q = (value / 10) | 0;
    buf[i] = 0x30 + (value - q * 10);
    value = q;
  }
  return at + width;
}

/** The digits of the whole seconds last written, as bytes: they change once a second. */
let secondsValue = -1;
let secondsDigits: Uint8Array = new Uint8Array(0);

/** `00` to `99`, two bytes each: nine digits take five steps instead of nine divisions. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** `000` to `999` as the top three bytes of a big-endian 32-bit word, the low byte zero. */
const DIGIT_TRIPLES = new Int32Array(1000);
for (let i = 0; i < 1000; i++) {
  const digits = String(i).padStart(3, '0');
  DIGIT_TRIPLES[i] =
    (digits.charCodeAt(0) << 24) | (digits.charCodeAt(1) << 16) | (digits.charCodeAt(2) << 8);
}

/**
 * Writes an integer 0 <= value < 1e9 as exactly nine digits at `at` of the DataView `view`,
 * followed by a quote: where a template's time digits end their JSON string. Three 32-bit
 * writes of three digits each, each write's spare byte covered by the next, the last one's
 * being the quote: about half the work of {@link putNineDigits}.
 */
function putNineDigitsQuoted(view: DataView, at: number, value: number): void {
  const v = value | 0;
  const high = (v / 1_000_000) | 0;
  const rest = (v - high * 1_000_000) | 0;
  const middle = (rest / 1000) | 0;
  view.setInt32(at, DIGIT_TRIPLES[high]!);
  view.setInt32(at + 3, DIGIT_TRIPLES[middle]!);
  view.setInt32(at + 6, DIGIT_TRIPLES[(rest - middle * 1000) | 0]! | 0x22);
}

/**
 * Writes an integer 0 <= value < 1e9 as exactly nine digits. The value is made a 32-bit
 * integer first (it fits), so the divisions by constants compile to multiplications; on
 * doubles they were float divisions, 2.5 times as slow (two of these per span).
 */
function putNineDigits(buf: Uint8Array, at: number, value: number): number {
  let rest = value | 0;
  const first = (rest / 100_000_000) | 0;
  buf[at] = 0x30 + first;
  rest = (rest - first * 100_000_000) | 0;
  for (let i = at + 7; i > at; i -= 2) {
    const q = (rest / 100) | 0;
    const pair = (rest - q * 100) << 1;
    buf[i] = DIGIT_PAIRS[pair]!;
    buf[i + 1] = DIGIT_PAIRS[pair + 1]!;
    rest = q;
  }
  return at + 9;
}

/**
 * Writes milliseconds since the epoch as decimal nanoseconds, exactly: the whole seconds (cached
 * digits), then nine digits of milliseconds and the nanosecond fraction, all in small integer
 * arithmetic, with no BigInt and no strings.
 */
export function putUnixNanos(buf: Uint8Array, at: number, ms: number): number {
  let whole = Math.floor(ms);
  let fraction = Math.round((ms - whole) * 1e6);
  if (fraction >= 1e6) {
    whole += 1;
    fraction -= 1e6;
  }
  if (whole < 1000) {
    if (whole === 0) return putUint(buf, at, fraction);
    at = putUint(buf, at, whole);
    return putPadded(buf, at, fraction, 6);
  }
  const seconds = Math.floor(whole / 1000);
  if (seconds !== secondsValue) {
    secondsValue = seconds;
    secondsDigits = bytes(String(seconds));
  }
  at = put(buf, at, secondsDigits);
  return putNineDigits(buf, at, (whole - seconds * 1000) * 1e6 + fraction);
}

/** Writes one attribute value's `AnyValue` and closes the `KeyValue`. */
function putValue(buf: Buffer, at: number, value: AttributeValue): number {
  if (typeof value === 'string') {
    at = put(buf, at, STRING_VALUE);
    at = putString(buf, at, value);
    return put(buf, at, CLOSE_VALUE);
  }
  if (typeof value === 'boolean') return put(buf, at, value ? TRUE_VALUE : FALSE_VALUE);
  if (Number.isSafeInteger(value)) {
    at = put(buf, at, INT_VALUE);
    at = putInt(buf, at, value);
    return put(buf, at, CLOSE_INT_VALUE);
  }
  if (Number.isInteger(value)) {
    // Beyond 2^53 the decimal form has an exponent; OTLP wants the digits of an int64.
    at = put(buf, at, INT_VALUE);
    at = putAscii(buf, at, BigInt(value).toString());
    return put(buf, at, CLOSE_INT_VALUE);
  }
  at = put(buf, at, DOUBLE_VALUE);
  // Non-finite doubles come out as `null`, as JSON.stringify writes them.
  if (!Number.isFinite(value)) return put(buf, at, NULL_VALUE);
  at = putAscii(buf, at, String(value));
  return put(buf, at, CLOSE_VALUE);
}

/**
 * The attribute list last written and its encoding. Spans of one route usually carry the same
 * attributes with the same values (our middleware sets them in a fixed order): then the whole
 * list is one copy.
 */
const lastAttributes: (string | AttributeValue)[] = [];
let lastAttributesBytes: Uint8Array = new Uint8Array(0);

/** Writes a flat `[key, value, ...]` list as the elements of a `repeated KeyValue`. */
function putAttributes(buf: Buffer, at: number, a: readonly (string | AttributeValue)[]): number {
  const n = a.length;
  let same = n === lastAttributes.length;
  for (let i = 0; same && i < n; i++) same = a[i] === lastAttributes[i];
  if (same) return put(buf, at, lastAttributesBytes);
  const start = at;
  for (let i = 0; i < n; i += 2) {
    if (i > 0) buf[at++] = 0x2c; // ,
    at = putAttribute(buf, at, a[i] as string, a[i + 1]!);
  }
  if (at - start <= 4096) {
    lastAttributes.length = n;
    for (let i = 0; i < n; i++) lastAttributes[i] = a[i]!;
    lastAttributesBytes = new Uint8Array(buf.subarray(start, at)); // a copy: the batch is reused
  }
  return at;
}

/** Most bytes a string of `length` UTF-16 units takes as a JSON literal (`\u001f` is six). */
const stringBound = (length: number): number => length * 6 + 2;

/** Most bytes {@link writeSpanJson} may write for `span`. */
export function spanJsonBound(span: Span): number {
  let bound = 320 + stringBound(span.name.length) + stringBound(span.statusMessage.length);
  if (span.traceState !== undefined) bound += stringBound(span.traceState.length);
  const a = span.attributes;
  for (let i = 0; i < a.length; i += 2) {
    const key = a[i] as string;
    const value = a[i + 1]!;
    bound += 40 + stringBound(key.length) + (typeof value === 'string' ? stringBound(value.length) : 40);
  }
  return bound;
}

/**
 * Writes the OTLP JSON of `span` (an element of `ScopeSpans.spans`) at `at`; returns the offset
 * after it. Reserve {@link spanJsonBound} bytes first. Ids are lowercase hex we made or
 * validated: no escaping.
 */
export function writeSpanJson(span: Span, buf: Buffer, at: number): number {
  at = put(buf, at, TRACE_ID);
  at = putAscii(buf, at, span.traceId);
  at = put(buf, at, SPAN_ID);
  at = putAscii(buf, at, span.spanId);
  if (span.parentSpanId !== undefined) {
    at = put(buf, at, PARENT_SPAN_ID);
    at = putAscii(buf, at, span.parentSpanId);
  }
  if (span.traceState !== undefined) {
    at = put(buf, at, TRACE_STATE);
    at = putString(buf, at, span.traceState);
    at = put(buf, at, NAME);
  } else {
    at = put(buf, at, QUOTE_NAME);
  }
  at = putString(buf, at, span.name);
  at = put(buf, at, KIND);
  at = putUint(buf, at, span.kind);
  at = put(buf, at, START);
  writtenStartAt = at;
  at = putUnixNanos(buf, at, span.startTime);
  at = put(buf, at, END);
  writtenEndAt = at;
  at = putUnixNanos(buf, at, span.endTime);
  at = put(buf, at, ATTRIBUTES);
  at = putAttributes(buf, at, span.attributes);
  at = put(buf, at, STATUS);
  at = putUint(buf, at, span.statusCode);
  if (span.statusMessage !== '') {
    at = put(buf, at, MESSAGE);
    at = putString(buf, at, span.statusMessage);
  }
  buf[at++] = 0x7d; // }
  buf[at++] = 0x7d;
  return at;
}

/** Where the last {@link writeSpanJson} put the start and end time digits. */
let writtenStartAt = 0;
let writtenEndAt = 0;

/** A span's encoding, kept to be copied for the next span that encodes like it. */
export interface SpanTemplate {
  /** The span encoded (ended: its fields no longer change). */
  readonly exemplar: Span;
  /** Its encoding: a copy, since batch buffers are reused. */
  readonly bytes: Uint8Array;
  /** {@link bytes} and a comma, over the same memory: what {@link fillTemplate} repeats. */
  readonly pattern: Buffer;
  /** Offsets of the parent span id (-1 without), the start and the end time digits. */
  readonly parentAt: number;
  readonly startAt: number;
  readonly endAt: number;
  /**
   * The whole seconds in the start and end time digits of {@link bytes}, which follow the
   * spans copied from it (see `adoptSeconds`).
   */
  startSeconds: number;
  endSeconds: number;
}

/** Offsets of the ids in every span's encoding (writeSpanJson's order). */
export const TRACE_ID_AT = TRACE_ID.length;
export const SPAN_ID_AT = TRACE_ID_AT + 32 + SPAN_ID.length;
const PARENT_ID_AT = SPAN_ID_AT + 16 + PARENT_SPAN_ID.length;

/**
 * The template of `span`, just written by {@link writeSpanJson} from `at` to `end`, or
 * undefined when its ids and times do not fit fixed-width slots.
 */
export function templateOf(span: Span, buf: Buffer, at: number, end: number): SpanTemplate | undefined {
  if (!fitsTemplate(span) || end - at > 4096) return undefined;
  const pattern = Buffer.allocUnsafe(end - at + 1);
  buf.copy(pattern, 0, at, end);
  pattern[end - at] = 0x2c; // ,
  return {
    exemplar: span,
    bytes: pattern.subarray(0, end - at),
    pattern,
    parentAt: span.parentSpanId === undefined ? -1 : PARENT_ID_AT,
    startAt: writtenStartAt - at,
    endAt: writtenEndAt - at,
    startSeconds: wholeSeconds(span.startTime),
    endSeconds: wholeSeconds(span.endTime),
  };
}

/** True when times fit a template's 19-digit slots: 2001-09-09 to 2286. */
export function timesFitTemplate(startTime: number, endTime: number): boolean {
  return startTime >= 1e12 && endTime < 9e12;
}

/**
 * Fills `buf` from `at` with `count` copies of `template`, separated by commas (room checked
 * by the caller); returns the offset after the last. One native fill makes them all, doubling
 * what it has copied, which costs less than a copy call per span.
 */
export function fillTemplate(template: SpanTemplate, buf: Buffer, at: number, count: number): number {
  const end = at + count * template.pattern.length - 1;
  buf.fill(template.pattern, at, end);
  return end;
}

/**
 * Writes a span's ids, parent span id and times over the copy of `template` at `at` of `buf`
 * (made by {@link fillTemplate}): the trace id from `traceId` or, when undefined, as the hex
 * of the 16 bytes at `idsAt` of `ids` (a DataView of the random bytes); the span id as the
 * hex of the 8 bytes after those. `view` is a DataView of `buf`: every two id bytes become
 * their four digits in one 32-bit write (a byte loop over ready-made digits cost three times
 * as much, and making the digits first was a second pass). Returns true when a time fell in
 * another second than the template's (see {@link adoptSeconds}).
 */
export function stampCopy(
  template: SpanTemplate,
  buf: Buffer,
  view: DataView,
  at: number,
  traceId: string | undefined,
  ids: DataView,
  idsAt: number,
  parentSpanId: string | undefined,
  startTime: number,
  endTime: number,
): boolean {
  if (traceId === undefined) putHex(view, at + TRACE_ID_AT, ids, idsAt, 16);
  else putAscii(buf, at + TRACE_ID_AT, traceId);
  putHex(view, at + SPAN_ID_AT, ids, idsAt + 16, 8);
  return stampParentAndTimes(template, buf, view, at, parentSpanId, startTime, endTime);
}

/** Byte `b`'s two lowercase hex digits as one big-endian 16-bit word. */
const HEX_WORDS = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  const hex = b.toString(16).padStart(2, '0');
  HEX_WORDS[b] = (hex.charCodeAt(0) << 8) | hex.charCodeAt(1);
}

/**
 * Writes `count` (a multiple of 4) bytes of `from`, starting at `start`, as lowercase hex at
 * `at` of `to`: one 32-bit read per four bytes, two bytes' four digits per 32-bit write.
 */
function putHex(to: DataView, at: number, from: DataView, start: number, count: number): void {
  for (let i = 0; i < count; i += 4) {
    const word = from.getUint32(start + i);
    to.setUint32(at + 2 * i, (HEX_WORDS[word >>> 24]! << 16) | HEX_WORDS[(word >>> 16) & 0xff]!);
    to.setUint32(at + 2 * i + 4, (HEX_WORDS[(word >>> 8) & 0xff]! << 16) | HEX_WORDS[word & 0xff]!);
  }
}

/** The whole seconds {@link putUnixNanos} writes for `ms` (its rounding may carry into them). */
function wholeSeconds(ms: number): number {
  let whole = Math.floor(ms);
  if (Math.round((ms - whole) * 1e6) >= 1e6) whole += 1;
  return Math.floor(whole / 1000);
}

/**
 * Writes a span's parent span id (when the template has one) and its start and end times over
 * those of the copy of `template` at `at`, whose seconds digits are the template's. Within
 * that second only the last nine digits change; a time in another second is written whole,
 * and true is returned: the caller then gives the template the new second's digits for the
 * spans after it ({@link adoptSeconds}).
 */
function stampParentAndTimes(
  template: SpanTemplate,
  buf: Buffer,
  view: DataView,
  at: number,
  parentSpanId: string | undefined,
  startTime: number,
  endTime: number,
): boolean {
  if (template.parentAt >= 0) putAscii(buf, at + template.parentAt, parentSpanId!);
  const startSeconds = putTemplateNanos(buf, view, at + template.startAt, startTime, template.startSeconds);
  const endSeconds = putTemplateNanos(buf, view, at + template.endAt, endTime, template.endSeconds);
  return startSeconds !== template.startSeconds || endSeconds !== template.endSeconds;
}

/**
 * Gives `template` the seconds digits of the span copied and stamped at `at` of `buf`, with
 * times `startTime` and `endTime`: the spans after it are likely in that second too.
 */
export function adoptSeconds(
  template: SpanTemplate,
  buf: Buffer,
  at: number,
  startTime: number,
  endTime: number,
): void {
  template.bytes.set(buf.subarray(at + template.startAt, at + template.startAt + 10), template.startAt);
  template.startSeconds = wholeSeconds(startTime);
  template.bytes.set(buf.subarray(at + template.endAt, at + template.endAt + 10), template.endAt);
  template.endSeconds = wholeSeconds(endTime);
}

/**
 * Writes a 19-digit nanosecond time over a template's whose whole seconds were `seconds`
 * (only the last nine digits when they are the same); returns the whole seconds written.
 */
function putTemplateNanos(buf: Buffer, view: DataView, at: number, ms: number, seconds: number): number {
  // Exact: `ms` and the second's start are within a factor of two of each other (Sterbenz),
  // and the product has at most 36 significant bits.
  const inSecond = ms - seconds * 1000;
  if (inSecond >= 0 && inSecond < 1000) {
    const nanos = Math.round(inSecond * 1e6);
    if (nanos < 1e9) {
      putNineDigitsQuoted(view, at + 10, nanos);
      return seconds;
    }
  }
  putUnixNanos(buf, at, ms);
  return wholeSeconds(ms);
}

/** A DataView of `buf`, made once per buffer (the exporter reuses its batch buffers). */
function viewOf(buf: Buffer): DataView {
  if (viewBuffer !== buf) {
    viewBuffer = buf;
    bufferView = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }
  return bufferView;
}
let viewBuffer: Buffer | undefined;
let bufferView: DataView = new DataView(new ArrayBuffer(0));

let serverTemplate: SpanTemplate | undefined;
let otherTemplate: SpanTemplate | undefined;

/**
 * True when `span`'s ids and times fit a template's fixed-width slots: ids of 32 and 16 hex
 * digits, times between 2001-09-09 (the first 19-digit nanosecond time) and 2286.
 */
function fitsTemplate(span: Span): boolean {
  return (
    timesFitTemplate(span.startTime, span.endTime) &&
    span.traceId.length === 32 &&
    span.spanId.length === 16 &&
    (span.parentSpanId === undefined || span.parentSpanId.length === 16)
  );
}

/**
 * Appends the OTLP JSON of `span` at `at`, leaving at least `reserve` bytes of `buf` after it;
 * returns the offset after the span, or -1 when `buf` is too small for that (then nothing is
 * written that matters). Copies the previous encoding of a span that encodes like this one
 * (see the file comment).
 */
export function appendSpanJson(span: Span, buf: Buffer, at: number, reserve: number): number {
  const server = span instanceof HttpServerSpan;
  const template = server ? serverTemplate : otherTemplate;
  if (template !== undefined && fitsTemplate(span) && span.encodesLike(template.exemplar)) {
    const bytes = template.bytes;
    if (at + bytes.length + reserve > buf.length) return -1;
    buf.set(bytes, at);
    if (
      stampParentAndTimes(template, buf, viewOf(buf), at, span.parentSpanId, span.startTime, span.endTime)
    ) {
      adoptSeconds(template, buf, at, span.startTime, span.endTime);
    }
    const digits = span.idDigits;
    if (digits === undefined) {
      putAscii(buf, at + TRACE_ID_AT, span.traceId);
      putAscii(buf, at + SPAN_ID_AT, span.spanId);
    } else {
      if (span.traceIdDigitsAt < 0) putAscii(buf, at + TRACE_ID_AT, span.traceId);
      else copyDigits(buf, at + TRACE_ID_AT, digits, span.traceIdDigitsAt, 32);
      copyDigits(buf, at + SPAN_ID_AT, digits, span.spanIdDigitsAt, 16);
    }
    return at + bytes.length;
  }
  if (at + spanJsonBound(span) + reserve > buf.length) return -1;
  const end = writeSpanJson(span, buf, at);
  const made = templateOf(span, buf, at, end);
  if (made !== undefined) {
    if (server) serverTemplate = made;
    else otherTemplate = made;
  }
  return end;
}
