/**
 * Pieces the HTTP/2 and HTTP/3 server drivers both need when they write a response: its
 * trailer field list (RFC 9110 §6.5) without the fields the protocol forbids (RFC 9113 §8.2.2,
 * RFC 9114 §4.2), and a body chunk as a Buffer without a copy. (Whether a body streams, and
 * letting go of one, are response.ts's `isStreamBody` and `closeStreamBody`.)
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
