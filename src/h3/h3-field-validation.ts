/**
 * Checks of HTTP/3 field sections (RFC 9114 §4.2, §4.3, §4.4): names are lowercase tokens
 * (§4.2), values hold no NUL, CR or LF and no leading or trailing whitespace (§4.2, RFC 9110
 * §5.5), connection-specific fields are forbidden and TE may only be "trailers" (§4.2),
 * pseudo-header fields come first, once each, only the ones defined for the message kind and
 * never in trailers (§4.3); a request has :method, :scheme and :path, and :authority or Host
 * when the scheme is http or https, equal when both (§4.3.1); CONNECT has :authority only
 * (§4.4), unless it is an extended CONNECT with :protocol (RFC 9220 §3, RFC 8441 §4). A failed
 * check makes the message malformed (§4.1.2): the caller turns the returned reason into a
 * stream error of type H3_MESSAGE_ERROR. Each check returns undefined when all is well.
 */
import { CONNECTION_SPECIFIC_FIELDS, fieldValueProblem } from '../core/field-value-rules.js';

/** What a successful check learned. */
export interface H3FieldFacts {
  /** The content-length value, or -1 when absent (§4.1.2). */
  contentLength: number;
  /** A request's :method, '' otherwise. */
  method: string;
  /** A response's :status, 0 otherwise. */
  status: number;
}

/** A fresh {@link H3FieldFacts}. */
export function emptyFieldFacts(): H3FieldFacts {
  return { contentLength: -1, method: '', status: 0 };
}

/** RFC 9114 §4.2: connection-specific fields, which make a message malformed. */
export const H3_CONNECTION_SPECIFIC_FIELDS: ReadonlySet<string> = CONNECTION_SPECIFIC_FIELDS;

// RFC 9110 §5.6.2 tchar, lowercase only (RFC 9114 §4.2).
const NAME_OK = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_OK[ch.charCodeAt(0)] = 1;

function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty field name (RFC 9114 §4.2)';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return `uppercase field name ${JSON.stringify(name)} (RFC 9114 §4.2)`;
    if (c >= 128 || NAME_OK[c] !== 1)
      return `invalid character in field name ${JSON.stringify(name)} (RFC 9114 §4.2)`;
  }
  return undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The regular fields from index `from` on; records content-length and Host. */
function regularProblem(
  fields: readonly string[],
  from: number,
  facts: H3FieldFacts,
  host?: { value: string },
) {
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} after a regular field (RFC 9114 §4.3)`;
    const problem = nameProblem(name) ?? fieldValueProblem(value);
    if (problem !== undefined) return problem;
    if (H3_CONNECTION_SPECIFIC_FIELDS.has(name)) return `connection-specific field ${name} (RFC 9114 §4.2)`;
    if (name === 'te' && value !== 'trailers') return 'TE other than "trailers" (RFC 9114 §4.2)';
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return 'invalid content-length (RFC 9110 §8.6)';
      const length = Number(value);
      if (facts.contentLength !== -1 && facts.contentLength !== length) {
        return 'conflicting content-length values (RFC 9110 §8.6)';
      }
      facts.contentLength = length;
    } else if (name === 'host' && host !== undefined) {
      host.value = value;
    }
  }
  return undefined;
}

/**
 * RFC 9114 §4.3.1, §4.4: a request header section. With `extendedConnect` (we announced
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 9220 §3) a CONNECT may carry :protocol.
 */
export function checkRequestFields(
  fields: readonly string[],
  facts: H3FieldFacts,
  extendedConnect = false,
): string | undefined {
  facts.contentLength = -1;
  facts.method = '';
  facts.status = 0;
  let scheme: string | undefined;
  let path: string | undefined;
  let authority: string | undefined;
  let protocol: string | undefined;
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    const value = fields[i + 1]!;
    const problem = fieldValueProblem(value);
    if (problem !== undefined) return problem;
    switch (name) {
      case ':method':
        if (facts.method !== '') return 'duplicate :method (RFC 9114 §4.3.1)';
        if (!TOKEN.test(value)) return 'invalid :method (RFC 9114 §4.3.1)';
        facts.method = value;
        break;
      case ':scheme':
        if (scheme !== undefined) return 'duplicate :scheme (RFC 9114 §4.3.1)';
        scheme = value;
        break;
      case ':path':
        if (path !== undefined) return 'duplicate :path (RFC 9114 §4.3.1)';
        path = value;
        break;
      case ':authority':
        if (authority !== undefined) return 'duplicate :authority (RFC 9114 §4.3.1)';
        authority = value;
        break;
      case ':protocol':
        if (protocol !== undefined) return 'duplicate :protocol (RFC 9220 §3)';
        if (!TOKEN.test(value)) return 'invalid :protocol (RFC 9220 §3)';
        protocol = value;
        break;
      default:
        return `pseudo-header ${name} is not defined for requests (RFC 9114 §4.3)`;
    }
  }
  const host = { value: '' };
  const regular = regularProblem(fields, i, facts, host);
  if (regular !== undefined) return regular;
  if (facts.method === '') return 'missing :method (RFC 9114 §4.3.1)';
  if (protocol !== undefined) {
    if (!extendedConnect) return ':protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3)';
    if (facts.method !== 'CONNECT') return ':protocol on a request other than CONNECT (RFC 9220 §3)';
  } else if (facts.method === 'CONNECT') {
    // RFC 9114 §4.4: :scheme and :path omitted, :authority present.
    if (scheme !== undefined || path !== undefined) return 'CONNECT with :scheme or :path (RFC 9114 §4.4)';
    if (authority === undefined || authority === '') return 'CONNECT without :authority (RFC 9114 §4.4)';
    return undefined;
  }
  if (scheme === undefined || path === undefined) return 'missing :scheme or :path (RFC 9114 §4.3.1)';
  if (path === '') return 'empty :path (RFC 9114 §4.3.1)';
  if (scheme === 'http' || scheme === 'https') {
    if (authority === undefined && host.value === '') {
      return 'http or https request without :authority or Host (RFC 9114 §4.3.1)';
    }
    if (authority === '') return 'empty :authority (RFC 9114 §4.3.1)';
    if (authority !== undefined && host.value !== '' && authority !== host.value) {
      return ':authority and Host differ (RFC 9114 §4.3.1)';
    }
  }
  return undefined;
}

/** RFC 9114 §4.3.2: a response header section, :status only, three digits. */
export function checkResponseFields(fields: readonly string[], facts: H3FieldFacts): string | undefined {
  facts.contentLength = -1;
  facts.method = '';
  facts.status = 0;
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    if (name !== ':status') return `pseudo-header ${name} is not defined for responses (RFC 9114 §4.3.2)`;
    if (facts.status !== 0) return 'duplicate :status (RFC 9114 §4.3.2)';
    const value = fields[i + 1]!;
    if (!/^[1-9]\d\d$/.test(value)) return 'invalid :status (RFC 9114 §4.3.2)';
    facts.status = Number(value);
  }
  if (facts.status === 0) return 'missing :status (RFC 9114 §4.3.2)';
  // RFC 9114 §4.5: 101 (Switching Protocols) is not used in HTTP/3.
  if (facts.status === 101) return '101 response in HTTP/3 (RFC 9114 §4.5)';
  return regularProblem(fields, i, facts);
}

/** RFC 9114 §4.3: a trailer section holds no pseudo-header fields. */
export function checkTrailerFields(fields: readonly string[], facts: H3FieldFacts): string | undefined {
  facts.contentLength = -1;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i]!.charCodeAt(0) === 0x3a) return `pseudo-header ${fields[i]} in trailers (RFC 9114 §4.3)`;
  }
  return regularProblem(fields, 0, facts);
}
