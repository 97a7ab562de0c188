/**
 * The decompression policy: asks for compressed responses (`Accept-Encoding`, RFC 9110 §12.5.3)
 * and decodes the content codings gzip (RFC 1952), deflate (zlib, RFC 1950, and the raw RFC 1951
 * stream some servers send instead) and br (RFC 7932) as the body streams in (RFC 9110 §8.4:
 * codings listed in the order applied, so they are undone last first). Unknown codings are left
 * alone. The decoded body keeps backpressure: a slow reader pauses the decoder, which pauses the
 * connection. The Content-Encoding and Content-Length fields are kept as received, as fetch does.
 */
import type { Transform } from 'node:stream';
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  constants as zlibConstants,
} from 'node:zlib';
import { IncomingBody } from '../core/incoming-body.js';
import { DecompressionError } from './client-errors.js';
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './client-response.js';
import type { Dispatch, DispatchMiddleware } from './dispatch.js';

/** Settings of the decompression policy. */
export interface DecompressionOptions {
  /** Decode responses unless a request says otherwise. Default true. */
  enabled?: boolean;
  /** Accept-Encoding sent when the request has none. Default `'gzip, deflate, br'`. */
  acceptEncoding?: string;
  /** Largest decoded body, in bytes (guards against decompression bombs). Default Infinity. */
  maxDecodedBytes?: number;
}

const SUPPORTED = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/** The codings of a Content-Encoding value, in the order they were applied; undefined when one is unknown. */
export function parseContentCodings(value: string): string[] | undefined {
  const codings: string[] = [];
  for (const part of value.split(',')) {
    const coding = part.trim().toLowerCase();
    if (coding === '' || coding === 'identity') continue;
    if (!SUPPORTED.has(coding)) return undefined;
    codings.push(coding);
  }
  return codings;
}

function decoderFor(coding: string, firstByte: number): Transform {
  // Lenient flushing: a body cut short still yields what was decoded (as browsers do).
  const flush = { flush: zlibConstants.Z_SYNC_FLUSH, finishFlush: zlibConstants.Z_SYNC_FLUSH };
  switch (coding) {
    case 'br':
      return createBrotliDecompress({
        flush: zlibConstants.BROTLI_OPERATION_FLUSH,
        finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH,
      });
    case 'deflate':
      // RFC 1950 §2.2: a zlib stream starts with CM = 8 in the low nibble; anything else is raw.
      return (firstByte & 0x0f) === 0x08 ? createInflate(flush) : createInflateRaw(flush);
    default:
      return createGunzip(flush);
  }
}

/** A body that decodes `source` through `codings` (in applied order) as it is read. */
export function decodedBody(
  source: IncomingBody,
  codings: readonly string[],
  origin: string,
  limit: number,
): IncomingBody {
  let head: Transform | undefined;
  let tail: Transform | undefined;
  const out = new IncomingBody({
    limit,
    source: {
      pause: () => tail?.pause(),
      resume: () => tail?.resume(),
      abandon: (reason) => {
        tail?.destroy();
        head?.destroy();
        source.cancel(reason);
      },
    },
  });
  const label = codings.join(', ');
  const fail = (err: unknown) => {
    out.fail(new DecompressionError(origin, label, err));
    head?.destroy();
    source.cancel(err instanceof Error ? err : new Error(String(err)));
  };
  const build = (firstByte: number) => {
    const stages: Transform[] = [];
    for (let i = codings.length - 1; i >= 0; i--)
      stages.push(decoderFor(codings[i]!, i === codings.length - 1 ? firstByte : 0x78));
    for (let i = 0; i < stages.length - 1; i++) stages[i]!.pipe(stages[i + 1]!);
    for (const s of stages) s.on('error', fail);
    head = stages[0];
    tail = stages[stages.length - 1];
    tail!.on('data', (chunk: Buffer) => {
      if (!out.push(chunk)) head?.destroy();
    });
    tail!.on('end', () => out.end(source.trailers));
  };
  const pump = async () => {
    try {
      for await (const chunk of source) {
        if (out.settled) return;
        if (head === undefined) build(chunk[0] ?? 0);
        if (!head!.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              head!.off('drain', done);
              head!.off('close', done);
              resolve();
            };
            head!.on('drain', done);
            head!.on('close', done);
          });
        }
      }
      if (head === undefined) {
        out.end(source.trailers); // empty body: nothing to decode
        return;
      }
      head.end();
    } catch (err) {
      if (!out.settled) out.fail(err as Error);
      head?.destroy();
    }
  };
  void pump();
  return out;
}

function decode(response: ClientResponse, limit: number): ClientResponse {
  const encoding = response.headers.get('content-encoding');
  if (encoding === undefined) return response;
  const body = response.body;
  // HEAD, 204 and 304 responses arrive complete and empty: nothing to decode.
  if (body.complete && body.receivedBytes === 0) return response;
  const codings = parseContentCodings(encoding);
  if (codings === undefined || codings.length === 0) return response;
  response.body = decodedBody(body, codings, new URL(response.url).origin, limit);
  return response;
}

/** The decompression policy as dispatch middleware. */
export function decompressionPolicy(options: DecompressionOptions = {}): DispatchMiddleware {
  const enabled = options.enabled ?? true;
  const acceptEncoding = options.acceptEncoding ?? 'gzip, deflate, br';
  const limit = options.maxDecodedBytes ?? Number.POSITIVE_INFINITY;
  const finish = (response: ClientResponse): ClientResponse => decode(response, limit);
  return function decompress(request: ClientRequest, next: Dispatch): Promise<ClientResponse> {
    if (!(request.decompress ?? enabled)) return next(request);
    if (!request.headers.has('accept-encoding')) request.headers.set('accept-encoding', acceptEncoding);
    return next(request).then(finish);
  };
}
