/**
 * Static file middleware: serves the files under a root directory for GET and HEAD.
 *
 * - Safe path resolution: the path is percent-decoded once; NUL, backslashes and malformed
 *   escapes are rejected (400), any `..` segment (also when sent encoded, `%2e%2e`) is refused
 *   (403), the joined path must stay under the root, and so must its real path once symlinks
 *   are resolved (a symlink leading out of the root is treated as not found).
 * - A directory serves its `index` file; `/dir` is redirected to `/dir/` (301) so relative
 *   links in the index resolve.
 * - Validators (RFC 9110 §8.8): a weak ETag made from the size and modification time, and
 *   Last-Modified. Conditional requests: `If-None-Match` (weak comparison, RFC 9110 §13.1.2)
 *   or, without it, `If-Modified-Since` (RFC 9110 §13.1.3) answer 304.
 * - Ranges (RFC 9110 §14): one byte range per request -> 206 with Content-Range; an
 *   unsatisfiable one -> 416 with `Content-Range: bytes *\/size`; several ranges, or an
 *   `If-Range` that does not match (RFC 9110 §13.1.5), -> the whole file. `Accept-Ranges: bytes`.
 * - Content-Type from the extension (media-types.ts). The body is an `fs.createReadStream`.
 *
 * Requests for files that do not exist (and ignored dotfiles) go on to the next middleware or
 * route, unless `fallthrough` is false, in which case they get a 404.
 */
import type { Stats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { formatHttpDate, parseHttpDate } from '../../runtime/http-date.js';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import { Response } from '../response.js';
import { parseByteRange, UNSATISFIABLE } from './byte-range.js';
import { contentTypeFor } from './media-types.js';

/** Options of {@link serveStatic}. */
export interface ServeStaticOptions {
  /** URL path the root is mounted at, e.g. `/static`. Default `''` (the site root). */
  prefix?: string;
  /** File served for a directory, or false for none. Default `'index.html'`. */
  index?: string | false;
  /**
   * Files and directories whose name starts with `.`: `'ignore'` (as if absent), `'deny'`
   * (403) or `'allow'`. Default `'ignore'`.
   */
  dotfiles?: 'ignore' | 'deny' | 'allow';
  /** `max-age` of `Cache-Control: public, max-age=N`, in seconds. Default 0 (revalidate each time). */
  maxAge?: number;
  /** Add `immutable` to Cache-Control (for fingerprinted file names). Default false. */
  immutable?: boolean;
  /** Send ETag and honour If-None-Match. Default true. */
  etag?: boolean;
  /** Send Last-Modified and honour If-Modified-Since. Default true. */
  lastModified?: boolean;
  /** Pass requests for missing files to the next middleware (true) or answer 404 (false). Default true. */
  fallthrough?: boolean;
}

/** A body that ends at once: what a HEAD response carries, so drivers keep its Content-Length. */
const NO_BODY: AsyncIterable<Uint8Array> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }),
};

/** Settings resolved once per middleware. */
interface StaticConfig {
  root: string;
  prefix: string;
  index: string | false;
  dotfiles: 'ignore' | 'deny' | 'allow';
  cacheControl: string;
  etag: boolean;
  lastModified: boolean;
  fallthrough: boolean;
  /** Real path of the root, resolved on first use (the directory may not exist at setup). */
  realRoot: string | undefined;
}

/** Outcome of mapping a URL path onto the root. */
const enum Lookup {
  NotMine,
  BadRequest,
  Forbidden,
  NotFound,
}

/**
 * A middleware that serves files under `root` (see the file comment). Defaults: `prefix` `''`,
 * `index` `'index.html'`, `dotfiles` `'ignore'`, `maxAge` 0, `immutable` false, `etag` true,
 * `lastModified` true, `fallthrough` true.
 */
export function serveStatic(root: string, options: ServeStaticOptions = {}): Middleware {
  let prefix = options.prefix ?? '';
  while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  const maxAge = Math.max(0, Math.floor(options.maxAge ?? 0));
  const config: StaticConfig = {
    root: resolve(root),
    prefix,
    index: options.index ?? 'index.html',
    dotfiles: options.dotfiles ?? 'ignore',
    cacheControl: `public, max-age=${maxAge}${options.immutable === true ? ', immutable' : ''}`,
    etag: options.etag ?? true,
    lastModified: options.lastModified ?? true,
    fallthrough: options.fallthrough ?? true,
    realRoot: undefined,
  };
  return function staticFiles(req: Request, next: Next): Promise<Response> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    return serve(config, req, next);
  };
}

async function serve(config: StaticConfig, req: Request, next: Next): Promise<Response> {
  const relative = relativePath(config, req.path);
  if (typeof relative !== 'string') return refuse(config, relative, next);
  const segments = relative.split('/');
  let file = config.root;
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return refuse(config, Lookup.Forbidden, next);
    if (segment.charCodeAt(0) === 0x2e /* . */ && config.dotfiles !== 'allow') {
      return refuse(config, config.dotfiles === 'deny' ? Lookup.Forbidden : Lookup.NotFound, next);
    }
    file = join(file, segment);
  }
  if (file !== config.root && !file.startsWith(config.root + sep))
    return refuse(config, Lookup.Forbidden, next);

  let found = await inspect(config, file);
  if (found === null) return refuse(config, Lookup.NotFound, next);
  let name = file; // the name asked for, which gives the type (the real path may be a symlink's)
  if (found.stats.isDirectory()) {
    if (!relative.endsWith('/')) return redirectToDirectory(req);
    if (config.index === false) return refuse(config, Lookup.NotFound, next);
    name = join(file, config.index);
    found = await inspect(config, join(found.path, config.index));
    if (found === null) return refuse(config, Lookup.NotFound, next);
  }
  if (!found.stats.isFile()) return refuse(config, Lookup.NotFound, next);
  return respond(config, req, found.path, name, found.stats);
}

/**
 * The decoded path below the prefix (starting with `/`, or `''` for the prefix itself), or why
 * there is none.
 */
function relativePath(config: StaticConfig, path: string): string | Lookup {
  const prefix = config.prefix;
  if (prefix !== '') {
    if (!path.startsWith(prefix)) return Lookup.NotMine;
    if (path.length > prefix.length && path.charCodeAt(prefix.length) !== 0x2f) return Lookup.NotMine;
    path = path.slice(prefix.length);
  }
  if (path.indexOf('%') !== -1) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return Lookup.BadRequest;
    }
  }
  // NUL ends C strings (truncation attacks); a backslash is a separator on Windows (`..\`).
  if (path.indexOf('\0') !== -1 || path.indexOf('\\') !== -1) return Lookup.BadRequest;
  return path;
}

/** The real path and stats of `file` if it exists inside the root, else null. */
async function inspect(config: StaticConfig, file: string): Promise<{ path: string; stats: Stats } | null> {
  try {
    if (config.realRoot === undefined) config.realRoot = await realpath(config.root);
    const real = await realpath(file);
    const realRoot = config.realRoot;
    if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep))
      return null;
    return { path: real, stats: await stat(real) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP') return null;
    if (code === 'EACCES' || code === 'EPERM') return null;
    throw err;
  }
}

function refuse(config: StaticConfig, why: Lookup, next: Next): Promise<Response> | Response {
  switch (why) {
    case Lookup.BadRequest:
      return Response.text('Bad Request', { status: 400 });
    case Lookup.Forbidden:
      return Response.text('Forbidden', { status: 403 });
    default:
      if (why === Lookup.NotMine || config.fallthrough) return next();
      return Response.text('Not Found', { status: 404 });
  }
}

/** 301 from `/dir` to `/dir/`, keeping the query. A single leading `/` keeps it on this origin. */
function redirectToDirectory(req: Request): Response {
  let path = req.path;
  let start = 0;
  while (start < path.length - 1 && path.charCodeAt(start + 1) === 0x2f) start++;
  path = path.slice(start);
  const search = req.search;
  return Response.redirect(`${path}/${search === '' ? '' : `?${search}`}`, 301);
}

function respond(config: StaticConfig, req: Request, file: string, name: string, stats: Stats): Response {
  const size = stats.size;
  const etag = config.etag ? `W/"${size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"` : undefined;
  const lastModified = config.lastModified ? formatHttpDate(stats.mtime) : undefined;

  const res = new Response(null);
  const h = res.headers;
  if (etag !== undefined) h.set('etag', etag);
  if (lastModified !== undefined) h.set('last-modified', lastModified);
  h.set('cache-control', config.cacheControl);

  if (isNotModified(req, etag, stats)) {
    res.status = 304;
    return res;
  }

  h.set('content-type', contentTypeFor(name));
  h.set('accept-ranges', 'bytes');
  const isHead = req.method === 'HEAD';
  const rangeField = req.method === 'GET' ? req.headers.get('range') : undefined;
  if (rangeField !== undefined && ifRangeMatches(req, lastModified)) {
    const range = parseByteRange(rangeField, size);
    if (range === UNSATISFIABLE) {
      res.status = 416;
      h.set('content-range', `bytes */${size}`);
      h.delete('content-type');
      h.set('content-length', 0);
      return res;
    }
    if (range !== null) {
      res.status = 206;
      h.set('content-range', `bytes ${range.start}-${range.end}/${size}`);
      h.set('content-length', range.end - range.start + 1);
      res.body = createReadStream(file, { start: range.start, end: range.end });
      return res;
    }
  }
  h.set('content-length', size);
  res.body = isHead ? NO_BODY : size === 0 ? '' : createReadStream(file);
  return res;
}

/** RFC 9110 §13.2.2 steps 3 and 4 for GET/HEAD: If-None-Match, else If-Modified-Since. */
function isNotModified(req: Request, etag: string | undefined, stats: Stats): boolean {
  const ifNoneMatch = req.headers.get('if-none-match');
  if (ifNoneMatch !== undefined) return etag !== undefined && matchesAnyEtag(ifNoneMatch, etag);
  const ifModifiedSince = req.headers.get('if-modified-since');
  if (ifModifiedSince === undefined) return false;
  const since = parseHttpDate(ifModifiedSince);
  if (since === undefined) return false;
  // HTTP dates have one-second resolution: compare whole seconds.
  return Math.floor(stats.mtimeMs / 1000) * 1000 <= since;
}

/** Weak comparison (RFC 9110 §8.8.3.2) of `etag` against an If-None-Match list, `*` matching any. */
function matchesAnyEtag(list: string, etag: string): boolean {
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  let pos = 0;
  while (pos <= list.length) {
    let end = list.indexOf(',', pos);
    if (end === -1) end = list.length;
    let item = list.slice(pos, end).trim();
    pos = end + 1;
    if (item === '*') return true;
    if (item.startsWith('W/')) item = item.slice(2);
    if (item === opaque) return true;
  }
  return false;
}

/**
 * RFC 9110 §13.1.5: a Range applies only when If-Range is absent or still matches. Our ETags
 * are weak and If-Range needs a strong match, so only an exact Last-Modified date matches.
 */
function ifRangeMatches(req: Request, lastModified: string | undefined): boolean {
  const ifRange = req.headers.get('if-range');
  if (ifRange === undefined) return true;
  return lastModified !== undefined && ifRange === lastModified;
}
