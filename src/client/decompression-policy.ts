/**
 * The decompression policy: asks for compressed responses (`Accept-Encoding`, RFC 9110 §12.5.3)
 * and decodes the content codings gzip (RFC 1952), deflate (zlib, RFC 1950, and the raw RFC 1951
 * stream some servers send instead) and br (RFC 7932) as the body streams in (RFC 9110 §8.4:
 * codings listed in the order applied, so they are undone last first). Unknown codings are left
 * alone. The decoded body keeps backpressure: a slow reader pauses the decoder, which pauses the
 * connection. The Content-Encoding and Content-Length fields are kept as received, as fetch does.
 */
import { decodedBody, parseContentCodings } from '../core/content-decoding.js';
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

function decode(response: ClientResponse, limit: number): ClientResponse {
  const encoding = response.headers.get('content-encoding');
  if (encoding === undefined) return response;
  const body = response.body;
  // HEAD, 204 and 304 responses arrive complete and empty: nothing to decode.
  if (body.complete && body.receivedBytes === 0) return response;
  const codings = parseContentCodings(encoding);
  if (codings === undefined || codings.length === 0) return response;
  const origin = new URL(response.url).origin;
  const label = codings.join(', ');
  response.body = decodedBody(body, codings, limit, (err) => new DecompressionError(origin, label, err));
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
