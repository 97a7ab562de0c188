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

/** When the instruments first saw `req` (noted on it by the first caller). */
export function requestStartTime(req: Request): number {
  const noted = req.instrumentedAt;
  if (noted !== undefined) return noted;
  const now = performance.now();
  req.instrumentedAt = now;
  return now;
}
