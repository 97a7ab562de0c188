/**
 * Merges the metrics snapshots of several processes (the workers of a cluster) into one, as a
 * single process serving all their requests would have recorded them. The rules:
 * - Series are matched by metric name and identical label set (names and values); a series or
 *   a whole family that only some workers have is kept as it is.
 * - Counters are summed.
 * - Histograms: each cumulative bucket, `_sum` and `_count` are summed. Should workers use
 *   different bucket bounds for one family, the merged family has every bound of any of them,
 *   and a worker lacking a bound contributes its count at its own next lower bound (what it
 *   knows to be at most that bound), so buckets stay cumulative and `+Inf` equals `_count`.
 * - Gauges follow their family's {@link GaugeAggregation} (`sum` unless the definition says
 *   otherwise): sum, max, min, first (the first contribution, in the order given, that has the
 *   series) or average (over the contributions that have the series).
 * - A name whose type differs between workers keeps the first worker's type; the other
 *   workers' families of that name are left out (a definition bug the merge cannot resolve).
 * - Help text and family order are the first worker's that has the family.
 * The merge is pure: no I/O, the inputs are not modified.
 */
import type { GaugeAggregation } from './gauge.js';
import type { MetricsRegistry } from './metrics-registry.js';
import type { MetricFamilySnapshot, MetricsSnapshot, SeriesSnapshot } from './metrics-snapshot.js';
import { formatNumber } from './text-exposition.js';

/** One process's part of a merge. */
export interface MetricsContribution {
  /** The process's registry snapshot. */
  snapshot: MetricsSnapshot;
  /**
   * The rule of each gauge family whose rule is not `'sum'`, by metric name (the `aggregate`
   * of its definition). The first contribution naming a family's rule decides it.
   */
  gaugeAggregation?: Readonly<Record<string, GaugeAggregation>>;
}

/** `registry`'s contribution: its snapshot (collect hooks run) and its gauges' rules. */
export function contributionOf(registry: MetricsRegistry): MetricsContribution {
  const snapshot = registry.snapshot();
  const gaugeAggregation: Record<string, GaugeAggregation> = {};
  for (const metric of registry.metrics()) {
    if (metric.type === 'gauge' && metric.aggregate !== 'sum')
      gaugeAggregation[metric.name] = metric.aggregate;
  }
  return { snapshot, gaugeAggregation };
}

/** A family being merged. */
interface FamilyTotal {
  readonly family: MetricFamilySnapshot;
  /** Gauges: the rule (settled before any series is added). */
  aggregation: GaugeAggregation;
  /** Histograms: every bucket bound of any contribution, ascending, `+Inf` last. */
  readonly bounds: number[];
  readonly series: Map<string, SeriesTotal>;
}

/** A series being merged. */
interface SeriesTotal {
  readonly labels: Record<string, string>;
  value: number;
  /** Contributions that had the series (for `average`). */
  contributors: number;
  /** Histograms: cumulative counts at the family's bounds. */
  cumulative: number[];
  sum: number;
  count: number;
}

/** The merge of `contributions` (see the file comment for the rules). */
export function mergeMetricsSnapshots(contributions: readonly MetricsContribution[]): MetricsSnapshot {
  const families = new Map<string, FamilyTotal>();
  const aggregations = new Map<string, GaugeAggregation>();
  for (const { snapshot, gaugeAggregation } of contributions) {
    for (const [name, rule] of Object.entries(gaugeAggregation ?? {})) {
      if (!aggregations.has(name)) aggregations.set(name, rule);
    }
    for (const family of snapshot.metrics) {
      const total = families.get(family.name);
      if (total === undefined) {
        families.set(family.name, {
          family,
          aggregation: 'sum',
          bounds: family.type === 'histogram' ? boundsOf(family.series) : [],
          series: new Map(),
        });
      } else if (total.family.type === family.type && family.type === 'histogram') {
        // Bounds are settled before any series is added, so every series shares them.
        mergeBounds(total.bounds, boundsOf(family.series));
      }
    }
  }
  for (const [name, rule] of aggregations) {
    const total = families.get(name);
    if (total !== undefined) total.aggregation = rule;
  }
  for (const { snapshot } of contributions) {
    for (const family of snapshot.metrics) {
      const total = families.get(family.name)!;
      if (total.family.type !== family.type) continue;
      for (const series of family.series) addSeries(total, series);
    }
  }
  return { metrics: [...families.values()].map(snapshotOf) };
}

/** The merged family as snapshot data. */
function snapshotOf(total: FamilyTotal): MetricFamilySnapshot {
  const { name, help, type } = total.family;
  const series: SeriesSnapshot[] = [];
  for (const s of total.series.values()) {
    if (type !== 'histogram') {
      const average = type === 'gauge' && total.aggregation === 'average';
      series.push({ labels: s.labels, value: average ? s.value / s.contributors : s.value });
      continue;
    }
    const buckets = total.bounds.map((bound, i) => ({ le: formatNumber(bound), count: s.cumulative[i]! }));
    series.push({ labels: s.labels, buckets, sum: s.sum, count: s.count });
  }
  return { name, help, type, series };
}

/** Adds one contribution's series to the family's total. */
function addSeries(total: FamilyTotal, series: SeriesSnapshot): void {
  const key = labelKey(series.labels);
  const type = total.family.type;
  const existing = total.series.get(key);
  if (existing === undefined) {
    const fresh: SeriesTotal = {
      labels: { ...series.labels },
      value: series.value ?? 0,
      contributors: 1,
      cumulative: type === 'histogram' ? total.bounds.map((b) => cumulativeAt(series, b)) : [],
      sum: series.sum ?? 0,
      count: series.count ?? 0,
    };
    total.series.set(key, fresh);
    return;
  }
  existing.contributors++;
  const value = series.value ?? 0;
  if (type === 'histogram') {
    total.bounds.forEach((bound, i) => {
      existing.cumulative[i]! += cumulativeAt(series, bound);
    });
    existing.sum += series.sum ?? 0;
    existing.count += series.count ?? 0;
  } else if (type === 'counter') {
    existing.value += value;
  } else {
    switch (total.aggregation) {
      case 'sum':
      case 'average':
        existing.value += value;
        break;
      case 'max':
        existing.value = Math.max(existing.value, value);
        break;
      case 'min':
        existing.value = Math.min(existing.value, value);
        break;
      case 'first':
        // The first contribution's value stands.
        break;
    }
  }
}

/**
 * A series' identity within its family: its label pairs sorted by name, so that the order in
 * which a worker listed them does not matter.
 */
function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((name) => [name, labels[name]]),
  );
}

/** A bucket's upper bound as a number (`le` is text, `+Inf` included). */
function parseLe(le: string): number {
  return le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
}

/** Every bucket bound of a histogram family's series, ascending, with `+Inf`. */
function boundsOf(series: readonly SeriesSnapshot[]): number[] {
  const bounds = [Number.POSITIVE_INFINITY];
  for (const s of series) {
    mergeBounds(
      bounds,
      (s.buckets ?? []).map((b) => parseLe(b.le)),
    );
  }
  return bounds;
}

/** Adds the bounds of `more` missing from `bounds`, keeping it ascending. */
function mergeBounds(bounds: number[], more: readonly number[]): void {
  let added = false;
  for (const bound of more) {
    if (Number.isNaN(bound) || bounds.includes(bound)) continue;
    bounds.push(bound);
    added = true;
  }
  if (added) bounds.sort((a, b) => a - b);
}

/** The series' cumulative count at its largest bound not above `bound` (0 below its first). */
function cumulativeAt(series: SeriesSnapshot, bound: number): number {
  let count = 0;
  for (const bucket of series.buckets ?? []) {
    if (parseLe(bucket.le) > bound) break;
    count = bucket.count;
  }
  return count;
}
