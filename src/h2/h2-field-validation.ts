/**
 * Checks of HTTP/2 field sections (RFC 9113 §8.1, §8.2, §8.3): field names are lowercase and
 * free of controls, whitespace and non-ASCII (§8.2.1); values have no NUL, CR or LF and no
 * leading or trailing whitespace (§8.2.1); connection-specific fields are forbidden
 * (§8.2.2); pseudo-header fields come first, once each, and only the ones defined for the
 * message kind (§8.3), `:protocol` only on an extended CONNECT we allowed (RFC 8441 §4). A
 * failed check makes the message malformed (§8.1.1): a stream error of
 * type PROTOCOL_ERROR. The checks return a reason string, or undefined when the section is
 * well-formed, and never allocate on success.
 */
import { CONNECTION_SPECIFIC_FIELDS, fieldValueProblem } from '../core/field-value-rules.js';

/** What a successful check learned, reused across calls. */
export interface H2FieldFacts {
  /** content-length, or -1 when absent (RFC 9113 §8.1.1). */
  contentLength: number;
  /** Index in the list of the `priority` field's value (RFC 9218 §5), or -1. */
  priorityIndex: number;
  /** The `:method`, `:status` etc. as found (request / response). */
  method: string;
  status: number;
  /** The `:protocol` of an extended CONNECT (RFC 8441 §4), '' when absent. */
  protocol?: string;
}

// RFC 9113 §8.2.1: bytes that may not appear in a field name.
const BAD_NAME = new Uint8Array(256);
for (let c = 0; c <= 0x20; c++) BAD_NAME[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) BAD_NAME[c] = 1;
for (let c = 0x7f; c <= 0xff; c++) BAD_NAME[c] = 1;
// Also every non-token delimiter (RFC 9110 §5.6.2), which no field name may contain.
for (const ch of '"(),/:;<=>?@[\\]{}') BAD_NAME[ch.charCodeAt(0)] = 1;

/** RFC 9113 §8.2.2: connection-specific fields, never sent in an HTTP/2 field section. */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = CONNECTION_SPECIFIC_FIELDS;

function nameProblem(name: string, start: number): string | undefined {
  if (name.length === start) return 'empty field name';
  for (let i = start; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || BAD_NAME[c] === 1) {
      return `invalid character in field name ${JSON.stringify(name)} (RFC 9113 §8.2.1)`;
    }
  }
  return undefined;
}

/** RFC 9110 §5.6.2: a non-empty token (the `:protocol` value, RFC 8441 §4). */
function isToken(value: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value);
}

/** Checks the regular fields from `from` on; fills content-length and priority. */
function regularProblem(fields: readonly string[], from: number, facts: H2FieldFacts): string | undefined {
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} after a regular field (RFC 9113 §8.3)`;
    const problem = nameProblem(name, 0) ?? fieldValueProblem(value);
    if (problem !== undefined) return problem;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name} (RFC 9113 §8.2.2)`;
    if (name === 'te' && value !== 'trailers') return 'TE other than "trailers" (RFC 9113 §8.2.2)';
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return 'invalid content-length (RFC 9110 §8.6)';
      const length = Number(value);
      if (facts.contentLength !== -1 && facts.contentLength !== length) return 'conflicting content-length';
      facts.contentLength = length;
    } else if (name === 'priority') {
      facts.priorityIndex = i + 1;
    }
  }
  return undefined;
}

/**
 * RFC 9113 §8.3.1: a request's header section. `:method` is required; `:scheme` and `:path`
 * too unless the method is CONNECT, where only `:authority` may accompany it (§8.5).
 * With `extendedConnect` (we announced SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3) a CONNECT
 * may carry `:protocol` (a token), and then needs `:scheme` and `:path` like any request (§4);
 * `:protocol` on another method, or when we did not announce the setting, is malformed.
 */
export function checkRequestFields(
  fields: readonly string[],
  facts: H2FieldFacts,
  extendedConnect = false,
): string | undefined {
  facts.contentLength = -1;
  facts.priorityIndex = -1;
  facts.method = '';
  facts.protocol = '';
  let scheme = false;
  let path = false;
  let authority = false;
  let protocol = false;
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    const value = fields[i + 1]!;
    switch (name) {
      case ':method':
        if (facts.method !== '') return 'duplicate :method (RFC 9113 §8.3.1)';
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) return 'invalid :method (RFC 9113 §8.3.1)';
        facts.method = value;
        break;
      case ':scheme':
        if (scheme) return 'duplicate :scheme (RFC 9113 §8.3.1)';
        scheme = true;
        break;
      case ':path':
        if (path) return 'duplicate :path (RFC 9113 §8.3.1)';
        if (value === '') return 'empty :path (RFC 9113 §8.3.1)';
        path = true;
        break;
      case ':authority':
        if (authority) return 'duplicate :authority (RFC 9113 §8.3.1)';
        authority = true;
        break;
      case ':protocol':
        // RFC 8441 §4: extended CONNECT, only valid once we announced the setting (checked below).
        if (protocol) return 'duplicate :protocol (RFC 8441 §4)';
        if (!isToken(value)) return 'invalid :protocol (RFC 8441 §4: an upgrade token)';
        protocol = true;
        facts.protocol = value;
        break;
      default:
        return `unknown or response pseudo-header ${name} in a request (RFC 9113 §8.3)`;
    }
    const problem = fieldValueProblem(value);
    if (problem !== undefined) return problem;
  }
  if (facts.method === '') return 'missing :method (RFC 9113 §8.3.1)';
  if (protocol) {
    if (!extendedConnect) return ':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §4)';
    if (facts.method !== 'CONNECT') return ':protocol on a request other than CONNECT (RFC 8441 §4)';
    if (!scheme || !path) return 'extended CONNECT without :scheme or :path (RFC 8441 §4)';
  } else if (facts.method === 'CONNECT') {
    if (scheme || path || !authority) return 'CONNECT needs :authority only (RFC 9113 §8.5)';
  } else if (!scheme || !path) {
    return 'missing :scheme or :path (RFC 9113 §8.3.1)';
  }
  return regularProblem(fields, i, facts);
}

/** RFC 9113 §8.3.2: a response's header section (`:status` only). */
export function checkResponseFields(fields: readonly string[], facts: H2FieldFacts): string | undefined {
  facts.contentLength = -1;
  facts.priorityIndex = -1;
  facts.status = 0;
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    if (name !== ':status') return `pseudo-header ${name} in a response (RFC 9113 §8.3.2)`;
    if (facts.status !== 0) return 'duplicate :status (RFC 9113 §8.3.2)';
    const value = fields[i + 1]!;
    if (!/^\d{3}$/.test(value)) return 'invalid :status (RFC 9113 §8.3.2)';
    facts.status = Number(value);
  }
  if (facts.status === 0) return 'missing :status (RFC 9113 §8.3.2)';
  return regularProblem(fields, i, facts);
}

/** RFC 9113 §8.1: a trailer section has no pseudo-header fields. */
export function checkTrailerFields(fields: readonly string[], facts: H2FieldFacts): string | undefined {
  facts.contentLength = -1;
  facts.priorityIndex = -1;
  return regularProblem(fields, 0, facts);
}
