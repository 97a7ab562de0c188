/**
 * A {@link MetricsSnapshot} (plain data: the JSON form of a registry, or the merge of several
 * workers' registries) written in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0. The
 * snapshot is turned back into metric families and handed to the same writers a registry
 * uses, so a merged scrape reads exactly like a single process's: same escaping, same
 * OpenMetrics counter naming, same `le` spelling.
 */
import { Counter } from './counter.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import type { ExpositionFormat } from './metrics-registry.js';
import type { MetricFamilySnapshot, MetricsSnapshot } from './metrics-snapshot.js';
import { type AnyMetric, writeOpenMetricsText, writePrometheusText } from './text-exposition.js';

/**
 * `snapshot` in `format` (default Prometheus text 0.0.4). Every series of a histogram family
 * must have the same buckets, as a registry's snapshot and a merged snapshot do.
 */
export function writeSnapshotExposition(
  snapshot: MetricsSnapshot,
  format: Exclude<ExpositionFormat, 'json'> = 'prometheus',
): string {
  const families = snapshot.metrics.map(familyOf);
  return format === 'openmetrics' ? writeOpenMetricsText(families) : writePrometheusText(families);
}

/** The family a snapshot describes, with its series' values set. */
function familyOf(family: MetricFamilySnapshot): AnyMetric {
  const { name, help, type, series } = family;
  // The snapshot keeps label names only in each series' labels (all alike within a family).
  const labelNames = Object.keys(series[0]?.labels ?? {});
  const valuesOf = (labels: Record<string, string>) => labelNames.map((n) => labels[n] ?? '');
  // The workers each capped their series already; the union of their series is kept whole.
  const options = { name, help, labelNames, maxSeries: Number.POSITIVE_INFINITY };
  if (type === 'histogram') {
    const bounds = (series[0]?.buckets ?? []).filter((b) => b.le !== '+Inf').map((b) => Number(b.le));
    const histogram = new Histogram({ ...options, buckets: bounds });
    for (const s of series) {
      const child = histogram.labels(...valuesOf(s.labels));
      // The snapshot's buckets are cumulative; the series counts each bucket on its own.
      let below = 0;
      (s.buckets ?? []).forEach((bucket, i) => {
        child.counts[i] = bucket.count - below;
        below = bucket.count;
      });
      child.totals[0] = s.sum ?? 0;
      child.totals[1] = s.count ?? 0;
    }
    return histogram;
  }
  const metric = type === 'counter' ? new Counter(options) : new Gauge(options);
  for (const s of series) metric.labels(...valuesOf(s.labels)).value = s.value ?? 0;
  return metric;
}
