/**
 * Serializer for HTTP/1.1 message heads: the request-line (RFC 9112 §3), the status-line
 * (RFC 9112 §4) and the field lines that follow (RFC 9112 §5), each ended by CRLF, then the
 * empty line that ends the head (RFC 9112 §2.1).
 *
 * Everything that goes on the wire is checked first (method a token, request-target free of
 * whitespace and controls, status three digits, reason phrase and field values free of CR / LF /
 * controls, field names tokens), so no caller input can inject a line or a second message; a
 * violation throws one of the core error classes and nothing is produced. The head is built as
 * one Latin-1 string and encoded with a single `Buffer.from`; the status lines of all registered
 * codes are prebuilt, so the common response case is a table lookup.
 *
 * Framing (Content-Length, Transfer-Encoding, Connection) is the caller's business: the
 * serializer writes the fields it is given and adds none.
 */
import { Buffer } from 'node:buffer';
import { FIELD_VALUE_CHARS, TARGET_CHARS } from '../core/char-classes.js';
import { AvxError } from '../core/errors.js';
import { Headers, normalizeHeaderValue, validateHeaderName } from '../core/headers.js';
import { validateMethod } from '../core/method.js';
import { REGISTERED_STATUS_CODES, reasonPhrase, validateStatus } from '../core/status.js';

/** A header section as a {@link Headers} or flat `[name0, value0, name1, value1, ...]`. */
export type H1FieldLines = Headers | readonly string[];

/** RFC 9112 §2.3: the only version this serializer speaks. */
const HTTP_VERSION = 'HTTP/1.1';

/** `HTTP/1.1 <code> <registry phrase>\r\n` for every registered code, indexed by code. */
const STATUS_LINES: readonly (string | undefined)[] = (() => {
  const lines = new Array<string | undefined>(1000);
  for (const code of REGISTERED_STATUS_CODES)
    lines[code] = `${HTTP_VERSION} ${code} ${reasonPhrase(code)}\r\n`;
  return lines;
})();

/**
 * Encodes a request head: `<method> <target> HTTP/1.1\r\n`, the field lines, `\r\n`.
 *
 * @param method A token (RFC 9110 §9.1), case kept; else {@link InvalidMethodError}.
 * @param target The request-target in any of the forms of RFC 9112 §3.2, already
 *   percent-encoded: non-empty, no SP, controls or DEL, no characters above U+00FF; else an
 *   {@link AvxError} with code `AVX_INVALID_TARGET`.
 * @param headers Field lines. A {@link Headers} was validated when filled; a flat array is
 *   validated here ({@link InvalidHeaderError}) and its values trimmed.
 */
export function serializeRequestHead(method: string, target: string, headers: H1FieldLines): Buffer {
  validateMethod(method);
  validateTarget(target);
  return Buffer.from(`${method} ${target} ${HTTP_VERSION}\r\n${serializeFieldLines(headers)}\r\n`, 'latin1');
}

/**
 * Encodes a response head: `HTTP/1.1 <status> <reason>\r\n`, the field lines, `\r\n`.
 *
 * @param status An integer from 100 to 999; else {@link InvalidStatusError}.
 * @param headers Field lines, as for {@link serializeRequestHead}.
 * @param reason The reason phrase (RFC 9112 §4: HTAB, SP, visible characters, obs-text; may be
 *   empty); else an {@link AvxError} with code `AVX_INVALID_REASON`. Default: the registry
 *   phrase for `status`, or '' for an unregistered code (the line then ends `<status> \r\n`,
 *   as RFC 9112 §4 keeps the SP before an empty reason).
 */
export function serializeResponseHead(status: number, headers: H1FieldLines, reason?: string): Buffer {
  let line = reason === undefined ? STATUS_LINES[status] : undefined;
  if (line === undefined) {
    validateStatus(status);
    if (reason !== undefined) validateReason(reason);
    line = `${HTTP_VERSION} ${status} ${reason ?? ''}\r\n`;
  }
  return Buffer.from(`${line}${serializeFieldLines(headers)}\r\n`, 'latin1');
}

/**
 * The field lines `name: value\r\n` of `headers`, in order, as a Latin-1 string (RFC 9112 §5:
 * no whitespace before the colon; one SP after it). Used for header and trailer sections.
 * A flat array is validated (names tokens, values field values, trimmed); an odd-length array
 * or something that is neither a {@link Headers} nor an array throws.
 */
export function serializeFieldLines(headers: H1FieldLines): string {
  let out = '';
  if (headers instanceof Headers) {
    const n = headers.size;
    for (let i = 0; i < n; i++) out += `${headers.nameAt(i)!}: ${headers.valueAt(i)!}\r\n`;
    return out;
  }
  if (!Array.isArray(headers)) {
    throw new AvxError(
      'AVX_INVALID_HEADERS',
      'header fields must be a Headers instance or a flat [name, value, ...] array',
    );
  }
  const n = headers.length;
  if ((n & 1) !== 0) {
    throw new AvxError('AVX_INVALID_HEADERS', 'flat header list has odd length: the last name has no value');
  }
  for (let i = 0; i < n; i += 2) {
    const name = validateHeaderName(headers[i]!);
    out += `${name}: ${normalizeHeaderValue(name, headers[i + 1]!)}\r\n`;
  }
  return out;
}

/** RFC 9112 §3.2: a request-target has no whitespace; controls would split or smuggle lines. */
function validateTarget(target: string): void {
  const n = typeof target === 'string' ? target.length : 0;
  if (n === 0) {
    throw new AvxError('AVX_INVALID_TARGET', 'empty request-target (RFC 9112 §3.2)');
  }
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c > 0xff || TARGET_CHARS[c] === 0) {
      throw new AvxError(
        'AVX_INVALID_TARGET',
        `invalid character 0x${c.toString(16)} at index ${i} of the request-target: whitespace, controls ` +
          'and DEL are not allowed, other characters must be percent-encoded (RFC 9112 §3.2, RFC 3986 §2)',
      );
    }
  }
}

/** RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). */
function validateReason(reason: string): void {
  const n = typeof reason === 'string' ? reason.length : -1;
  if (n < 0) throw new AvxError('AVX_INVALID_REASON', 'reason phrase must be a string');
  for (let i = 0; i < n; i++) {
    const c = reason.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHARS[c] === 0) {
      throw new AvxError(
        'AVX_INVALID_REASON',
        `invalid character 0x${c.toString(16)} at index ${i} of the reason phrase: only HTAB, SP, ` +
          'visible characters and obs-text are allowed (RFC 9112 §4)',
      );
    }
  }
}
