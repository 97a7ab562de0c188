/**
 * OtlpExportError: an OTLP export request that failed, with whether it may be retried
 * (OTLP/HTTP "Failures": network errors and 429, 502, 503, 504 are retryable) and the
 * collector's `Retry-After`.
 */
import { AvxError } from '../../core/errors.js';

/** An export request failed. */
export class OtlpExportError extends AvxError {
  /** The HTTP status, or 0 for a network failure. */
  readonly status: number;
  readonly retryable: boolean;
  /** Retry-After in ms, when the collector sent one. */
  readonly retryAfter: number | undefined;

  constructor(status: number, retryable: boolean, message: string, retryAfter?: number, cause?: unknown) {
    super('AVX_OTLP_EXPORT_FAILED', message, { cause });
    this.status = status;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }
}

/** Statuses worth another try (OTLP/HTTP "Retryable Response Codes"). */
export function retryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}
