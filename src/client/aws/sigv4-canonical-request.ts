/**
 * The canonical request of AWS Signature Version 4 ("Create a canonical request" in the AWS
 * IAM user guide, "Elements of an AWS API request signature"):
 *
 * ```
 * method \n canonical URI \n canonical query \n canonical headers \n \n signed headers \n payload hash
 * ```
 *
 * - URI encoding: every byte of the UTF-8 form is written `%XX` (uppercase hex) except the
 *   unreserved characters of RFC 3986 §2.3 (`A-Z a-z 0-9 - . _ ~`); `/` is kept in paths.
 * - Canonical URI: the path, with its dot segments removed (RFC 3986 §5.2.4) and empty segments
 *   dropped when normalising (every service but S3), then URI-encoded. The path is taken as it
 *   goes on the wire, already percent-encoded once, so encoding it again is the "double
 *   encoding" AWS asks of every service but S3; S3 signs the wire path as it is.
 * - Canonical query: each parameter's name and value decoded from `%XX` and encoded again as
 *   above (so `/` and `=` in values become `%2F`, `%3D`), sorted by name, then value.
 * - Canonical headers: names lowercased, values trimmed with inner runs of spaces and tabs
 *   folded to one space, repeated fields joined with `,` in order, sorted by name.
 *
 * Pure functions on strings: no clock, no crypto (sigv4-signer.ts does the hashing).
 */
import { Buffer } from 'node:buffer';

const HEX = '0123456789ABCDEF';

/** True for RFC 3986 §2.3 unreserved characters. */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e // ~
  );
}

/** `value` URI-encoded the SigV4 way; `/` is kept as it is when `keepSlash`. */
export function sigv4UriEncode(value: string, keepSlash: boolean): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isUnreserved(c) && !(keepSlash && c === 0x2f)) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (isUnreserved(b) || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** `%XX` escapes decoded (UTF-8); a malformed escape is kept as it is. `+` stays `+`. */
export function sigv4PercentDecode(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    // Not valid UTF-8 or a stray `%`: decode what can be, byte by byte.
    const bytes: number[] = [];
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 0x25 && i + 2 < value.length && isHexDigit(value, i + 1) && isHexDigit(value, i + 2)) {
        bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        for (const b of Buffer.from(value[i]!, 'utf8')) bytes.push(b);
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

function isHexDigit(value: string, i: number): boolean {
  const c = value.charCodeAt(i);
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * A wire path with each segment decoded and encoded again the SigV4 way (`/a!b` -> `/a%21b`):
 * what S3 clients send, so that the path S3 receives is the one they signed.
 */
export function sigv4EncodePath(pathname: string): string {
  const segments = pathname.split('/');
  for (let i = 0; i < segments.length; i++) {
    segments[i] = sigv4UriEncode(sigv4PercentDecode(segments[i]!), false);
  }
  return segments.join('/');
}

/**
 * The path with dot segments removed (RFC 3986 §5.2.4) and empty segments dropped, as SigV4
 * normalises it: `//a/./b/../c/` -> `/a/c/`. A path ending in `/`, `.` or `..` keeps a final `/`.
 */
export function normalizeSigv4Path(path: string): string {
  const segments = path.split('/');
  const kept: string[] = [];
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(segment);
  }
  if (kept.length === 0) return '/';
  const last = segments[segments.length - 1];
  const trailing = last === '' || last === '.' || last === '..';
  return `/${kept.join('/')}${trailing ? '/' : ''}`;
}

/**
 * The canonical URI of `path` (the path as it goes on the wire): normalised unless
 * `normalize` is false, encoded again unless `doubleEncode` is false (S3 takes neither).
 */
export function canonicalUri(path: string, normalize: boolean, doubleEncode: boolean): string {
  let p = path === '' ? '/' : path;
  if (normalize) p = normalizeSigv4Path(p);
  return doubleEncode ? sigv4UriEncode(p, true) : p;
}

/** One query parameter, encoded the SigV4 way. */
interface EncodedParameter {
  name: string;
  value: string;
}

/** The canonical query string of `query` (without its `?`); `''` for none. */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const parameters: EncodedParameter[] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    parameters.push({
      name: sigv4UriEncode(sigv4PercentDecode(name), false),
      value: sigv4UriEncode(sigv4PercentDecode(value), false),
    });
  }
  // Sorted by code point: the encoded forms are ASCII, so this is byte order.
  parameters.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
  );
  let out = '';
  for (let i = 0; i < parameters.length; i++) {
    out += `${i === 0 ? '' : '&'}${parameters[i]!.name}=${parameters[i]!.value}`;
  }
  return out;
}

/** A header value trimmed, with runs of spaces and tabs folded to one space. */
export function canonicalHeaderValue(value: string): string {
  let out = '';
  let pendingSpace = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) {
      out += ' ';
      pendingSpace = false;
    }
    out += value[i];
  }
  return out;
}

/** The canonical header block and the signed-headers list. */
export interface CanonicalHeaders {
  /** `name:value\n` for every signed field, sorted by name. */
  readonly block: string;
  /** The names, lowercase, sorted, joined with `;`. */
  readonly signedHeaders: string;
}

/** The canonical headers of `fields` (`[name, value]` pairs; repeated names allowed). */
export function canonicalHeaders(fields: Iterable<readonly [string, string]>): CanonicalHeaders {
  const byName = new Map<string, string>();
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    const canonical = canonicalHeaderValue(value);
    const seen = byName.get(key);
    byName.set(key, seen === undefined ? canonical : `${seen},${canonical}`);
  }
  const names = [...byName.keys()].sort();
  let block = '';
  for (const name of names) block += `${name}:${byName.get(name)}\n`;
  return { block, signedHeaders: names.join(';') };
}
