/**
 * One clock for every instrument of a request. Metrics (duration) and tracing (span start and
 * end) each read the clock when a request starts and when its response ends; on a small
 * request those four readings were a measurable part of the instruments' cost. The first
 * instrument to ask reads the clock and notes the time on the request; the others reuse it.
 * Times are `performance.now()` milliseconds.
 */
import { performance } from 'node:perf_hooks';
import type { Request } from '../server/request.js';

const START = Symbol('avx.telemetry.start');

/** When the instruments first saw `req` (noted on it by the first caller). */
export function requestStartTime(req: Request): number {
  const locals = req.locals as Record<symbol, unknown>;
  const noted = locals[START];
  if (noted !== undefined) return noted as number;
  const now = performance.now();
  locals[START] = now;
  return now;
}

let lastEnded: Request | undefined;
let lastEndTime = 0;

/**
 * When `req`'s response ended: read once, in the first subscriber to the finish event, and
 * reused by the next ones, which run right after it.
 */
export function requestEndTime(req: Request): number {
  if (req !== lastEnded) {
    lastEnded = req;
    lastEndTime = performance.now();
  }
  return lastEndTime;
}
