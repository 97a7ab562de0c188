/**
 * `requestCompression()`: client dispatch middleware that compresses request bodies (RFC 9110
 * §8.4 `Content-Encoding`), at a level chosen for the network path to each origin.
 *
 * With `level: 'auto'` (the default) the level comes from the cost model
 * (compression-cost-model.ts) and what the client has measured of the origin's link
 * (link-estimate.ts): the upload throughput of earlier exchanges. On loopback or a data-centre
 * link the body goes at level 1 or as it is; across a slow or far link at the strongest level
 * that still pays. Until a throughput is known for an origin, `initialLevel` is used. Each
 * compression's time and output size correct the model for this machine and this traffic.
 *
 * Only bodies known in full (strings, bytes, forms) of at least `minBytes` are compressed, on
 * libuv's thread pool; streams go as they are. A body that already has a `Content-Encoding` is
 * left alone. Many servers do not take compressed request bodies: a 415 response whose
 * `Accept-Encoding` does not list the coding (RFC 7694 §3) makes the client send the same
 * request again uncompressed, and send that origin no compressed body again (remembered for up
 * to `maxOrigins` origins).
 */
import type { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { type BrotliOptions, brotliCompress, constants, gzip, type ZlibOptions } from 'node:zlib';
import { Headers } from '../../core/headers.js';
import type { ClientRequest } from '../client-request.js';
import type { ClientResponse } from '../client-response.js';
import type { DispatchMiddleware } from '../dispatch.js';
import { RequestBody } from '../request-body.js';
import { CompressionCostModel, type RequestCoding } from './compression-cost-model.js';
import { LinkEstimates } from './link-estimate.js';

/** Options of {@link requestCompression}. */
export interface RequestCompressionOptions {
  /** The coding. Default `'gzip'`, the one servers that take compressed bodies most often accept. */
  coding?: RequestCoding;
  /** A fixed level (gzip 1..9, br 0..11), or `'auto'` (see the file comment). Default `'auto'`. */
  level?: number | 'auto';
  /** With `'auto'`, the level until the origin's throughput is known. Default 6 (gzip), 4 (br). */
  initialLevel?: number;
  /** Bodies smaller than this many bytes go as they are. Default 1024. */
  minBytes?: number;
  /** Which origins (`https://host:port`) take compressed bodies. Default: every origin. */
  origins?: readonly string[] | ((origin: string) => boolean);
  /** How much a ms of compressing counts against a ms of sending (see the cost model). Default 1. */
  cpuWeight?: number;
  /** The link estimates to use and update. Default: the policy's own. */
  links?: LinkEstimates;
  /** Origins remembered (links, and origins that refused compressed bodies). Default 256. */
  maxOrigins?: number;
}

/** The middleware, with what it has learned. */
export interface RequestCompressionPolicy extends DispatchMiddleware {
  /** Per-origin link estimates. */
  readonly links: LinkEstimates;
  /** The cost model. */
  readonly model: CompressionCostModel;
  /** The level used for the last body sent to `origin` (0: as it is), or undefined. */
  lastLevel(origin: string): number | undefined;
  /** True once `origin` refused a compressed body (RFC 7694 §3). */
  refused(origin: string): boolean;
}

const gzipAsync = promisify(gzip) as (input: Uint8Array, options: ZlibOptions) => Promise<Buffer>;
const brotliAsync = promisify(brotliCompress) as (
  input: Uint8Array,
  options: BrotliOptions,
) => Promise<Buffer>;

function compress(coding: RequestCoding, level: number, input: Buffer): Promise<Buffer> {
  if (coding === 'br') {
    return brotliAsync(input, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: level,
        [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
      },
    });
  }
  return gzipAsync(input, { level });
}

/** True when a 415's Accept-Encoding (RFC 7694 §3) does not offer `coding`. */
function refusesCoding(response: ClientResponse, coding: RequestCoding): boolean {
  if (response.status !== 415) return false;
  const accept = response.headers.get('accept-encoding');
  if (accept === undefined) return true;
  for (const part of accept.split(',')) {
    const semicolon = part.indexOf(';');
    const name = (semicolon === -1 ? part : part.slice(0, semicolon)).trim().toLowerCase();
    if (name === coding && !/;\s*q\s*=\s*0(\.0*)?\s*$/i.test(part)) return false;
  }
  return true;
}

/** A map bounded to `max` keys, the least recently set forgotten first. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

/** Compresses request bodies (see the file comment). */
export function requestCompression(options: RequestCompressionOptions = {}): RequestCompressionPolicy {
  const coding = options.coding ?? 'gzip';
  const fixed = options.level === undefined || options.level === 'auto' ? undefined : options.level;
  const maxLevel = coding === 'br' ? 11 : 9;
  const minLevel = coding === 'br' ? 0 : 1;
  if (fixed !== undefined && !(Number.isInteger(fixed) && fixed >= minLevel && fixed <= maxLevel)) {
    throw new RangeError(`${coding} level must be ${minLevel}..${maxLevel}, not ${fixed}`);
  }
  const initialLevel = options.initialLevel ?? (coding === 'br' ? 4 : 6);
  const minBytes = options.minBytes ?? 1024;
  const maxOrigins = options.maxOrigins ?? 256;
  const links = options.links ?? new LinkEstimates({ maxOrigins });
  const model = new CompressionCostModel(options.cpuWeight ?? 1);
  const allowed = options.origins;
  const accepts =
    allowed === undefined
      ? () => true
      : typeof allowed === 'function'
        ? allowed
        : (origin: string) => allowed.includes(origin);
  const refusedOrigins = new Map<string, true>();
  const lastLevels = new Map<string, number>();

  const levelFor = (origin: string, size: number): number => {
    if (fixed !== undefined) return fixed;
    const throughput = links.get(origin)?.throughput;
    if (throughput === undefined) return initialLevel;
    return model.choose(coding, size, throughput).level;
  };

  /** Sends `request` and notes how long the head took for `sentBytes` of body. */
  const timed = async (
    request: ClientRequest,
    next: (r: ClientRequest) => Promise<ClientResponse>,
    origin: string,
    sentBytes: number,
  ): Promise<ClientResponse> => {
    const start = performance.now();
    const response = await next(request);
    links.observe(origin, sentBytes, performance.now() - start);
    return response;
  };

  const policy = async (
    request: ClientRequest,
    next: (r: ClientRequest) => Promise<ClientResponse>,
  ): Promise<ClientResponse> => {
    const origin = request.url.origin;
    const body = request.body;
    const bytes = body?.bytes;
    if (
      body === null ||
      bytes === undefined ||
      bytes.length < minBytes ||
      request.headers.has('content-encoding') ||
      refusedOrigins.has(origin) ||
      !accepts(origin)
    ) {
      return timed(request, next, origin, body === null ? 0 : Math.max(0, body.length));
    }
    const level = levelFor(origin, bytes.length);
    remember(lastLevels, origin, level, maxOrigins);
    if (level === 0) return timed(request, next, origin, bytes.length);
    const started = performance.now();
    const compressed = await compress(coding, level, bytes);
    model.observe(coding, level, bytes.length, compressed.length, performance.now() - started);
    const headers = new Headers(request.headers);
    headers.set('content-encoding', coding);
    if (body.contentType !== undefined && !headers.has('content-type'))
      headers.set('content-type', body.contentType);
    const response = await timed(
      request.with({ headers, body: RequestBody.fromBytes(compressed, body.contentType) }),
      next,
      origin,
      compressed.length,
    );
    if (!refusesCoding(response, coding)) return response;
    // RFC 7694 §3: the server does not take this coding; send the body as it is, from now on.
    remember(refusedOrigins, origin, true, maxOrigins);
    remember(lastLevels, origin, 0, maxOrigins);
    await response.dump();
    return timed(request, next, origin, bytes.length);
  };

  return Object.assign(policy, {
    links,
    model,
    lastLevel: (origin: string) => lastLevels.get(origin),
    refused: (origin: string) => refusedOrigins.has(origin),
  });
}
