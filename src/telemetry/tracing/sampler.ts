/**
 * Head sampling: whether a new span is recorded and exported, decided when it starts
 * (OpenTelemetry trace SDK "Sampling": `TraceIdRatioBased` and `ParentBased`).
 * - {@link ratioSampler}: records a fixed fraction of traces, deciding from the trace id, so
 *   every service sampling at the same ratio makes the same decision for a trace.
 * - {@link parentBasedSampler}: follows the caller's sampled flag (W3C trace-flags bit 0) when
 *   there is a parent; asks `root` otherwise.
 */
import { SAMPLED_FLAG, type SpanContext } from './w3c-trace-context.js';

/** Decides whether a span is sampled. */
export interface Sampler {
  shouldSample(parent: SpanContext | undefined, traceId: string): boolean;
}

/** Samples every trace whose id falls below `ratio` (0..1; clamped). */
export function ratioSampler(ratio: number): Sampler {
  const r = Math.min(1, Math.max(0, Number.isFinite(ratio) ? ratio : 0));
  // The last 13 hex digits (52 bits) of the trace id, which W3C level 2 makes random.
  const bound = r * 2 ** 52;
  return {
    shouldSample(_parent, traceId) {
      if (r >= 1) return true;
      if (r <= 0) return false;
      return Number.parseInt(traceId.slice(19), 16) < bound;
    },
  };
}

/** Follows the parent's sampled flag; for root spans asks `root`. */
export function parentBasedSampler(root: Sampler): Sampler {
  return {
    shouldSample(parent, traceId) {
      if (parent !== undefined) return (parent.traceFlags & SAMPLED_FLAG) !== 0;
      return root.shouldSample(parent, traceId);
    },
  };
}
