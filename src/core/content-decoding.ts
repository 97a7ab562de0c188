/**
 * Content codings of message bodies (RFC 9110 §8.4): gzip (RFC 1952), deflate (zlib, RFC 1950,
 * and the raw RFC 1951 stream some senders use instead) and br (RFC 7932), undone as the body
 * streams in. Codings are listed in the order they were applied, so they are undone last first.
 * The decoded body keeps backpressure: a slow reader pauses the decoder, which pauses the
 * source. Used by the client for responses (decompression-policy.ts) and by the server for
 * requests (request-decompression.ts).
 */
import type { Transform } from 'node:stream';
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  constants as zlibConstants,
} from 'node:zlib';
import { AvxError } from './errors.js';
import { IncomingBody } from './incoming-body.js';

/** A body that does not decode with the coding it is labelled with. */
export class ContentDecodingError extends AvxError {
  /** The HTTP status a server should answer with. */
  readonly status = 400;

  constructor(codings: string, cause: unknown) {
    super(
      'AVX_BODY_DECODING_FAILED',
      `the ${codings} body does not decode: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/** The codings this module undoes. */
export const DECODABLE_CODINGS: readonly string[] = ['gzip', 'deflate', 'br'];

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

export function decoderFor(coding: string, firstByte: number): Transform {
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

/**
 * A body that decodes `source` through `codings` (in applied order) as it is read, at most
 * `limit` decoded bytes (a larger one fails with BodyTooLargeError: a decompression bomb stops
 * there). A coding that does not decode fails the body with `decodingError(cause)`.
 */
export function decodedBody(
  source: IncomingBody,
  codings: readonly string[],
  limit: number,
  decodingError: (cause: unknown) => Error = (cause) => new ContentDecodingError(codings.join(', '), cause),
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
  const fail = (err: unknown) => {
    out.fail(decodingError(err));
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
