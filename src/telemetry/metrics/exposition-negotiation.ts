/**
 * Chooses the exposition format from a scraper's `Accept` field (RFC 9110 §12.5.1, with
 * q-values): OpenMetrics when `application/openmetrics-text` is preferred (a Prometheus server
 * sends `application/openmetrics-text;version=1.0.0,...;q=0.75,text/plain;version=0.0.4;q=0.5,
 * * /*;q=0.1`), JSON when `application/json` is, else the Prometheus text format 0.0.4.
 */
import type { ExpositionFormat } from './metrics-registry.js';

/** The format to answer an `Accept` value with (absent or `* /*`: Prometheus text). */
export function negotiateExposition(accept: string | undefined | null): ExpositionFormat {
  if (accept === undefined || accept === null || accept === '') return 'prometheus';
  let best: ExpositionFormat = 'prometheus';
  let bestQ = -1;
  for (const range of accept.split(',')) {
    const parts = range.split(';');
    const type = parts[0]!.trim().toLowerCase();
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const [key, value] = parts[i]!.split('=');
      if (key?.trim().toLowerCase() === 'q') {
        const parsed = Number(value?.trim());
        if (!Number.isNaN(parsed)) q = parsed;
      }
    }
    if (q <= 0) continue;
    let format: ExpositionFormat | undefined;
    if (type === 'application/openmetrics-text') format = 'openmetrics';
    else if (type === 'application/json') format = 'json';
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') format = 'prometheus';
    if (format !== undefined && q > bestQ) {
      best = format;
      bestQ = q;
    }
  }
  return best;
}
