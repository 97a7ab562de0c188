/**
 * Which header fields a compressor keeps out of its dynamic table, shared by HPACK (RFC 7541
 * §7.1.3) and QPACK (RFC 9204 §7.1.3), whose security considerations are the same:
 * - fields whose values change with every message are not worth an entry: they would only push
 *   out entries that repeat;
 * - credentials are never indexed, and sent with the "never indexed" bit so that an
 *   intermediary keeps them out of its table too: an attacker who can add fields to requests
 *   could otherwise guess a secret one entry at a time (CRIME-style);
 * - short cookies are never indexed for the same reason: they are guessable.
 */

/** Fields whose values change per message: sent literally, never inserted. */
export const NOT_INDEXED_FIELDS: ReadonlySet<string> = new Set([
  ':path',
  'content-length',
  'date',
  'etag',
  'if-modified-since',
  'if-none-match',
  'last-modified',
  'location',
  'age',
  'content-range',
  'expires',
  'x-request-id',
]);

/** Fields never indexed, sent with the N bit. */
export const NEVER_INDEXED_FIELDS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization']);

/** Cookie and Set-Cookie values shorter than this are never indexed. */
export const SHORT_COOKIE_LENGTH = 20;

/** True when `name: value` must go with the "never indexed" bit. */
export function isNeverIndexed(name: string, value: string): boolean {
  return (
    NEVER_INDEXED_FIELDS.has(name) ||
    ((name === 'cookie' || name === 'set-cookie') && value.length < SHORT_COOKIE_LENGTH)
  );
}
