/**
 * A JSON-friendly snapshot of metric families, for dashboards and tests that would rather not
 * parse text: every series with its labels as an object, counters and gauges with their value,
 * histograms with cumulative buckets (`le` as in the text format), sum and count.
 */
import type { HistogramSeries } from './histogram.js';
import { type AnyMetric, formatNumber } from './text-exposition.js';

/** One series in a {@link MetricsSnapshot}. */
export interface SeriesSnapshot {
  labels: Record<string, string>;
  /** Counter or gauge value. */
  value?: number;
  /** Histogram: cumulative count per upper bound (`le`: the bound as text, `+Inf` last). */
  buckets?: { le: string; count: number }[];
  sum?: number;
  count?: number;
}

/** One metric family in a {@link MetricsSnapshot}. */
export interface MetricFamilySnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  series: SeriesSnapshot[];
}

/** Every metric family, as plain data. */
export interface MetricsSnapshot {
  metrics: MetricFamilySnapshot[];
}

/** Builds the snapshot of `metrics` (run their collect hooks first). */
export function snapshotMetrics(metrics: Iterable<AnyMetric>): MetricsSnapshot {
  const out: MetricFamilySnapshot[] = [];
  for (const metric of metrics) {
    const series: SeriesSnapshot[] = [];
    for (const { labelValues, child } of metric.series) {
      const labels: Record<string, string> = {};
      metric.labelNames.forEach((name, i) => {
        labels[name] = labelValues[i]!;
      });
      if (metric.type === 'histogram') {
        const h = child as HistogramSeries;
        let cumulative = 0;
        const buckets = [...metric.buckets, Number.POSITIVE_INFINITY].map((bound, i) => {
          cumulative += h.counts[i]!;
          return { le: formatNumber(bound), count: cumulative };
        });
        series.push({ labels, buckets, sum: h.sum, count: h.count });
      } else {
        series.push({ labels, value: (child as { value: number }).value });
      }
    }
    out.push({ name: metric.name, help: metric.help, type: metric.type, series });
  }
  return { metrics: out };
}
