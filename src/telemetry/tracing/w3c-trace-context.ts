/**
 * W3C Trace Context (Recommendation, 2021): parsing and writing the `traceparent` and
 * `tracestate` header fields.
 * - §3.2 traceparent: `version "-" trace-id "-" parent-id "-" trace-flags`, lowercase hex only.
 *   Version `ff` is invalid (§3.2.2.1); version `00` is exactly 55 characters; a higher version
 *   may carry more after a `-` at offset 55 (§4.3, "Versioning of traceparent"), and we read
 *   its first four fields. An all-zero trace-id (§3.2.2.3) or parent-id (§3.2.2.4) is invalid.
 *   An invalid traceparent is ignored: the request starts a new trace (§4.2).
 * - §3.3 tracestate: up to 32 list members `key=value`; keys `[a-z0-9][a-z0-9_\-*\/]{0,255}` or
 *   `tenant@system`; values up to 256 printable characters without `,` and `=`, not ending in a
 *   space. A tracestate that breaks these rules is dropped whole; it is kept only with a valid
 *   traceparent (§3.3).
 */

/** The propagated part of a span (W3C: trace-id, parent-id, trace-flags, tracestate). */
export interface SpanContext {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** Trace flags; bit 0 (`01`) is "sampled" (§3.2.2.5). */
  readonly traceFlags: number;
  /** The tracestate field value, or undefined. */
  readonly traceState: string | undefined;
  /** True when extracted from an incoming request. */
  readonly remote: boolean;
}

/** Trace flag bit 0: the caller recorded this trace (§3.2.2.5.1). */
export const SAMPLED_FLAG = 0x01;

const ZERO_TRACE_ID = '00000000000000000000000000000000';
const ZERO_SPAN_ID = '0000000000000000';

function isLowerHex(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * The context a `traceparent` (and optional `tracestate`) carries, or undefined when the
 * traceparent is missing or invalid.
 */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const value = traceparent.trim();
  if (value.length < 55) return undefined;
  if (!isLowerHex(value, 0, 2)) return undefined;
  const version = value.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' && value.length !== 55) return undefined;
  if (value.length > 55 && value.charCodeAt(55) !== 0x2d /* - */) return undefined;
  if (value.charCodeAt(2) !== 0x2d || value.charCodeAt(35) !== 0x2d || value.charCodeAt(52) !== 0x2d) {
    return undefined;
  }
  if (!isLowerHex(value, 3, 35) || !isLowerHex(value, 36, 52) || !isLowerHex(value, 53, 55)) return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(value.slice(53, 55), 16),
    traceState: validTracestate(tracestate),
    remote: true,
  };
}

/** The `traceparent` value (version 00) of a context. */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const SIMPLE_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** The tracestate value normalised (members trimmed, empty ones dropped), or undefined if invalid. */
export function validTracestate(tracestate: string | undefined): string | undefined {
  if (tracestate === undefined || tracestate === '') return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of tracestate.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!(SIMPLE_KEY.test(key) || TENANT_KEY.test(key)) || !VALUE.test(value)) return undefined;
    if (keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > 32) return undefined;
  return members.join(',');
}
