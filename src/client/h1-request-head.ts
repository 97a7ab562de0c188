/**
 * Encodes the head of an HTTP/1.1 request as the client sends it: the request-line (RFC 9112 §3),
 * `Host` first (RFC 9110 §7.2), the caller's fields, then the framing the client decides
 * (Content-Length per RFC 9110 §8.6, or `Transfer-Encoding: chunked` per RFC 9112 §6.1) and the
 * empty line (RFC 9112 §2.1). The caller's own Content-Length / Transfer-Encoding are dropped,
 * since the body's framing is the client's business and a mismatch would desynchronise the
 * connection (RFC 9112 §11.2).
 *
 * Inputs are trusted: the method was validated when the request was made, the target comes from
 * a WHATWG URL (which percent-encodes whitespace and controls), and the fields are a
 * {@link Headers}, which validates on every insertion. So this is one string concatenation pass,
 * written as a latin1 string with no intermediate Buffer.
 */
import type { Headers } from '../core/headers.js';
import type { RequestBody } from './request-body.js';

/** Methods whose requests carry content by definition: they get `content-length: 0` when bodiless. */
function definesContent(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/** True when `name` is `lower` ignoring ASCII case (`lower` is lowercase letters and '-'). */
function sameName(name: string, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c !== lower.charCodeAt(i) && (c | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** What {@link encodeRequestHead} learned about the caller's fields. */
export const HeadFlags = {
  /** The caller asked for `Connection: close`. */
  ConnectionClose: 1,
} as const;

/** Reusable out-parameter of {@link encodeRequestHead}, so no result object is allocated. */
export interface RequestHeadInfo {
  flags: number;
}

/**
 * The request head as a latin1 string.
 *
 * @param host The Host field value (authority of the target URI).
 * @param extraLines Pre-encoded field lines to append (proxy credentials), or ''.
 * @param info Receives {@link HeadFlags}.
 */
export function encodeRequestHead(
  method: string,
  target: string,
  host: string,
  headers: Headers,
  body: RequestBody | null,
  extraLines: string,
  info: RequestHeadInfo,
): string {
  let fields = '';
  let hasHost = false;
  let hasContentType = false;
  let flags = 0;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.nameAt(i)!;
    const value = headers.valueAt(i)!;
    switch (name.length) {
      case 4:
        if (sameName(name, 'host')) hasHost = true;
        break;
      case 10:
        if (sameName(name, 'connection')) {
          // RFC 9112 §9.6: the caller may close after this exchange.
          if (value.toLowerCase().includes('close')) flags |= HeadFlags.ConnectionClose;
        }
        break;
      case 12:
        if (sameName(name, 'content-type')) hasContentType = true;
        break;
      case 14:
        if (sameName(name, 'content-length')) continue;
        break;
      case 17:
        if (sameName(name, 'transfer-encoding')) continue;
        break;
    }
    fields += `${name}: ${value}\r\n`;
  }
  info.flags = flags;
  let head = hasHost
    ? `${method} ${target} HTTP/1.1\r\n`
    : `${method} ${target} HTTP/1.1\r\nhost: ${host}\r\n`;
  head += fields;
  if (body !== null) {
    if (body.contentType !== undefined && !hasContentType) head += `content-type: ${body.contentType}\r\n`;
    head += body.length >= 0 ? `content-length: ${body.length}\r\n` : 'transfer-encoding: chunked\r\n';
  } else if (definesContent(method)) {
    head += 'content-length: 0\r\n';
  }
  return `${head}${extraLines}\r\n`;
}
