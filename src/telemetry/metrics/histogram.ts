/**
 * Histogram: observations counted into cumulative buckets, with their count and sum (Prometheus
 * metric type `histogram`, series `_bucket{le}`, `_sum`, `_count`; OpenMetrics 1.0
 * §"Histogram"). Buckets are upper bounds (inclusive), strictly increasing; `+Inf` is implied.
 * Observing finds the bucket by a linear scan and bumps one slot of a Float64Array: no allocation.
 */
import { Metric, type MetricOptions } from './metric.js';
import { MetricDefinitionError } from './metric-definition-error.js';

/** prom-client's and the Prometheus client libraries' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Buckets for sizes in bytes: 64 B to 16 MiB by powers of 4. */
export const BYTE_SIZE_BUCKETS: readonly number[] = Object.freeze([
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
]);

/** One histogram series. */
export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  /** [sum, count]. */
  readonly totals = new Float64Array(2);

  /**
   * {@link bounds} as a Float64Array for the scan: the bounds are often frozen arrays (the
   * default buckets), whose elements optimized code reads through a keyed-load stub.
   */
  private readonly limits: Float64Array;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
    this.limits = Float64Array.from(bounds);
  }

  /** Records one observation. NaN is ignored. */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const limits = this.limits;
    const n = limits.length;
    let i = 0;
    while (i < n && value > limits[i]!) i++;
    this.counts[i]!++;
    this.totals[0]! += value;
    this.totals[1]!++;
  }

  /** The sum of the observations. */
  get sum(): number {
    return this.totals[0]!;
  }

  /** The number of observations. */
  get count(): number {
    return this.totals[1]!;
  }
}

/** Options of {@link Histogram}. */
export interface HistogramOptions extends MetricOptions<Histogram> {
  /** Bucket upper bounds, strictly increasing, finite. Default {@link DEFAULT_BUCKETS}. */
  buckets?: readonly number[];
}

/** A histogram family. */
export class Histogram extends Metric<HistogramSeries> {
  readonly type = 'histogram' as const;
  /** The bucket upper bounds, without `+Inf`. */
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions) {
    super(options as MetricOptions<never>, ['le']);
    const buckets = options.buckets ?? DEFAULT_BUCKETS;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!)) {
        throw new MetricDefinitionError(
          'AVX_METRIC_INVALID_BUCKETS',
          options.name,
          'buckets must be finite numbers in strictly increasing order (+Inf is added)',
        );
      }
    }
    this.buckets = Object.freeze([...buckets]);
  }

  protected createChild(): HistogramSeries {
    return new HistogramSeries(this.buckets);
  }

  /** Records one observation in a histogram without labels. */
  observe(value: number): void {
    this.single.observe(value);
  }
}

/** `count` buckets starting at `start`, each `factor` times the previous (like prom-client). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(v);
  return out;
}

/** `count` buckets starting at `start`, `width` apart. */
export function linearBuckets(start: number, width: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(start + i * width);
  return out;
}
