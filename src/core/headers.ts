/**
 * A header or trailer section as an ordered list of field lines (RFC 9110 §5, §6.3, §6.5):
 * names match case-insensitively (§5.1), insertion order and repeated fields are kept (§5.3),
 * names must be tokens (§5.1, §5.6.2) and values field-value octets (§5.5).
 *
 * This is avx-http's own class, not the WHATWG `Headers`: it keeps the names as given, keeps
 * duplicates as separate field lines and is built for the protocol layers (flat arrays in and
 * out, a fast path for common names). The constructor accepts a WHATWG `Headers` for interop,
 * and a WHATWG `Headers` can be built from this one (`new globalThis.Headers(ours)`).
 */
import { FIELD_VALUE_CHARS, isToken, TOKEN_CHARS } from './char-classes.js';
import { InvalidHeaderError } from './errors.js';

/** A value accepted by the setters; numbers are written in decimal (`String(n)`). */
export type HeaderValue = string | number;

/**
 * What a {@link Headers} can be built from: another `Headers`, a WHATWG `Headers`, a record
 * (an array value adds one field line per element, an `undefined` value is skipped) or an
 * iterable of `[name, value]` pairs (an array of pairs, a `Map`).
 */
export type HeadersInit =
  | Headers
  | globalThis.Headers
  | Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>
  | Iterable<readonly [string, HeaderValue]>;

/** Options of {@link Headers.fromFlat}. */
export interface HeadersFromFlatOptions {
  /**
   * The names are known tokens and the values known field values without surrounding
   * whitespace (as our HTTP/1.1 parser delivers them), so validation and trimming are skipped.
   * Passing unchecked input with `trusted: true` lets it reach serializers unchecked.
   * Default false.
   */
  trusted?: boolean;
}

/**
 * Field names common enough to deserve the fast path: exact spellings (canonical and lower
 * case) map straight to the lowercase key, with no `toLowerCase` and no token scan.
 */
const COMMON_HEADER_NAMES: readonly string[] = [
  'Accept',
  'Accept-Charset',
  'Accept-Encoding',
  'Accept-Language',
  'Accept-Ranges',
  'Access-Control-Allow-Credentials',
  'Access-Control-Allow-Headers',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Origin',
  'Access-Control-Expose-Headers',
  'Access-Control-Max-Age',
  'Access-Control-Request-Headers',
  'Access-Control-Request-Method',
  'Age',
  'Allow',
  'Alt-Svc',
  'Authorization',
  'Cache-Control',
  'Connection',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Location',
  'Content-Range',
  'Content-Security-Policy',
  'Content-Type',
  'Cookie',
  'Date',
  'ETag',
  'Etag',
  'Expect',
  'Expires',
  'Forwarded',
  'Host',
  'If-Match',
  'If-Modified-Since',
  'If-None-Match',
  'If-Range',
  'If-Unmodified-Since',
  'Keep-Alive',
  'Last-Modified',
  'Link',
  'Location',
  'Origin',
  'Pragma',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Range',
  'Referer',
  'Retry-After',
  'Sec-WebSocket-Accept',
  'Sec-WebSocket-Extensions',
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Version',
  'Server',
  'Set-Cookie',
  'Strict-Transport-Security',
  'Traceparent',
  'Tracestate',
  'TE',
  'Trailer',
  'Transfer-Encoding',
  'Upgrade',
  'User-Agent',
  'Vary',
  'Via',
  'WWW-Authenticate',
  'X-Content-Type-Options',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'X-Forwarded-Proto',
  'X-Frame-Options',
  'X-Request-Id',
];

/** Exact spelling -> lowercase key, for the names above in canonical and lower case. */
const COMMON_KEYS: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const name of COMMON_HEADER_NAMES) {
    const key = name.toLowerCase();
    map.set(name, key);
    map.set(key, key);
  }
  return map;
})();

const SET_COOKIE = 'set-cookie';

/**
 * Returns `name` when it is a valid field name (a token, RFC 9110 §5.1 / §5.6.2), else throws
 * {@link InvalidHeaderError} with code `AVX_INVALID_HEADER_NAME`.
 */
export function validateHeaderName(name: string): string {
  if (typeof name !== 'string' || !isToken(name)) {
    throw new InvalidHeaderError(
      'AVX_INVALID_HEADER_NAME',
      String(name),
      name === ''
        ? 'empty header name: a field name is a token of at least one character (RFC 9110 §5.1)'
        : `invalid header name ${JSON.stringify(String(name))}: must be a token (RFC 9110 §5.1, §5.6.2)`,
    );
  }
  return name;
}

/**
 * Returns `value` as a field value with leading and trailing SP / HTAB removed (RFC 9110 §5.5
 * excludes them from the value), or throws {@link InvalidHeaderError} with code
 * `AVX_INVALID_HEADER_VALUE` when it contains CR, LF, NUL, another control character except
 * HTAB, DEL, or a character above U+00FF (field values are octets: encode such text first).
 * `name` is only used in the error. Numbers are converted with `String`.
 */
export function normalizeHeaderValue(name: string, value: HeaderValue): string {
  if (typeof value !== 'string') {
    if (typeof value !== 'number') {
      throw new InvalidHeaderError(
        'AVX_INVALID_HEADER_VALUE',
        name,
        `invalid value for header ${JSON.stringify(name)}: expected a string or number, got ${typeof value}`,
      );
    }
    value = String(value);
  }
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHARS[c] === 0) throw invalidValueCharacter(name, c, i);
  }
  let start = 0;
  let end = n;
  // RFC 9110 §5.5: OWS around the value is not part of it.
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === n ? value : value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function invalidValueCharacter(name: string, c: number, index: number): InvalidHeaderError {
  const hex = c
    .toString(16)
    .toUpperCase()
    .padStart(c > 0xff ? 4 : 2, '0');
  const what =
    c > 0xff
      ? `character U+${hex}: field values are octets, encode text outside Latin-1 first`
      : `control character 0x${hex}: CR, LF, NUL, DEL and controls other than HTAB are not allowed`;
  return new InvalidHeaderError(
    'AVX_INVALID_HEADER_VALUE',
    name,
    `invalid value for header ${JSON.stringify(name)}: ${what} (index ${index}, RFC 9110 §5.5)`,
  );
}

/** The lowercase key of a name being stored; throws when the name is not a token. */
function keyForStore(name: string): string {
  const key = COMMON_KEYS.get(name);
  if (key !== undefined) return key;
  return validateHeaderName(name).toLowerCase();
}

/** The lowercase key of a name being looked up, or undefined when no stored field can match. */
function keyForLookup(name: string): string | undefined {
  const key = COMMON_KEYS.get(name);
  if (key !== undefined) return key;
  if (typeof name !== 'string' || name.length === 0) return undefined;
  // Only tokens can be stored; checking first also keeps Unicode case mapping
  // ('\u212A'.toLowerCase() === 'k') from matching an ASCII name. A name already in lowercase
  // (`traceparent`, the usual spelling in code) is its own key: no new string per lookup.
  let lower = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || TOKEN_CHARS[c] === 0) return undefined;
    if (c >= 0x41 && c <= 0x5a) lower = false;
  }
  return lower ? name : name.toLowerCase();
}

/**
 * An ordered, case-insensitive list of header (or trailer) field lines.
 *
 * - Names keep the spelling they were given; lookups ignore case (RFC 9110 §5.1).
 * - Repeated names are separate field lines in insertion order (RFC 9110 §5.3).
 * - `get` joins repeated values with ', ' (RFC 9110 §5.3). That is wrong for `Set-Cookie`,
 *   whose values may contain commas (RFC 6265 §3): `get('set-cookie')` still joins, as the
 *   WHATWG `Headers` does, and {@link Headers.getSetCookie} returns the separate values.
 * - Setters validate (name a token, value field-value octets) and trim the value's surrounding
 *   whitespace; they throw {@link InvalidHeaderError} and leave the list unchanged on failure.
 * - Lookups (`get`, `getAll`, `has`, `delete`) with a name that is not a token find nothing
 *   rather than throw, since no such field can be stored.
 *
 * Storage is three parallel arrays (names as given, lowercase keys, values): header sections
 * are small, so a linear scan beats hashing.
 */
export class Headers {
  #names: string[] = [];
  #keys: string[] = [];
  #values: string[] = [];

  /** Builds a list from `init` (see {@link HeadersInit}), validating every field. */
  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      this.#names = init.#names.slice();
      this.#keys = init.#keys.slice();
      this.#values = init.#values.slice();
      return;
    }
    const Whatwg = globalThis.Headers;
    if (typeof Whatwg === 'function' && init instanceof Whatwg) {
      this.#appendWhatwg(init);
      return;
    }
    if (typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, HeaderValue]>) {
        if (pair === null || typeof pair !== 'object' || pair.length !== 2) {
          throw new InvalidHeaderError(
            'AVX_INVALID_HEADER_NAME',
            String((pair as readonly unknown[] | null)?.[0]),
            'each header pair must be a [name, value] array of exactly two elements',
          );
        }
        this.append(pair[0], pair[1]);
      }
      return;
    }
    const record = init as Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>;
    for (const name of Object.keys(record)) {
      const value = record[name];
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        for (const item of value as readonly HeaderValue[]) this.append(name, item);
      } else {
        this.append(name, value as HeaderValue);
      }
    }
  }

  /**
   * Builds a list from `[name0, value0, name1, value1, ...]`, the shape the HTTP/1.1 parser
   * produces. Validates and trims unless `options.trusted` is set (default false). Throws
   * {@link InvalidHeaderError} when the array has odd length.
   */
  static fromFlat(flat: readonly string[], options?: HeadersFromFlatOptions): Headers {
    const n = flat.length;
    if ((n & 1) !== 0) {
      throw new InvalidHeaderError(
        'AVX_INVALID_HEADER_VALUE',
        String(flat[n - 1]),
        'flat header list has odd length: the last name has no value',
      );
    }
    const headers = new Headers();
    if (options?.trusted === true) {
      const names = headers.#names;
      const keys = headers.#keys;
      const values = headers.#values;
      for (let i = 0; i < n; i += 2) {
        const name = flat[i]!;
        names.push(name);
        keys.push(COMMON_KEYS.get(name) ?? name.toLowerCase());
        values.push(flat[i + 1]!);
      }
    } else {
      for (let i = 0; i < n; i += 2) headers.append(flat[i]!, flat[i + 1]!);
    }
    return headers;
  }

  /** Number of field lines (a repeated name counts once per line). */
  get size(): number {
    return this.#names.length;
  }

  /** Adds a field line at the end, keeping any existing lines of the same name. Returns `this`. */
  append(name: string, value: HeaderValue): this {
    const key = keyForStore(name);
    const normalized = normalizeHeaderValue(name, value);
    this.#names.push(name);
    this.#keys.push(key);
    this.#values.push(normalized);
    return this;
  }

  /**
   * Replaces every line named `name` (any case) with one line `name: value` at the position
   * of the first of them, or appends when there is none. Returns `this`.
   */
  set(name: string, value: HeaderValue): this {
    const key = keyForStore(name);
    const normalized = normalizeHeaderValue(name, value);
    const names = this.#names;
    const keys = this.#keys;
    const values = this.#values;
    const n = keys.length;
    let first = -1;
    let write = 0;
    for (let read = 0; read < n; read++) {
      if (keys[read] === key) {
        if (first !== -1) continue; // a later duplicate: drop it
        first = write;
      }
      if (write !== read) {
        names[write] = names[read]!;
        keys[write] = keys[read]!;
        values[write] = values[read]!;
      }
      write++;
    }
    if (first === -1) {
      names.push(name);
      keys.push(key);
      values.push(normalized);
    } else {
      names[first] = name;
      values[first] = normalized;
      names.length = write;
      keys.length = write;
      values.length = write;
    }
    return this;
  }

  /**
   * The values of every line named `name`, joined with ', ' (RFC 9110 §5.3), or `undefined`
   * when there is none. For `Set-Cookie` use {@link Headers.getSetCookie} instead.
   */
  get(name: string): string | undefined {
    const key = keyForLookup(name);
    return key === undefined ? undefined : this.getLowercase(key);
  }

  /**
   * @internal The lowercase keys, parallel to {@link rawValues}, for internal readers that
   * look up several fields in one scan (tracing's span facts). Read only.
   */
  get rawKeys(): readonly string[] {
    return this.#keys;
  }

  /** @internal The values, parallel to {@link rawKeys}. Read only. */
  get rawValues(): readonly string[] {
    return this.#values;
  }

  /**
   * {@link get} for a name already in lowercase (`'user-agent'`), without normalizing it first:
   * for lookups on every request, such as the server's own instruments.
   */
  getLowercase(key: string): string | undefined {
    const keys = this.#keys;
    const values = this.#values;
    let result: string | undefined;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) result = result === undefined ? values[i]! : `${result}, ${values[i]!}`;
    }
    return result;
  }

  /** The values of every line named `name`, in order; empty when there is none. */
  getAll(name: string): string[] {
    const key = keyForLookup(name);
    return key === undefined ? [] : this.#valuesOf(key);
  }

  /** The `Set-Cookie` values as separate strings, in order (RFC 6265 §3: never combine them). */
  getSetCookie(): string[] {
    return this.#valuesOf(SET_COOKIE);
  }

  /** True when at least one line is named `name` (any case). */
  has(name: string): boolean {
    const key = keyForLookup(name);
    return key !== undefined && this.#keys.includes(key);
  }

  /** Removes every line named `name` (any case). Returns true when something was removed. */
  delete(name: string): boolean {
    const key = keyForLookup(name);
    if (key === undefined) return false;
    const names = this.#names;
    const keys = this.#keys;
    const values = this.#values;
    const n = keys.length;
    let write = 0;
    for (let read = 0; read < n; read++) {
      if (keys[read] === key) continue;
      if (write !== read) {
        names[write] = names[read]!;
        keys[write] = keys[read]!;
        values[write] = values[read]!;
      }
      write++;
    }
    if (write === n) return false;
    names.length = write;
    keys.length = write;
    values.length = write;
    return true;
  }

  /**
   * The name, as given, of the field line at `index` (0 <= index < size), or `undefined`
   * outside that range. With {@link Headers.valueAt}, lets serializers walk the lines without
   * an iterator.
   */
  nameAt(index: number): string | undefined {
    return this.#names[index];
  }

  /** The value of the field line at `index` (0 <= index < size), or `undefined` outside it. */
  valueAt(index: number): string | undefined {
    return this.#values[index];
  }

  /** `[name, value]` for every field line in order, names as given. */
  *entries(): IterableIterator<[string, string]> {
    const names = this.#names;
    const values = this.#values;
    for (let i = 0; i < names.length; i++) yield [names[i]!, values[i]!];
  }

  /** Same as {@link Headers.entries}. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** The name, as given, of every field line in order (repeated names repeat). */
  *keys(): IterableIterator<string> {
    const names = this.#names;
    for (let i = 0; i < names.length; i++) yield names[i]!;
  }

  /** The value of every field line in order. */
  *values(): IterableIterator<string> {
    const values = this.#values;
    for (let i = 0; i < values.length; i++) yield values[i]!;
  }

  /** Calls `callback(value, name, this)` for every field line in order, names as given. */
  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    const names = this.#names;
    const values = this.#values;
    for (let i = 0; i < names.length; i++) callback.call(thisArg, values[i]!, names[i]!, this);
  }

  /** `[name0, value0, name1, value1, ...]` in order, names as given: the inverse of `fromFlat`. */
  toFlat(): string[] {
    const names = this.#names;
    const values = this.#values;
    const n = names.length;
    const flat = new Array<string>(n * 2);
    for (let i = 0; i < n; i++) {
      flat[2 * i] = names[i]!;
      flat[2 * i + 1] = values[i]!;
    }
    return flat;
  }

  /**
   * A plain object with lowercase names, in first-appearance order: repeated values joined
   * with ', ', except `set-cookie`, which is always an array of the separate values. The object
   * has a null prototype, so a field named `__proto__` is an ordinary property.
   */
  toObject(): Record<string, string | string[]> {
    const result: Record<string, string | string[]> = Object.create(null);
    const keys = this.#keys;
    const values = this.#values;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const value = values[i]!;
      const existing = result[key];
      if (key === SET_COOKIE) {
        if (existing === undefined) result[key] = [value];
        else (existing as string[]).push(value);
      } else {
        result[key] = existing === undefined ? value : `${existing as string}, ${value}`;
      }
    }
    return result;
  }

  #valuesOf(key: string): string[] {
    const keys = this.#keys;
    const values = this.#values;
    const result: string[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) result.push(values[i]!);
    return result;
  }

  /**
   * Copies a WHATWG `Headers`. Its iteration yields lowercase names, repeated values already
   * combined (except Set-Cookie, which current implementations yield separately); `getSetCookie`
   * is preferred for Set-Cookie where it exists so older implementations are handled too.
   */
  #appendWhatwg(init: globalThis.Headers): void {
    const cookies = typeof init.getSetCookie === 'function' ? init.getSetCookie() : undefined;
    let cookiesAdded = false;
    for (const [name, value] of init) {
      if (name === SET_COOKIE && cookies !== undefined) {
        if (!cookiesAdded) {
          for (const cookie of cookies) this.append(SET_COOKIE, cookie);
          cookiesAdded = true;
        }
        continue;
      }
      this.append(name, value);
    }
  }
}
