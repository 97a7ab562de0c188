import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter } from '../../../src/telemetry/metrics/counter.js';
import { negotiateExposition } from '../../../src/telemetry/metrics/exposition-negotiation.js';
import { Gauge } from '../../../src/telemetry/metrics/gauge.js';
import { Histogram } from '../../../src/telemetry/metrics/histogram.js';
import { MetricDefinitionError } from '../../../src/telemetry/metrics/metric-definition-error.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';

test('counter, gauge and histogram expose in the Prometheus text format 0.0.4', () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter({ name: 'demo_requests_total', help: 'Requests', labelNames: ['code'] });
  requests.labels('200').inc();
  requests.child('200').inc(2);
  requests.child('500').inc();
  const temp = registry.gauge({ name: 'demo_temperature', help: 'Temp "quoted"\\ok' });
  temp.set(21.5);
  temp.dec(0.5);
  const size = registry.histogram({ name: 'demo_size', help: 'Size', buckets: [1, 10] });
  size.observe(0.5);
  size.observe(1);
  size.observe(5);
  size.observe(100);
  assert.equal(
    registry.exposition(),
    [
      '# HELP demo_requests_total Requests',
      '# TYPE demo_requests_total counter',
      'demo_requests_total{code="200"} 3',
      'demo_requests_total{code="500"} 1',
      '# HELP demo_temperature Temp "quoted"\\\\ok',
      '# TYPE demo_temperature gauge',
      'demo_temperature 21',
      '# HELP demo_size Size',
      '# TYPE demo_size histogram',
      'demo_size_bucket{le="1"} 2',
      'demo_size_bucket{le="10"} 3',
      'demo_size_bucket{le="+Inf"} 4',
      'demo_size_sum 106.5',
      'demo_size_count 4',
      '',
    ].join('\n'),
  );
});

test('OpenMetrics names counter families without _total, writes le as floats and ends with # EOF', () => {
  const registry = new MetricsRegistry();
  registry.counter({ name: 'jobs_total', help: 'Jobs' }).inc(2);
  const h = registry.histogram({
    name: 'lat_seconds',
    help: 'Latency',
    buckets: [0.5, 2],
    labelNames: ['op'],
  });
  h.labels('read').observe(1);
  const text = registry.exposition('openmetrics');
  assert.match(text, /^# HELP jobs Jobs\n# TYPE jobs counter\njobs_total 2\n/);
  assert.match(text, /lat_seconds_bucket\{op="read",le="0.5"\} 0\n/);
  assert.match(text, /lat_seconds_bucket\{op="read",le="2.0"\} 1\n/);
  assert.match(text, /lat_seconds_bucket\{op="read",le="\+Inf"\} 1\n/);
  assert.ok(text.endsWith('# EOF\n'));
});

test('label values are escaped', () => {
  const registry = new MetricsRegistry();
  registry
    .counter({ name: 'x_total', labelNames: ['v'] })
    .labels('a"b\\c\nd')
    .inc();
  assert.match(registry.exposition(), /x_total\{v="a\\"b\\\\c\\nd"\} 1/);
});

test('the cardinality cap drops samples of new series and counts them', () => {
  const registry = new MetricsRegistry();
  const c = registry.counter({ name: 'capped_total', labelNames: ['id'], maxSeries: 2 });
  c.child('a').inc();
  c.child('b').inc();
  c.child('c').inc();
  c.child('d').inc(5);
  c.child('a').inc();
  assert.equal(c.seriesCount, 2);
  assert.equal(c.droppedSamples, 2);
  const text = registry.exposition();
  assert.match(text, /capped_total\{id="a"\} 2/);
  assert.doesNotMatch(text, /id="c"|id="d"/);
  assert.match(text, /avx_metrics_series_dropped_total\{metric="capped_total"\} 2/);
});

test('definitions that break the data model throw MetricDefinitionError with stable codes', () => {
  const registry = new MetricsRegistry();
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof MetricDefinitionError);
      return err.code;
    }
    return 'none';
  };
  assert.equal(
    code(() => new Counter({ name: '1bad' })),
    'AVX_METRIC_INVALID_NAME',
  );
  assert.equal(
    code(() => new Counter({ name: 'ok_total', labelNames: ['__x'] })),
    'AVX_METRIC_INVALID_LABEL',
  );
  assert.equal(
    code(() => new Histogram({ name: 'h', labelNames: ['le'] })),
    'AVX_METRIC_INVALID_LABEL',
  );
  assert.equal(
    code(() => new Histogram({ name: 'h', buckets: [1, 1] })),
    'AVX_METRIC_INVALID_BUCKETS',
  );
  assert.equal(
    code(() => new Histogram({ name: 'h', buckets: [1, Number.NaN] })),
    'AVX_METRIC_INVALID_BUCKETS',
  );
  registry.counter({ name: 'dup_total' });
  assert.equal(
    code(() => registry.counter({ name: 'dup_total' })),
    'AVX_METRIC_DUPLICATE',
  );
  const labelled = new Counter({ name: 'l_total', labelNames: ['a', 'b'] });
  assert.equal(
    code(() => labelled.labels('x')),
    'AVX_METRIC_LABEL_COUNT',
  );
  assert.equal(
    code(() => labelled.inc()),
    'AVX_METRIC_LABEL_COUNT',
  );
  assert.equal(
    code(() => new Counter({ name: 'n_total' }).inc(-1)),
    'AVX_METRIC_NEGATIVE_INCREMENT',
  );
  assert.equal(
    code(() => new Gauge({ name: 'g', aggregate: 'median' as never })),
    'AVX_METRIC_INVALID_AGGREGATION',
  );
});

test('a pre-resolved series is the same object on every lookup (no allocation on the hot path)', () => {
  const c = new Counter({ name: 'same_total', labelNames: ['a', 'b', 'c'] });
  const first = c.child('x', 'y', 'z');
  assert.equal(c.child('x', 'y', 'z'), first);
  assert.equal(c.labels('x', 'y', 'z'), first);
  assert.notEqual(c.child('x', 'y', 'w'), first);
});

test('collect hooks run before exposition and snapshot; the JSON snapshot lists every series', () => {
  const registry = new MetricsRegistry();
  let reads = 0;
  registry.gauge({ name: 'reads', help: 'Reads', collect: (g) => g.set(++reads) });
  const h = registry.histogram({ name: 'h_seconds', buckets: [1], labelNames: ['k'] });
  h.child('v').observe(0.5);
  h.child('v').observe(3);
  const snap = registry.snapshot();
  const reads1 = snap.metrics.find((m) => m.name === 'reads');
  assert.deepEqual(reads1?.series, [{ labels: {}, value: 1 }]);
  const hist = snap.metrics.find((m) => m.name === 'h_seconds');
  assert.deepEqual(hist?.series, [
    {
      labels: { k: 'v' },
      buckets: [
        { le: '1', count: 1 },
        { le: '+Inf', count: 2 },
      ],
      sum: 3.5,
      count: 2,
    },
  ]);
  assert.match(registry.exposition(), /^reads 2$/m);
});

test('the exposition format is negotiated from Accept with q-values', () => {
  assert.equal(negotiateExposition(undefined), 'prometheus');
  assert.equal(negotiateExposition('*/*'), 'prometheus');
  assert.equal(negotiateExposition('text/plain;version=0.0.4'), 'prometheus');
  assert.equal(
    negotiateExposition(
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    ),
    'openmetrics',
  );
  assert.equal(negotiateExposition('application/openmetrics-text;q=0.2, text/plain'), 'prometheus');
  assert.equal(negotiateExposition('application/json'), 'json');
  assert.equal(negotiateExposition('application/openmetrics-text;q=0'), 'prometheus');
});
