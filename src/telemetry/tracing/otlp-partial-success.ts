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
  let inner: [number, number] | undefined;
  const outerOk = eachField(buf, 0, buf.length, (field, _value, start, end) => {
    if (field === 1 && start >= 0) inner = [start, end];
  });
  if (!outerOk || inner === undefined) return undefined;
  let rejected = 0;
  let message = '';
  const innerOk = eachField(buf, inner[0], inner[1], (field, value, start, end) => {
    if (field === 1 && start < 0) rejected = value;
    else if (field === 2 && start >= 0) message = buf.toString('utf8', start, end);
  });
  if (!innerOk) return undefined;
  return { rejectedSpans: Number.isSafeInteger(rejected) ? rejected : 0, errorMessage: message };
}

/**
 * Calls `visit` for each field of the message in `buf[from, to)` with its number and, for a
 * varint, its value (start and end -1), or for a length-delimited value its bounds; other wire
 * types are skipped. Returns false when the message is malformed.
 */
function eachField(
  buf: Buffer,
  from: number,
  to: number,
  visit: (field: number, value: number, start: number, end: number) => void,
): boolean {
  let at = from;
  while (at < to) {
    const tag = varint(buf, at, to);
    if (tag === undefined) return false;
    at = tag.next;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (wire === 0 || wire === 2) {
      const v = varint(buf, at, to);
      if (v === undefined) return false;
      if (wire === 0) {
        visit(field, v.value, -1, -1);
        at = v.next;
      } else {
        if (v.next + v.value > to) return false;
        visit(field, v.value, v.next, v.next + v.value);
        at = v.next + v.value;
      }
    } else {
      const next = skip(at, to, wire);
      if (next === undefined) return false;
      at = next;
    }
  }
  return true;
}

/** Skips a fixed-width value (wire type 1 or 5) at `at`; undefined when it runs past `to`. */
function skip(at: number, to: number, wire: number): number | undefined {
  const size = wire === 1 ? 8 : wire === 5 ? 4 : -1;
  return size > 0 && at + size <= to ? at + size : undefined;
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
