/**
 * Response compression middleware: Brotli (RFC 7932) and gzip (RFC 1952) through `node:zlib`,
 * chosen from the request's `Accept-Encoding` with q-values (RFC 9110 §12.5.3), labelled with
 * `Content-Encoding` (RFC 9110 §8.4) and `Vary: Accept-Encoding` (RFC 9110 §12.5.5).
 *
 * A response is left as it is when any of these holds:
 * - the request is HEAD, or the status is 1xx, 204, 206 or 304 (no content, or a byte range of
 *   the unencoded representation);
 * - it has no body, already has `Content-Encoding` or `Content-Range`, or says
 *   `Cache-Control: no-transform` (RFC 9111 §5.2.2.6);
 * - its Content-Type is not compressible (images, video, archives, ...: see compressible-types.ts);
 * - its size is known (string or bytes body, or Content-Length) and below `threshold`;
 * - the client accepts neither coding (it still gets `Vary: Accept-Encoding`);
 * - (string and bytes bodies) the compressed form is not smaller.
 *
 * String and byte bodies are compressed in one call on the zlib thread pool. Stream and
 * async-iterable bodies are compressed as they are read, with a sync flush after every chunk
 * the source yields, so a streamed response (server-sent events, NDJSON) reaches the client
 * chunk by chunk rather than when the compressor's window fills. When compressing, the
 * Content-Length is dropped (the driver frames the new body) and a strong ETag is made weak,
 * since the bytes are no longer those it named (RFC 9110 §8.8.1).
 */
import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import {
  type BrotliCompress,
  type BrotliOptions,
  brotliCompress,
  constants,
  createBrotliCompress,
  createGzip,
  type Gzip,
  gzip,
  type ZlibOptions,
} from 'node:zlib';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import type { Response } from '../response.js';
import { negotiateContentCoding } from './accept-encoding.js';
import { isCompressibleType } from './compressible-types.js';
import { addVary } from './vary.js';

/** A content coding this middleware can produce. */
export type CompressionCoding = 'br' | 'gzip';

/** Options of {@link compression}. */
export interface CompressionOptions {
  /** Codings offered, in server preference order (used to break q-value ties). Default `['br', 'gzip']`. */
  codings?: readonly CompressionCoding[];
  /** Bodies known to be smaller than this many bytes are sent as they are. Default 1024. */
  threshold?: number;
  /** Brotli quality, 0 (fastest) to 11 (smallest). Default 4: a good size for on-the-fly use. */
  brotliQuality?: number;
  /** gzip level, 1 (fastest) to 9 (smallest). Default 6. */
  gzipLevel?: number;
  /** Decides from the Content-Type whether to compress. Default {@link isCompressibleType}. */
  filter?: (contentType: string | undefined) => boolean;
}

const brotliCompressAsync = promisify(brotliCompress) as (
  input: Uint8Array,
  options: BrotliOptions,
) => Promise<Buffer>;
const gzipAsync = promisify(gzip) as (input: Uint8Array, options: ZlibOptions) => Promise<Buffer>;

/** A zlib compressor stream with `flush(kind, callback)`. */
type Compressor = BrotliCompress | Gzip;

/** The compression settings, prepared once per middleware. */
class CompressionSettings {
  readonly brotli: BrotliOptions;
  readonly gzip: ZlibOptions;

  constructor(brotliQuality: number, gzipLevel: number) {
    this.brotli = { params: { [constants.BROTLI_PARAM_QUALITY]: brotliQuality } };
    this.gzip = { level: gzipLevel };
  }

  compressBytes(coding: CompressionCoding, input: Uint8Array): Promise<Buffer> {
    if (coding === 'br') {
      return brotliCompressAsync(input, {
        params: { ...this.brotli.params, [constants.BROTLI_PARAM_SIZE_HINT]: input.byteLength },
      });
    }
    return gzipAsync(input, this.gzip);
  }

  compressor(coding: CompressionCoding): Compressor {
    return coding === 'br' ? createBrotliCompress(this.brotli) : createGzip(this.gzip);
  }
}

/**
 * A middleware that compresses response bodies (see the file comment for when it does not).
 * Defaults: `codings` `['br', 'gzip']`, `threshold` 1024 bytes, `brotliQuality` 4,
 * `gzipLevel` 6, `filter` {@link isCompressibleType}.
 */
export function compression(options: CompressionOptions = {}): Middleware {
  const codings: readonly string[] = options.codings ?? ['br', 'gzip'];
  const threshold = options.threshold ?? 1024;
  const filter = options.filter ?? isCompressibleType;
  const settings = new CompressionSettings(options.brotliQuality ?? 4, options.gzipLevel ?? 6);

  return async function compressionMiddleware(req: Request, next: Next): Promise<Response> {
    const res = await next();
    if (req.method === 'HEAD') return res;
    const status = res.status;
    if (status < 200 || status === 204 || status === 206 || status === 304) return res;
    const body = res.body;
    if (body === null || !res.hasHeaders) return res;
    const h = res.headers;
    if (h.has('content-encoding') || h.has('content-range')) return res;
    if (!filter(h.get('content-type'))) return res;
    const cacheControl = h.get('cache-control');
    if (cacheControl?.toLowerCase().includes('no-transform')) return res;

    let bytes: Uint8Array | undefined;
    let size = -1;
    if (typeof body === 'string') {
      bytes = Buffer.from(body);
      size = bytes.byteLength;
    } else if (body instanceof Uint8Array) {
      bytes = body;
      size = body.byteLength;
    } else {
      const length = h.get('content-length');
      if (length !== undefined && length !== '') size = Number(length);
    }
    if (size >= 0 && size < threshold) return res;

    addVary(h, 'Accept-Encoding');
    const coding = negotiateContentCoding(
      req.headers.get('accept-encoding'),
      codings,
    ) as CompressionCoding | null;
    if (coding === null) return res;
    if (bytes !== undefined) {
      const compressed = await settings.compressBytes(coding, bytes);
      if (compressed.byteLength >= bytes.byteLength) return res;
      res.body = compressed;
    } else {
      const flush = coding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH;
      res.body = compressedChunks(
        body as AsyncIterable<Uint8Array | string>,
        settings.compressor(coding),
        flush,
      );
    }
    h.set('content-encoding', coding);
    h.delete('content-length');
    const etag = h.get('etag');
    if (etag?.startsWith('"')) h.set('etag', `W/${etag}`);
    return res;
  };
}

/**
 * Compresses `source` through `compressor`, flushing after every source chunk, and yields the
 * compressed bytes. Returning early (the client went away) stops the source too (its `return`
 * runs, so its finally blocks do) and frees the compressor.
 */
async function* compressedChunks(
  source: AsyncIterable<Uint8Array | string>,
  compressor: Compressor,
  flushKind: number,
): AsyncGenerator<Buffer> {
  const output: Buffer[] = [];
  let failure: Error | undefined;
  compressor.on('data', (chunk: Buffer) => output.push(chunk));
  compressor.on('error', (err: Error) => {
    failure = err;
  });
  try {
    for await (const piece of source) {
      const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
      if (chunk.byteLength === 0) continue;
      await writeChunk(compressor, chunk);
      await flushCompressor(compressor, flushKind);
      if (failure !== undefined) throw failure;
      if (output.length > 0) yield takeAll(output);
    }
    await endCompressor(compressor);
    if (failure !== undefined) throw failure;
    if (output.length > 0) yield takeAll(output);
  } finally {
    compressor.destroy();
  }
}

function takeAll(output: Buffer[]): Buffer {
  const joined = output.length === 1 ? output[0]! : Buffer.concat(output);
  output.length = 0;
  return joined;
}

function writeChunk(compressor: Compressor, chunk: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    compressor.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function flushCompressor(compressor: Compressor, kind: number): Promise<void> {
  return new Promise<void>((resolve) => {
    // A failing compressor may never call back: the error ends the wait too (and is rethrown).
    const onError = (): void => resolve();
    compressor.once('error', onError);
    compressor.flush(kind, () => {
      compressor.off('error', onError);
      resolve();
    });
  });
}

function endCompressor(compressor: Compressor): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    compressor.once('end', resolve);
    compressor.once('error', reject);
    compressor.end();
  });
}
