/**
 * Interned spellings of common header field names, and the classification of the names that
 * change how a message is framed (RFC 9112 §6) or are counted (Host, RFC 9112 §3.2). Interning
 * lets the parser hand out the same string for `Host` on every request instead of allocating
 * one, and makes later comparisons against those names pointer-cheap.
 */
import { Buffer } from 'node:buffer';

/** Header names the HTTP/1.1 parser acts on. */
export const enum HeaderKind {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  Upgrade,
  Expect,
  /** Counted: a request needs exactly one (RFC 9112 §3.2). */
  Host,
}

/** Common names in their usual spelling; each is also interned in lower case. */
const COMMON_NAMES = [
  'Host',
  'User-Agent',
  'Accept',
  'Accept-Language',
  'Accept-Encoding',
  'Accept-Charset',
  'Accept-Ranges',
  'Referer',
  'Cookie',
  'Set-Cookie',
  'Connection',
  'Keep-Alive',
  'Upgrade',
  'Upgrade-Insecure-Requests',
  'Cache-Control',
  'Pragma',
  'Content-Type',
  'Content-Length',
  'Content-Encoding',
  'Content-Language',
  'Content-Disposition',
  'Content-Range',
  'Transfer-Encoding',
  'Date',
  'Server',
  'ETag',
  'Last-Modified',
  'If-Modified-Since',
  'If-None-Match',
  'If-Match',
  'If-Range',
  'Range',
  'Expires',
  'Location',
  'Authorization',
  'Origin',
  'Vary',
  'Via',
  'X-Forwarded-For',
  'X-Forwarded-Proto',
  'X-Forwarded-Host',
  'X-Requested-With',
  'X-Request-Id',
  'Sec-Fetch-Site',
  'Sec-Fetch-Mode',
  'Sec-Fetch-User',
  'Sec-Fetch-Dest',
  'Sec-Ch-Ua',
  'Sec-Ch-Ua-Mobile',
  'Sec-Ch-Ua-Platform',
  'DNT',
  'TE',
  'Trailer',
  'Expect',
  'Allow',
  'Age',
  'Link',
  'Access-Control-Allow-Origin',
  'Access-Control-Request-Method',
  'Access-Control-Request-Headers',
  'Strict-Transport-Security',
  'traceparent',
  'tracestate',
  'Priority',
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Version',
  'Sec-WebSocket-Extensions',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Accept',
  'Alt-Svc',
  'WWW-Authenticate',
  'Proxy-Authorization',
];

/** Interned spellings, indexed by the numbers {@link findCommonHeaderName} returns. */
export const COMMON_HEADER_NAMES: string[] = [];
/** The {@link HeaderKind} of each entry of {@link COMMON_HEADER_NAMES}. */
export const COMMON_HEADER_KINDS: HeaderKind[] = [];

/**
 * Candidates by (length, first byte), so a lookup compares at most a couple of names. Each
 * spelling is kept as little-endian 32-bit words at offsets 0, 4, 8, ... with the last word
 * overlapping the previous one so that it ends exactly at the name's end; a match is then a
 * few word comparisons instead of one per byte.
 */
const candidates: number[][] = [];
const spellingWords: Int32Array[] = [];
const spellingBytes: Buffer[] = [];
const byString = new Map<string, string>();
const MAX_INTERNED_LENGTH = 64;

for (const canonical of COMMON_NAMES) {
  for (const name of new Set([canonical, canonical.toLowerCase()])) {
    const index = COMMON_HEADER_NAMES.length;
    const bytes = Buffer.from(name, 'latin1');
    const len = bytes.length;
    COMMON_HEADER_NAMES.push(name);
    COMMON_HEADER_KINDS.push(classifyHeaderName(name));
    spellingBytes.push(bytes);
    const words = new Int32Array(len >= 4 ? Math.ceil(len / 4) : 0);
    for (let q = 0; q < words.length; q++) words[q] = bytes.readInt32LE(Math.min(q * 4, len - 4));
    spellingWords.push(words);
    const key = (len << 8) | bytes[0];
    const bucket = candidates[key] ?? [];
    bucket.push(index);
    candidates[key] = bucket;
    byString.set(name, name);
  }
}

/**
 * For each entry of {@link COMMON_HEADER_NAMES}: the parser's slot for reusing the previous
 * message's value string when the bytes repeat (0 Host, 1 User-Agent), or -1. These two are
 * the same on nearly every request of a connection and are compared by what reads them
 * (virtual hosts, tracing's span facts); one string object makes those compares a pointer
 * check, where two equal strings cut from different heads compare in the runtime.
 */
export const COMMON_HEADER_REPEAT_SLOTS: Int8Array = new Int8Array(COMMON_HEADER_NAMES.length).map((_, i) => {
  const lower = COMMON_HEADER_NAMES[i]!.toLowerCase();
  return lower === 'host' ? 0 : lower === 'user-agent' ? 1 : -1;
});
/** How many slots {@link COMMON_HEADER_REPEAT_SLOTS} uses. */
export const REPEAT_SLOT_COUNT = 2;

/**
 * The index in {@link COMMON_HEADER_NAMES} of the name in `buf[start, end)` when it is one of
 * the interned spellings (compared byte for byte, case included), else -1. `view` is a
 * DataView over the same bytes as `buf`.
 */
export function findCommonHeaderName(buf: Uint8Array, view: DataView, start: number, end: number): number {
  const len = end - start;
  if (len >= MAX_INTERNED_LENGTH || len === 0) return -1;
  const bucket = candidates[(len << 8) | buf[start]];
  if (bucket === undefined) return -1;
  for (let k = 0; k < bucket.length; k++) {
    const index = bucket[k];
    if (len < 4) {
      const bytes = spellingBytes[index];
      let j = 1;
      while (j < len && bytes[j] === buf[start + j]) j++;
      if (j === len) return index;
      continue;
    }
    const words = spellingWords[index];
    const last = words.length - 1;
    let q = 0;
    while (q < last && view.getInt32(start + q * 4, true) === words[q]) q++;
    if (q === last && view.getInt32(end - 4, true) === words[last]) return index;
  }
  return -1;
}

/** Byte length of each entry of {@link COMMON_HEADER_NAMES}. */
export const COMMON_HEADER_LENGTHS: number[] = COMMON_HEADER_NAMES.map((name) => name.length);

/**
 * Candidates by a hash of their first four bytes, for {@link matchCommonHeaderName}: the
 * parser can recognise a common name, and so its length, without first scanning for the colon.
 */
const PREFIX_BUCKETS = 1024;
const byPrefix: number[][] = Array.from({ length: PREFIX_BUCKETS }, () => []);
const prefixHash = (word: number) => (word ^ (word >>> 13) ^ (word >>> 22)) & (PREFIX_BUCKETS - 1);
for (let index = 0; index < COMMON_HEADER_NAMES.length; index++) {
  const bytes = spellingBytes[index];
  if (bytes.length >= 4) byPrefix[prefixHash(bytes.readInt32LE(0))].push(index);
}

/**
 * The index of the common spelling that `buf` holds at `start` followed by a colon, or -1.
 * Reads no further than `limit` (exclusive), which must be at least `start + 4`.
 */
export function matchCommonHeaderName(buf: Uint8Array, view: DataView, start: number, limit: number): number {
  const bucket = byPrefix[prefixHash(view.getInt32(start, true))];
  for (let k = 0; k < bucket.length; k++) {
    const index = bucket[k];
    const end = start + COMMON_HEADER_LENGTHS[index];
    if (end >= limit || buf[end] !== 0x3a) continue;
    const words = spellingWords[index];
    const last = words.length - 1;
    let q = 0;
    while (q < last && view.getInt32(start + q * 4, true) === words[q]) q++;
    if (q === last && view.getInt32(end - 4, true) === words[last]) return index;
  }
  return -1;
}

/** `name`, replaced by its interned copy when it is a common spelling. */
export function internHeaderNameString(name: string): string {
  return byString.get(name) ?? name;
}

/** Which field the parser acts on `name` is, case-insensitively (RFC 9110 §5.1). */
export function classifyHeaderName(name: string): HeaderKind {
  const len = name.length;
  if (len !== 14 && len !== 17 && len !== 10 && len !== 7 && len !== 6 && len !== 4) return HeaderKind.Other;
  switch (name.toLowerCase()) {
    case 'host':
      return HeaderKind.Host;
    case 'content-length':
      return HeaderKind.ContentLength;
    case 'transfer-encoding':
      return HeaderKind.TransferEncoding;
    case 'connection':
      return HeaderKind.Connection;
    case 'upgrade':
      return HeaderKind.Upgrade;
    case 'expect':
      return HeaderKind.Expect;
    default:
      return HeaderKind.Other;
  }
}
