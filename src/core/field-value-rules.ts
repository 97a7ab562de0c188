/**
 * Field rules HTTP/2 (RFC 9113 §8.2) and HTTP/3 (RFC 9114 §4.2) share:
 * - the connection-specific fields, which mean nothing without HTTP/1.1's connection and make
 *   a message malformed;
 * - the value rule they apply to decoded fields, since neither has HTTP/1.1's line syntax to
 *   carry it: a value must not contain NUL, CR or LF, nor start or end with whitespace
 *   (RFC 9110 §5.5). A message that breaks it is malformed.
 */

/** Connection-specific fields (RFC 9113 §8.2.2, RFC 9114 §4.2), never in an h2 or h3 field section. */
export const CONNECTION_SPECIFIC_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** What is wrong with a decoded field value, or undefined when it is fine. */
export function fieldValueProblem(value: string): string | undefined {
  const n = value.length;
  if (n === 0) return undefined;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) {
    return 'field value with leading or trailing whitespace (RFC 9110 §5.5, RFC 9113 §8.2.1, RFC 9114 §4.2)';
  }
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) {
      return 'NUL, CR or LF in a field value (RFC 9110 §5.5, RFC 9113 §8.2.1, RFC 9114 §4.2)';
    }
  }
  return undefined;
}
