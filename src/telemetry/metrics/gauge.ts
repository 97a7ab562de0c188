/**
 * Gauge: a value that goes up and down (Prometheus metric type `gauge`; OpenMetrics 1.0
 * §"Gauge"). Setting it mutates one number: no allocation. Its definition also says how a
 * cluster-wide scrape merges the series of several workers (`aggregate`), since only the
 * definition knows whether its values add up (connections) or not (a version, a latency).
 */
import { Metric, type MetricOptions } from './metric.js';
import { MetricDefinitionError } from './metric-definition-error.js';

/** One gauge series. */
export class GaugeSeries {
  /** The current value. */
  value = 0;

  set(value: number): void {
    this.value = value;
  }

  inc(amount = 1): void {
    this.value += amount;
  }

  dec(amount = 1): void {
    this.value -= amount;
  }
}

/**
 * How the series of one label set are merged across cluster workers (see
 * metrics-snapshot-merge.ts): `'sum'` adds them (connections, bytes in use), `'max'` and
 * `'min'` keep the extreme (a worst latency, an oldest start time), `'first'` keeps the lowest
 * worker id's (facts every worker shares, like a version), `'average'` is the mean over the
 * workers that have the series.
 */
export type GaugeAggregation = 'sum' | 'max' | 'min' | 'first' | 'average';

const AGGREGATIONS: readonly GaugeAggregation[] = ['sum', 'max', 'min', 'first', 'average'];

/** Options of {@link Gauge}. */
export interface GaugeOptions extends MetricOptions<Gauge> {
  /** How a cluster-wide scrape merges this gauge across workers. Default `'sum'`. */
  aggregate?: GaugeAggregation;
}

/** A gauge family. */
export class Gauge extends Metric<GaugeSeries> {
  readonly type = 'gauge' as const;
  /** How a cluster-wide scrape merges this gauge across workers. */
  readonly aggregate: GaugeAggregation;

  constructor(options: GaugeOptions) {
    super(options as MetricOptions<never>);
    const aggregate = options.aggregate ?? 'sum';
    if (!AGGREGATIONS.includes(aggregate)) {
      throw new MetricDefinitionError(
        'AVX_METRIC_INVALID_AGGREGATION',
        options.name,
        `aggregate must be one of ${AGGREGATIONS.join(', ')}; got ${JSON.stringify(aggregate)}`,
      );
    }
    this.aggregate = aggregate;
  }

  protected createChild(): GaugeSeries {
    return new GaugeSeries();
  }

  /** Sets a gauge without labels. */
  set(value: number): void {
    this.single.set(value);
  }

  inc(amount = 1): void {
    this.single.inc(amount);
  }

  dec(amount = 1): void {
    this.single.dec(amount);
  }

  /** The value of a gauge without labels. */
  get value(): number {
    return this.single.value;
  }
}
