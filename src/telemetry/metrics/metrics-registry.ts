/**
 * MetricsRegistry: the set of metric families one exposition shows. It creates and names
 * families (a name is registered once), runs their collect hooks, and writes them in the
 * Prometheus text format 0.0.4, OpenMetrics 1.0.0 or as a JSON snapshot. It also owns
 * `avx_metrics_series_dropped_total{metric}`, the count of samples the cardinality cap of a
 * family dropped.
 */
import { Counter, type CounterOptions } from './counter.js';
import { Gauge, type GaugeOptions } from './gauge.js';
import { Histogram, type HistogramOptions } from './histogram.js';
import { MetricDefinitionError } from './metric-definition-error.js';
import { type MetricsSnapshot, snapshotMetrics } from './metrics-snapshot.js';
import { type AnyMetric, writeOpenMetricsText, writePrometheusText } from './text-exposition.js';

/** The exposition formats a registry writes. */
export type ExpositionFormat = 'prometheus' | 'openmetrics' | 'json';

/** A registry of metric families. */
export class MetricsRegistry {
  private readonly families = new Map<string, AnyMetric>();
  /** Samples dropped by each family's cardinality cap. */
  readonly droppedSeries: Counter;

  constructor() {
    this.droppedSeries = new Counter({
      name: 'avx_metrics_series_dropped_total',
      help: 'Samples dropped because their label set would exceed the series limit of their metric',
      labelNames: ['metric'],
    });
    this.families.set(this.droppedSeries.name, this.droppedSeries);
  }

  /** Adds a family; throws `AVX_METRIC_DUPLICATE` when its name is taken. */
  register<M extends AnyMetric>(metric: M): M {
    if (this.families.has(metric.name)) {
      throw new MetricDefinitionError('AVX_METRIC_DUPLICATE', metric.name, 'is already registered');
    }
    this.families.set(metric.name, metric);
    if (metric !== this.droppedSeries) {
      const dropped = this.droppedSeries;
      let child: { inc(n?: number): void } | undefined;
      metric.onSeriesDropped = () => {
        child ??= dropped.labels(metric.name);
        child.inc();
      };
    }
    return metric;
  }

  /** Removes a family by name; true when there was one. */
  unregister(name: string): boolean {
    if (name === this.droppedSeries.name) return false;
    return this.families.delete(name);
  }

  /** Creates and registers a counter. */
  counter(options: CounterOptions): Counter {
    return this.register(new Counter(options));
  }

  /** Creates and registers a gauge. */
  gauge(options: GaugeOptions): Gauge {
    return this.register(new Gauge(options));
  }

  /** Creates and registers a histogram. */
  histogram(options: HistogramOptions): Histogram {
    return this.register(new Histogram(options));
  }

  /** The family named `name`, if registered. */
  get(name: string): AnyMetric | undefined {
    return this.families.get(name);
  }

  /** Every family, in registration order. */
  metrics(): AnyMetric[] {
    return [...this.families.values()];
  }

  /** Runs every family's collect hook. A hook that throws leaves its family as it was. */
  collect(): void {
    for (const metric of this.families.values()) {
      try {
        metric.collect();
      } catch {
        // A failing collector must not break the scrape of every other family.
      }
    }
  }

  /** Collects, then writes every family in `format` (default Prometheus text 0.0.4). */
  exposition(format: Exclude<ExpositionFormat, 'json'> = 'prometheus'): string {
    this.collect();
    const families = this.families.values();
    return format === 'openmetrics' ? writeOpenMetricsText(families) : writePrometheusText(families);
  }

  /** Collects, then returns every family as plain data. */
  snapshot(): MetricsSnapshot {
    this.collect();
    return snapshotMetrics(this.families.values());
  }
}
