/**
 * Request logger middleware: one structured JSON line per request, written when the response
 * leaves the middleware (or the request fails), e.g.
 *
 *   {"time":"2026-01-02T03:04:05.678Z","method":"GET","path":"/users/7","status":200,
 *    "durationMs":0.412,"bytes":27,"requestId":"4f0c..."}
 *
 * Place it first (`app.use(logger())`) so the duration covers the other middleware, and after
 * nothing that answers on its own. Disabled (`logger({ enabled: false })`) it is a pass-through
 * that costs one function call.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { statusOf } from '../app.js';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import type { Response } from '../response.js';

/** One log record; `bytes`, `requestId` and `error` are left out when unknown. */
export interface RequestLogRecord {
  /** When the request started, ISO 8601 (UTC). */
  time: string;
  method: string;
  /** The path, without the query string (which may carry secrets). */
  path: string;
  /** The response status; for a failed request, the status the error maps to (500 by default). */
  status: number;
  /** Time from entering the middleware to the response (not the end of a streamed body), in ms. */
  durationMs: number;
  /** Body size in bytes when known up front (string or bytes body, or a Content-Length field). */
  bytes?: number;
  /** `req.locals.requestId` (set by the `requestId` middleware) when present. */
  requestId?: string;
  /** The error's `code` (or name) when the request failed with an exception. */
  error?: string;
}

/** Options of {@link logger}. */
export interface LoggerOptions {
  /** Log at all. Default true; false returns a pass-through middleware. */
  enabled?: boolean;
  /**
   * Receives each line: the JSON record, without a trailing newline.
   * Default: writes the line plus `\n` to `process.stdout`.
   */
  sink?: (line: string) => void;
  /** Clock for durations, in milliseconds. Default `performance.now`. */
  clock?: () => number;
}

function writeToStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

function passThrough(_req: Request, next: Next): Promise<Response> {
  return next();
}

/** Body size when it is known without reading the body, else undefined. */
function knownBytes(res: Response): number | undefined {
  const body = res.body;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  if (body === null) return 0;
  if (!res.hasHeaders) return undefined;
  const length = res.headers.get('content-length');
  if (length === undefined) return undefined;
  const n = Number(length);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function errorName(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return typeof error;
}

/** Rounds to microseconds so lines stay short. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * A middleware that logs one JSON line per request (see {@link RequestLogRecord}).
 * Options: `enabled` (default true), `sink` (default stdout), `clock` (default performance.now).
 */
export function logger(options: LoggerOptions = {}): Middleware {
  if (options.enabled === false) return passThrough;
  const sink = options.sink ?? writeToStdout;
  const clock = options.clock ?? performance.now.bind(performance);

  function emit(
    req: Request,
    started: number,
    startedAt: number,
    status: number,
    bytes: number | undefined,
    error: unknown,
  ): void {
    const record: RequestLogRecord = {
      time: new Date(startedAt).toISOString(),
      method: req.method,
      path: req.path,
      status,
      durationMs: roundMs(clock() - started),
    };
    if (bytes !== undefined) record.bytes = bytes;
    const requestId = req.locals.requestId;
    if (typeof requestId === 'string') record.requestId = requestId;
    if (error !== undefined) record.error = errorName(error);
    try {
      sink(JSON.stringify(record));
    } catch {
      // A failing log sink must not fail the request it describes.
    }
  }

  return async function requestLogger(req: Request, next: Next): Promise<Response> {
    const startedAt = Date.now();
    const started = clock();
    let res: Response;
    try {
      res = await next();
    } catch (error) {
      emit(req, started, startedAt, statusOf(error), undefined, error ?? 'error');
      throw error;
    }
    emit(req, started, startedAt, res.status, knownBytes(res), undefined);
    return res;
  };
}
