/**
 * What a collector's `ExportTraceServiceResponse` says it rejected (OpenTelemetry Protocol
 * spec, "Partial Success"): a 2xx answer may carry `partial_success` with `rejected_spans` and
 * an `error_message`; those spans were not accepted, and the request must not be retried.
 *
 * The body is read in the encoding its `Content-Type` names: JSON (`partialSuccess` or
 * `partial_success`, the count as a string or a number), or binary protobuf
 * (`ExportTraceServiceResponse.partial_success` = field 1, in it `rejected_spans` = field 1,
 * varint, and `error_message` = field 2, string). An empty body, or one that does not parse,
 * says nothing was rejected: the collector accepted the request by its status.
 */
import type { Buffer } from 'node:buffer';

/** The rejection a collector reported. */
export interface OtlpPartialSuccess {
  /** Spans the collector did not accept. */
  readonly rejectedSpans: number;
  /** Why, as the collector put it ('' when it said nothing). */
  readonly errorMessage: string;
}

/** The partial success in `body`, or undefined when it reports none (see the file comment). */
export function partialSuccessOf(
  body: Buffer,
  contentType: string | undefined,
): OtlpPartialSuccess | undefined {
  if (body.length === 0) return undefined;
  const type = contentType === undefined ? undefined : contentType.split(';', 1)[0]!.trim().toLowerCase();
  const json = type === undefined || type === '' ? body[0] === 0x7b : type === 'application/json';
  const found = json ? fromJson(body) : fromProtobuf(body);
  return found === undefined || (found.rejectedSpans === 0 && found.errorMessage === '') ? undefined : found;
}

function fromJson(body: Buffer): OtlpPartialSuccess | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const partial = record.partialSuccess ?? record.partial_success;
  if (partial === null || typeof partial !== 'object') return undefined;
  const p = partial as Record<string, unknown>;
  // proto3 JSON mapping: int64 as a decimal string, a number also accepted.
  const rejected = Number(p.rejectedSpans ?? p.rejected_spans ?? 0);
  const message = p.errorMessage ?? p.error_message ?? '';
  return {
    rejectedSpans: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0,
    errorMessage: typeof message === 'string' ? message : '',
  };
}

/** The `partial_success` of a protobuf response; undefined when absent or malformed. */
function fromProtobuf(buf: Buffer): OtlpPartialSuccess | undefined {
  const outer = fieldOf(buf, 0, buf.length, 1);
  if (!outer) return undefined;
  const [start, end] = outer;
  let rejected = 0;
  let message = '';
  let at = start;
  while (at < end) {
    const tag = varint(buf, at, end);
    if (tag === undefined) return undefined;
    at = tag.next;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field === 1 && wire === 0) {
      const v = varint(buf, at, end);
      if (v === undefined) return undefined;
      rejected = v.value;
      at = v.next;
    } else if (field === 2 && wire === 2) {
      const len = varint(buf, at, end);
      if (len === undefined || len.next + len.value > end) return undefined;
      message = buf.toString('utf8', len.next, len.next + len.value);
      at = len.next + len.value;
    } else {
      const next = skip(buf, at, end, wire);
      if (next === undefined) return undefined;
      at = next;
    }
  }
  return { rejectedSpans: Number.isSafeInteger(rejected) ? rejected : 0, errorMessage: message };
}

/**
 * The bounds of length-delimited field `wanted` of the message in `buf[from, to)`: null when
 * the message is well formed without it, undefined when it is malformed.
 */
function fieldOf(buf: Buffer, from: number, to: number, wanted: number): [number, number] | null | undefined {
  let at = from;
  let found: [number, number] | null = null;
  while (at < to) {
    const tag = varint(buf, at, to);
    if (tag === undefined) return undefined;
    at = tag.next;
    const wire = tag.value % 8;
    if (Math.floor(tag.value / 8) === wanted && wire === 2) {
      const len = varint(buf, at, to);
      if (len === undefined || len.next + len.value > to) return undefined;
      found = [len.next, len.next + len.value];
      at = len.next + len.value;
    } else {
      const next = skip(buf, at, to, wire);
      if (next === undefined) return undefined;
      at = next;
    }
  }
  return found;
}

/** Skips a field's value of wire type `wire` at `at`; undefined when it runs past `to`. */
function skip(buf: Buffer, at: number, to: number, wire: number): number | undefined {
  switch (wire) {
    case 0:
      return varint(buf, at, to)?.next;
    case 1:
      return at + 8 <= to ? at + 8 : undefined;
    case 2: {
      const len = varint(buf, at, to);
      return len === undefined || len.next + len.value > to ? undefined : len.next + len.value;
    }
    case 5:
      return at + 4 <= to ? at + 4 : undefined;
    default:
      return undefined;
  }
}

/** A base-128 varint at `at` (up to 10 bytes; values past 2^53 lose precision). */
function varint(buf: Buffer, at: number, to: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < to && i < at + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, next: i + 1 };
    scale *= 128;
  }
  return undefined;
}
