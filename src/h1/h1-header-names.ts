/**
 * Interned spellings of common header field names, and the classification of the names that
 * change how a message is framed (RFC 9112 §6). Interning lets the parser hand out the same
 * string for `Host` on every request instead of allocating one, and makes later comparisons
 * against those names pointer-cheap.
 */
import { latin1 } from '../core/latin1.js';

/** Header names the HTTP/1.1 parser acts on. */
export enum HeaderKind {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  Upgrade,
  Expect,
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

interface InternedName {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** Candidates by byte length, so a lookup compares only names of the right size. */
const byLength: InternedName[][] = [];
const byString = new Map<string, string>();

for (const canonical of COMMON_NAMES) {
  for (const name of new Set([canonical, canonical.toLowerCase()])) {
    const bucket = byLength[name.length] ?? [];
    bucket.push({ bytes: Buffer.from(name, 'latin1'), name });
    byLength[name.length] = bucket;
    byString.set(name, name);
  }
}

/** The name in `buf[start, end)` as a string, interned when it is a common spelling. */
export function internHeaderName(buf: Buffer, start: number, end: number): string {
  const bucket = byLength[end - start];
  if (bucket !== undefined) {
    const first = buf[start];
    for (let k = 0; k < bucket.length; k++) {
      const bytes = bucket[k].bytes;
      if (bytes[0] !== first) continue;
      let j = 1;
      const len = bytes.length;
      while (j < len && bytes[j] === buf[start + j]) j++;
      if (j === len) return bucket[k].name;
    }
  }
  return latin1(buf, start, end);
}

/** `name`, replaced by its interned copy when it is a common spelling. */
export function internHeaderNameString(name: string): string {
  return byString.get(name) ?? name;
}

const kinds = new Map<string, HeaderKind>();
for (const [name, kind] of [
  ['content-length', HeaderKind.ContentLength],
  ['transfer-encoding', HeaderKind.TransferEncoding],
  ['connection', HeaderKind.Connection],
  ['upgrade', HeaderKind.Upgrade],
  ['expect', HeaderKind.Expect],
] as const) {
  kinds.set(name, kind);
}

/** Which framing-relevant field `name` is, case-insensitively (RFC 9110 §5.1). */
export function classifyHeaderName(name: string): HeaderKind {
  const len = name.length;
  if (len !== 14 && len !== 17 && len !== 10 && len !== 7 && len !== 6) return HeaderKind.Other;
  const exact = kinds.get(name);
  if (exact !== undefined) return exact;
  return kinds.get(name.toLowerCase()) ?? HeaderKind.Other;
}
