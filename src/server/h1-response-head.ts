/**
 * Building HTTP/1.1 response heads as latin1 strings (RFC 9112 §4, §6): the status line from a
 * cache, the application's fields, then the framing fields the driver decides (Date,
 * Content-Length or Transfer-Encoding, Connection). Field names and values were validated when
 * they were put into `Headers`, so nothing here can inject a line.
 */
import type { Headers } from '../core/headers.js';
import { reasonPhrase } from '../core/status.js';
import { httpDate } from '../runtime/http-date.js';

const statusLines = new Map<number, string>();

/** `HTTP/1.1 <status> <reason>` CRLF, cached per status for registered phrases. */
export function statusLine(status: number, statusText: string | undefined): string {
  if (statusText !== undefined) return `HTTP/1.1 ${status} ${sanitizeReason(statusText)}\r\n`;
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

/** A reason phrase may not contain CR or LF (RFC 9112 §4); anything else outside VCHAR is dropped. */
function sanitizeReason(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff)) out += text[i];
  }
  return out;
}

/** Field names whose value the driver owns: the application's copies are dropped. */
function isFramingField(key: string): boolean {
  // Compared on the lowercase key Headers keeps.
  return key === 'content-length' || key === 'transfer-encoding' || key === 'connection' || key === 'date';
}

/** What the application's header fields said about framing. */
export interface AppFieldsSummary {
  /** The fields as `name: value` CRLF lines. */
  lines: string;
  /** The application set `Connection: close`. */
  close: boolean;
  /** The application set a Date of its own. */
  hasDate: boolean;
  /** The application's Content-Length, or -1. */
  contentLength: number;
}

const summary: AppFieldsSummary = { lines: '', close: false, hasDate: false, contentLength: -1 };

/**
 * Serializes the application's fields, minus the framing fields, and reports what they said.
 * Returns a shared object: read it before the next call.
 */
export function appFields(headers: Headers): AppFieldsSummary {
  let lines = '';
  let close = false;
  let hasDate = false;
  let contentLength = -1;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.nameAt(i)!;
    const value = headers.valueAt(i)!;
    const key =
      name.length === 4 || name.length === 10 || name.length === 14 || name.length === 17
        ? name.toLowerCase()
        : '';
    if (key !== '' && isFramingField(key)) {
      if (key === 'connection' && value.toLowerCase().includes('close')) close = true;
      else if (key === 'date') {
        hasDate = true;
        lines += `${name}: ${value}\r\n`;
      } else if (key === 'content-length') {
        const parsed = Number(value);
        if (Number.isSafeInteger(parsed) && parsed >= 0) contentLength = parsed;
      }
      continue;
    }
    lines += `${name}: ${value}\r\n`;
  }
  summary.lines = lines;
  summary.close = close;
  summary.hasDate = hasDate;
  summary.contentLength = contentLength;
  return summary;
}

/** `Date: <IMF-fixdate>` CRLF for now (cached per second). */
export function dateLine(): string {
  return `Date: ${httpDate()}\r\n`;
}
