import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GaugeAggregation } from '../../../src/telemetry/metrics/gauge.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';
import type {
  MetricFamilySnapshot,
  MetricsSnapshot,
} from '../../../src/telemetry/metrics/metrics-snapshot.js';
import {
  contributionOf,
  type MetricsContribution,
  mergeMetricsSnapshots,
} from '../../../src/telemetry/metrics/metrics-snapshot-merge.js';
import { writeSnapshotExposition } from '../../../src/telemetry/metrics/snapshot-exposition.js';

function family(name: string, type: MetricFamilySnapshot['type'], series: MetricFamilySnapshot['series']) {
  return { name, help: `${name} help`, type, series };
}

function worker(
  metrics: MetricFamilySnapshot[],
  gaugeAggregation?: Record<string, GaugeAggregation>,
): MetricsContribution {
  return { snapshot: { metrics }, gaugeAggregation };
}

function familyOf(snapshot: MetricsSnapshot, name: string): MetricFamilySnapshot {
  const found = snapshot.metrics.find((m) => m.name === name);
  assert.ok(found, `${name} is in the merge`);
  return found;
}

test('counters are summed per identical label set; other label sets and one-worker series stay apart', () => {
  const merged = mergeMetricsSnapshots([
    worker([
      family('requests_total', 'counter', [
        { labels: { method: 'GET', code: '200' }, value: 3 },
        { labels: { method: 'GET', code: '500' }, value: 1 },
      ]),
    ]),
    worker([
      family('requests_total', 'counter', [
        // The same label set listed in another order is the same series.
        { labels: { code: '200', method: 'GET' }, value: 4 },
        { labels: { method: 'POST', code: '200' }, value: 2 },
      ]),
      family('only_here_total', 'counter', [{ labels: {}, value: 7 }]),
    ]),
  ]);
  assert.deepEqual(familyOf(merged, 'requests_total').series, [
    { labels: { method: 'GET', code: '200' }, value: 7 },
    { labels: { method: 'GET', code: '500' }, value: 1 },
    { labels: { method: 'POST', code: '200' }, value: 2 },
  ]);
  assert.deepEqual(familyOf(merged, 'only_here_total').series, [{ labels: {}, value: 7 }]);
  assert.deepEqual(
    merged.metrics.map((m) => m.name),
    ['requests_total', 'only_here_total'],
  );
});

test('histograms: buckets, sum and count are summed per label set', () => {
  const h = (le1: number, le2: number, inf: number, sum: number) => ({
    labels: { route: '/a' },
    buckets: [
      { le: '0.1', count: le1 },
      { le: '1', count: le2 },
      { le: '+Inf', count: inf },
    ],
    sum,
    count: inf,
  });
  const merged = mergeMetricsSnapshots([
    worker([family('duration_seconds', 'histogram', [h(1, 2, 3, 1.5)])]),
    worker([family('duration_seconds', 'histogram', [h(4, 4, 5, 2.25)])]),
    worker([family('duration_seconds', 'histogram', [{ ...h(0, 1, 1, 0.5), labels: { route: '/b' } }])]),
  ]);
  assert.deepEqual(familyOf(merged, 'duration_seconds').series, [
    { ...h(5, 6, 8, 3.75) },
    { ...h(0, 1, 1, 0.5), labels: { route: '/b' } },
  ]);
});

test('histograms with different bucket bounds: every bound, each worker counted at its next lower bound', () => {
  /** An unlabelled histogram series from `le: cumulative count` pairs (`+Inf` last). */
  const sizes = (buckets: [le: string, count: number][], sum: number) =>
    worker([
      family('size_bytes', 'histogram', [
        {
          labels: {},
          buckets: buckets.map(([le, count]) => ({ le, count })),
          sum,
          count: buckets.at(-1)![1],
        },
      ]),
    ]);
  const merged = mergeMetricsSnapshots([
    sizes(
      [
        ['10', 2],
        ['100', 5],
        ['+Inf', 6],
      ],
      400,
    ),
    sizes(
      [
        ['50', 1],
        ['+Inf', 3],
      ],
      300,
    ),
  ]);
  assert.deepEqual(familyOf(merged, 'size_bytes').series, [
    {
      labels: {},
      buckets: [
        { le: '10', count: 2 + 0 },
        { le: '50', count: 2 + 1 },
        { le: '100', count: 5 + 1 },
        { le: '+Inf', count: 9 },
      ],
      sum: 700,
      count: 9,
    },
  ]);
});

test('gauges follow their rule: sum (default), max, min, first, average', () => {
  const gauges = (v: number, missing = false): MetricFamilySnapshot[] =>
    ['g_sum', 'g_max', 'g_min', 'g_first', 'g_average'].map((name) =>
      family(name, 'gauge', [
        { labels: { k: 'x' }, value: v },
        ...(missing ? [] : [{ labels: { k: 'y' }, value: v * 10 }]),
      ]),
    );
  const rules: Record<string, GaugeAggregation> = {
    g_max: 'max',
    g_min: 'min',
    g_first: 'first',
    g_average: 'average',
  };
  // The third worker lacks series k=y: `average` divides by the workers that have it.
  const merged = mergeMetricsSnapshots([
    worker(gauges(2), rules),
    worker(gauges(8), rules),
    worker(gauges(5, true), rules),
  ]);
  // Series x: 2, 8, 5; series y: 20, 80 (the third worker has none).
  const expected: Record<string, [x: number, y: number]> = {
    g_sum: [15, 100],
    g_max: [8, 80],
    g_min: [2, 20],
    g_first: [2, 20],
    g_average: [5, 50],
  };
  for (const [name, [x, y]] of Object.entries(expected)) {
    const values = familyOf(merged, name).series.map((s) => [s.labels.k, s.value]);
    assert.deepEqual(values, [
      ['x', x],
      ['y', y],
    ]);
  }
});

test('a rule named by a later worker applies; a type conflict keeps the first type; inputs are untouched', () => {
  const first = worker([
    family('version_info', 'gauge', [{ labels: { v: '20' }, value: 1 }]),
    family('odd', 'counter', [{ labels: {}, value: 1 }]),
  ]);
  const second = worker(
    [
      family('version_info', 'gauge', [{ labels: { v: '20' }, value: 1 }]),
      family('odd', 'gauge', [{ labels: {}, value: 100 }]),
    ],
    { version_info: 'first' },
  );
  const before = JSON.stringify([first, second]);
  const merged = mergeMetricsSnapshots([first, second]);
  assert.deepEqual(familyOf(merged, 'version_info').series, [{ labels: { v: '20' }, value: 1 }]);
  assert.equal(familyOf(merged, 'odd').type, 'counter');
  assert.deepEqual(familyOf(merged, 'odd').series, [{ labels: {}, value: 1 }]);
  assert.equal(JSON.stringify([first, second]), before);
  assert.deepEqual(mergeMetricsSnapshots([]), { metrics: [] });
});

test('two registries merged expose exactly what one registry recording everything exposes', () => {
  const define = (registry: MetricsRegistry) => ({
    registry,
    requests: registry.counter({ name: 'app_requests_total', help: 'Requests', labelNames: ['route'] }),
    open: registry.gauge({ name: 'app_open', help: 'Open "things"\\n', labelNames: ['kind'] }),
    lag: registry.gauge({ name: 'app_lag_seconds', help: 'Worst lag', aggregate: 'max' }),
    sizes: registry.histogram({
      name: 'app_size_bytes',
      help: 'Sizes',
      labelNames: ['route'],
      buckets: [10, 100],
    }),
  });
  const a = define(new MetricsRegistry());
  const b = define(new MetricsRegistry());
  const all = define(new MetricsRegistry());
  const work: [route: string, size: number, worker: ReturnType<typeof define>][] = [
    ['/a', 5, a],
    ['/a', 50, b],
    ['/b"\n\\', 500, a],
    ['/a', 10, b],
    ['/b"\n\\', 7, b],
  ];
  for (const [route, size, w] of work) {
    for (const instruments of [w, all]) {
      instruments.requests.labels(route).inc();
      instruments.sizes.labels(route).observe(size);
    }
  }
  a.open.labels('socket').set(2);
  b.open.labels('socket').set(3);
  all.open.labels('socket').set(5);
  a.lag.set(0.25);
  b.lag.set(Number.POSITIVE_INFINITY);
  all.lag.set(Number.POSITIVE_INFINITY);
  const merged = mergeMetricsSnapshots([contributionOf(a.registry), contributionOf(b.registry)]);
  for (const format of ['prometheus', 'openmetrics'] as const) {
    assert.equal(writeSnapshotExposition(merged, format), all.registry.exposition(format), format);
  }
  assert.deepEqual(merged, all.registry.snapshot());
});
