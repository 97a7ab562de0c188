/**
 * The HPACK static table (RFC 7541 §2.3.1, Appendix A): 61 predefined fields, indices 1..61,
 * with lookup maps for the encoder (exact field, then name only).
 */

/** RFC 7541 Appendix A, in index order (entry i is index i + 1). */
export const HPACK_STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** Number of static entries; dynamic indices start after it (RFC 7541 §2.3.3). */
export const HPACK_STATIC_COUNT = 61;

/** `name` -> lowest static index with that name. */
export const HPACK_STATIC_NAME_INDEX: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  HPACK_STATIC_TABLE.forEach(([name], i) => {
    if (!map.has(name)) map.set(name, i + 1);
  });
  return map;
})();

/** `name + '\0' + value` -> static index, for entries with a value. */
export const HPACK_STATIC_FIELD_INDEX: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  HPACK_STATIC_TABLE.forEach(([name, value], i) => {
    if (value !== '') map.set(`${name}\0${value}`, i + 1);
  });
  return map;
})();
