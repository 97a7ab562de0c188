/**
 * One clock for every instrument of a request. Metrics (duration) and tracing (span start and
 * end) each need the time a request started and the time its response ended; on a small
 * request four clock readings were a measurable part of the instruments' cost. An app with
 * finish observers notes the start on each request it dispatches (`App.dispatch`), and its
 * connection reads the end once for every observer (`ResponseFinishObserver`). For a request
 * that did not come through such an app, the first instrument to ask reads the clock and notes
 * it. Times are `performance.now()` milliseconds.
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
