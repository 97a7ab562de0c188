import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../../src/server/app.js';
import { ClusterMetricsScrape } from '../../../src/telemetry/metrics/cluster-metrics-scrape.js';
import { metrics } from '../../../src/telemetry/metrics/metrics-middleware.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';

test('outside a cluster worker a registry cannot be shared, and metrics({ cluster: true }) answers as before', async () => {
  assert.equal(ClusterMetricsScrape.available, false);
  assert.throws(() => new ClusterMetricsScrape(new MetricsRegistry()), {
    code: 'AVX_METRICS_CLUSTER_NOT_WORKER',
  });
  assert.throws(() => new ClusterMetricsScrape(new MetricsRegistry(), { timeout: 0 }), {
    code: 'AVX_METRICS_CLUSTER_INVALID_TIMEOUT',
  });
  const instrument = metrics({ cluster: { timeout: 100 }, process: false });
  assert.equal(instrument.cluster, undefined);
  const app = new App();
  app.use(instrument);
  app.get('/hello', () => 'hello');
  const server = await app.listen({ port: 0 });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    await (await fetch(`${base}/hello`)).text();
    const res = await fetch(`${base}/metrics`);
    // The single-process exposition: a body of known length, not the cluster's streamed one.
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.ok(Number(res.headers.get('content-length')) > 0);
    assert.match(
      await res.text(),
      /^http_server_requests_total\{method="GET",route="\/hello",status_class="2xx"\} 1$/m,
    );
    assert.doesNotMatch(await (await fetch(`${base}/metrics`)).text(), /avx_metrics_cluster_workers/);
  } finally {
    await server.close();
    instrument.close();
  }
});
