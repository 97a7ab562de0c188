/**
 * `requestDecompression()`: middleware that undoes the content coding of request bodies
 * (RFC 9110 §8.4: `Content-Encoding: gzip`, `deflate`, `br`, or several in the order applied),
 * so handlers read `req.body` decoded, as they would an unencoded body. It pairs with the
 * client's `requestCompression()`.
 *
 * - The decoded body may be at most `maxDecodedBytes` (the app's `bodyLimit` counts the bytes on
 *   the wire): past it, reading fails with BodyTooLargeError (413), so a small body that
 *   inflates to gigabytes stops there.
 * - A body that does not decode fails with ContentDecodingError (400) when read.
 * - A coding it does not know gets 415 with `Accept-Encoding` listing those it does (RFC 7694
 *   §3), which tells a client such as ours to send the body again uncompressed.
 * - Once decoded, `Content-Encoding` and `Content-Length` are removed from `req.headers`: they
 *   described the bytes on the wire, not the body the handler reads.
 */
import { DECODABLE_CODINGS, decodedBody, parseContentCodings } from '../../core/content-decoding.js';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import { Response } from '../response.js';

/** Options of {@link requestDecompression}. */
export interface RequestDecompressionOptions {
  /** Largest decoded body, in bytes. Default 1048576 (1 MiB, the App's default `bodyLimit`). */
  maxDecodedBytes?: number;
}

const ACCEPTED = DECODABLE_CODINGS.join(', ');

/** Decodes request bodies (see the file comment). */
export function requestDecompression(options: RequestDecompressionOptions = {}): Middleware {
  const limit = options.maxDecodedBytes ?? 1_048_576;
  if (!(limit > 0)) throw new RangeError(`maxDecodedBytes must be positive, not ${limit}`);
  return (req: Request, next: Next) => {
    const encoding = req.headers.get('content-encoding');
    if (encoding === undefined) return next();
    const codings = parseContentCodings(encoding);
    if (codings === undefined) {
      // RFC 7694 §3: say which codings would do.
      return new Response(`unsupported Content-Encoding: ${encoding}\n`, {
        status: 415,
        headers: { 'accept-encoding': ACCEPTED, 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    req.headers.delete('content-encoding');
    if (codings.length > 0) {
      req.headers.delete('content-length');
      req.body = decodedBody(req.body, codings, limit);
    }
    return next();
  };
}
