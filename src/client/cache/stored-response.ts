/**
 * A stored response (RFC 9111 §3): the record the cache keeps for one response, and the rules
 * that act on it without consulting freshness: which header fields are not stored (§3.1),
 * matching the secondary key of `Vary` (§4.1), updating the stored header fields from a 304
 * (§3.2, §4.3.4), and turning the record back into a {@link ClientResponse}.
 *
 * The record is plain data (numbers, strings, a Buffer) so that a custom {@link CacheStore} can
 * serialise it.
 */
import type { Buffer } from 'node:buffer';
import { Headers } from '../../core/headers.js';
import { IncomingBody } from '../../core/incoming-body.js';
import { ClientResponse } from '../client-response.js';

/** One stored response: the final response to a GET, with what the cache needs to reuse it. */
export interface StoredResponse {
  /** Status code. */
  status: number;
  /** Reason phrase as received (may be empty). */
  statusText: string;
  /** Header fields as a flat `[name, value, ...]` list, connection-specific fields removed (§3.1). */
  headers: string[];
  /** The whole content, as the caller received it. */
  body: Buffer;
  /** The URL the response came from. */
  url: string;
  /** Protocol version it arrived over, e.g. `'1.1'`. */
  httpVersion: string;
  /** When the request was sent, in ms since the epoch (`request_time`, RFC 9111 §4.2.3). */
  requestTime: number;
  /** When the response head arrived, in ms since the epoch (`response_time`, RFC 9111 §4.2.3). */
  responseTime: number;
  /**
   * The secondary key (RFC 9111 §4.1): for each field named by `Vary` (lower case), its
   * normalised value in the request that caused the response, or null when it was absent.
   */
  vary: Record<string, string | null>;
}

/** Fields never stored (RFC 9111 §3.1): hop-by-hop, and Connection's own list is added per response. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
]);

/** Fields a 304 must not overwrite (RFC 9111 §3.2): Content-Length describes the stored content. */
const NOT_UPDATED = new Set(['content-length']);

/** The header fields of `headers` worth storing, flat (RFC 9111 §3.1). */
export function storableHeaderFields(headers: Headers): string[] {
  const skip = new Set(HOP_BY_HOP);
  for (const line of headers.getAll('connection')) {
    for (const name of line.split(',')) skip.add(name.trim().toLowerCase());
  }
  const flat = headers.toFlat();
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (!skip.has(flat[i]!.toLowerCase())) out.push(flat[i]!, flat[i + 1]!);
  }
  return out;
}

/** The field names listed by Vary, lower case; `['*']` when any member is `*`. */
export function varyFieldNames(headers: Headers): string[] {
  const names: string[] = [];
  for (const line of headers.getAll('vary')) {
    for (const part of line.split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '*') return ['*'];
      if (name !== '' && !names.includes(name)) names.push(name);
    }
  }
  return names;
}

/**
 * A request field's value normalised for Vary matching (RFC 9111 §4.1: field lines combined,
 * whitespace around list separators removed), or null when the request has no such field.
 */
export function varyValue(request: Headers, name: string): string | null {
  const lines = request.getAll(name);
  if (lines.length === 0) return null;
  return lines
    .join(',')
    .split(',')
    .map((part) => part.trim())
    .join(',');
}

/** The secondary key of a response to `request`, given the response's Vary names. */
export function secondaryKey(request: Headers, varyNames: readonly string[]): Record<string, string | null> {
  const key: Record<string, string | null> = {};
  for (const name of varyNames) key[name] = varyValue(request, name);
  return key;
}

/**
 * RFC 9111 §4.1: a stored response matches a presented request when every field its Vary names
 * has the same normalised value in both (absent matches only absent). `Vary: *` never matches.
 */
export function matchesVary(stored: StoredResponse, request: Headers): boolean {
  for (const name of Object.keys(stored.vary)) {
    if (name === '*') return false;
    if (stored.vary[name] !== varyValue(request, name)) return false;
  }
  return true;
}

/**
 * RFC 9111 §4.3.4 and §3.2: the stored header fields updated from a 304 (or a HEAD response):
 * every field the new response carries replaces all stored lines of that name, except
 * Content-Length and hop-by-hop fields.
 */
export function updatedHeaderFields(stored: readonly string[], fresh: Headers): string[] {
  const incoming = storableHeaderFields(fresh);
  const replaced = new Set<string>();
  for (let i = 0; i < incoming.length; i += 2) {
    const key = incoming[i]!.toLowerCase();
    if (!NOT_UPDATED.has(key)) replaced.add(key);
  }
  const out: string[] = [];
  for (let i = 0; i < stored.length; i += 2) {
    if (!replaced.has(stored[i]!.toLowerCase())) out.push(stored[i]!, stored[i + 1]!);
  }
  for (let i = 0; i < incoming.length; i += 2) {
    if (replaced.has(incoming[i]!.toLowerCase())) out.push(incoming[i]!, incoming[i + 1]!);
  }
  return out;
}

/** Approximate memory taken by a stored response, in bytes (body plus header text plus a fixed overhead). */
export function storedSize(entry: StoredResponse): number {
  let size = 256 + entry.body.length + entry.url.length;
  for (const field of entry.headers) size += field.length;
  return size;
}

/**
 * A {@link ClientResponse} built from a stored response: its header fields (plus `extra`
 * fields, which replace same-named ones) and, unless `withBody` is false (HEAD), its body.
 */
export function responseFromStored(
  entry: StoredResponse,
  status: number,
  extra: Readonly<Record<string, string>>,
  withBody: boolean,
): ClientResponse {
  const headers = Headers.fromFlat(entry.headers, { trusted: true });
  for (const name of Object.keys(extra)) headers.set(name, extra[name]!);
  const body = withBody && entry.body.length > 0 ? IncomingBody.of(entry.body) : IncomingBody.empty();
  return new ClientResponse(status, entry.statusText, headers, body, entry.url, entry.httpVersion);
}
