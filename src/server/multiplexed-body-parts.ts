/**
 * Pieces the HTTP/2 and HTTP/3 server drivers both need when they write a response: its
 * trailer field list (RFC 9110 §6.5) without the fields the protocol forbids (RFC 9113 §8.2.2,
 * RFC 9114 §4.2), a body chunk as a Buffer without a copy, whether a body streams, and how a
 * streamed body that will not be sent is let go.
 */
import { Buffer } from 'node:buffer';
import type { Headers } from '../core/headers.js';

/** `[name0, value0, ...]` of `trailers`, names lowercased, without those in `dropped`. */
export function trailerFieldList(trailers: Headers, dropped: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < trailers.size; i++) {
    const name = trailers.nameAt(i)!.toLowerCase();
    if (!dropped.has(name)) out.push(name, trailers.valueAt(i)!);
  }
  return out;
}

/** `bytes` as a Buffer over the same memory. */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True for a body that streams (an async iterable of chunks). */
export function isAsyncIterable(value: object): value is AsyncIterable<Uint8Array | string> {
  return typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Lets go of a streamed body that will not be sent (its iterator's `return`); other values are ignored. */
export function closeIterable(body: unknown): void {
  if (typeof body !== 'object' || body === null || !isAsyncIterable(body)) return;
  const iterator = body[Symbol.asyncIterator]();
  iterator.return?.()?.catch(() => {});
}
