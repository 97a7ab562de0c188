/**
 * Cache-Control directives (RFC 9111 §5.2): parsing the field into a directive map, reading
 * delta-seconds arguments (RFC 9111 §1.2.2), and the request `Pragma: no-cache` fallback
 * (RFC 9111 §5.4). The parser walks the field value by index: directive names are tokens matched
 * case-insensitively, arguments are tokens or quoted-strings (RFC 9110 §5.6.4), and a comma
 * inside a quoted-string does not end the directive.
 */
import type { Headers } from '../../core/headers.js';

/** Directive name (lower case) -> argument (unquoted), or `null` for a directive without one. */
export type CacheDirectives = ReadonlyMap<string, string | null>;

const EMPTY: CacheDirectives = new Map();

/** RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31. */
export const DELTA_SECONDS_MAX = 2_147_483_648;

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parses a Cache-Control field value (all field lines joined with commas). When a directive
 * appears twice, the first occurrence wins (RFC 9111 §4.2.1 allows either that or treating the
 * response as stale). Malformed members are skipped rather than failing the whole field.
 */
export function parseCacheControl(value: string | undefined): CacheDirectives {
  if (value === undefined || value === '') return EMPTY;
  const out = new Map<string, string | null>();
  const n = value.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isOws(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    const nameStart = i;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === 0x3d || c === 0x2c || isOws(c)) break;
      i++;
    }
    const name = value.slice(nameStart, i).toLowerCase();
    while (i < n && isOws(value.charCodeAt(i))) i++;
    let argument: string | null = null;
    if (i < n && value.charCodeAt(i) === 0x3d) {
      i++;
      while (i < n && isOws(value.charCodeAt(i))) i++;
      if (i < n && value.charCodeAt(i) === 0x22) {
        // quoted-string (RFC 9110 §5.6.4): backslash escapes the next octet.
        i++;
        let text = '';
        while (i < n && value.charCodeAt(i) !== 0x22) {
          if (value.charCodeAt(i) === 0x5c && i + 1 < n) i++;
          text += value[i];
          i++;
        }
        i++; // closing quote (or past the end when it is missing)
        argument = text;
      } else {
        const argStart = i;
        while (i < n && value.charCodeAt(i) !== 0x2c && !isOws(value.charCodeAt(i))) i++;
        argument = value.slice(argStart, i);
      }
    }
    // Skip whatever trails the member up to the next comma.
    while (i < n && value.charCodeAt(i) !== 0x2c) i++;
    if (name !== '' && !out.has(name)) out.set(name, argument);
  }
  return out;
}

/** The Cache-Control directives of a header section (every field line, joined). */
export function cacheControlOf(headers: Headers): CacheDirectives {
  const lines = headers.getAll('cache-control');
  if (lines.length === 0) return EMPTY;
  return parseCacheControl(lines.length === 1 ? lines[0] : lines.join(','));
}

/**
 * The directives of a request, with RFC 9111 §5.4: when the request has no Cache-Control field,
 * `Pragma: no-cache` counts as `Cache-Control: no-cache`.
 */
export function requestCacheControlOf(headers: Headers): CacheDirectives {
  if (headers.has('cache-control')) return cacheControlOf(headers);
  const pragma = headers.get('pragma');
  if (pragma !== undefined && /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(pragma))
    return new Map([['no-cache', null]]);
  return EMPTY;
}

/**
 * A delta-seconds argument (RFC 9111 §1.2.2: one or more digits) as a number of seconds;
 * undefined when absent or malformed. Values past 2^31 are clamped to 2^31.
 */
export function deltaSeconds(argument: string | null | undefined): number | undefined {
  if (argument === null || argument === undefined || argument === '') return undefined;
  for (let i = 0; i < argument.length; i++) {
    const c = argument.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const seconds = Number(argument);
  return Math.min(seconds, DELTA_SECONDS_MAX);
}
