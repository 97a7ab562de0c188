/**
 * One clock for every instrument of a request. Metrics (duration) and tracing (span start and
 * end) each need the time a request started and the time its response ended; on a small
 * request four clock readings were a measurable part of the instruments' cost. The first
 * instrument to ask reads the clock and notes the start on the request; the others reuse it.
 * The end comes from the connection, which reads it once for every finish observer
 * (`ResponseFinishObserver`). Times are `performance.now()` milliseconds.
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
