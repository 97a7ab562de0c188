import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { cachePolicy } from '../../../src/client/cache/cache-policy.js';
import { Client } from '../../../src/client/client.js';
import { regionalFailover } from '../../../src/client/regional/regional-failover.js';
import { ClientMetrics } from '../../../src/telemetry/metrics/client-metrics.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';
import { freePort } from '../../free-port.js';

/** The value of `name{labels}` in a Prometheus exposition, or undefined. */
function sample(exposition: string, series: string): number | undefined {
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function origin(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('http_client_cache_requests_total counts what the cache did: miss, hit, revalidated, unavailable', async () => {
  const registry = new MetricsRegistry();
  const instruments = new ClientMetrics(registry);
  let now = 1_000_000;
  const o = await origin((req, res) => {
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=10' }).end();
      return;
    }
    res
      .writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=10', date: new Date(now).toUTCString() })
      .end('body');
  });
  const client = new Client().use(cachePolicy({ now: () => now }));
  try {
    await (await client.get(`${o.url}/a`)).text(); // miss, stored
    await (await client.get(`${o.url}/a`)).text(); // hit
    now += 20_000;
    await (await client.get(`${o.url}/a`)).text(); // stale: revalidated with 304
    await (await client.get(`${o.url}/b`, { headers: { 'cache-control': 'only-if-cached' } })).text();
    const text = registry.exposition();
    const series = (result: string) =>
      `http_client_cache_requests_total{origin="${o.url}",result="${result}"}`;
    assert.equal(sample(text, series('miss')), 1);
    assert.equal(sample(text, series('hit')), 1);
    assert.equal(sample(text, series('revalidated')), 1);
    assert.equal(sample(text, series('unavailable')), 1);
  } finally {
    instruments.close();
    await client.close();
    await o.close();
  }
});

test('http_client_regional_events_total counts failovers and requests every region failed', async () => {
  const registry = new MetricsRegistry();
  const instruments = new ClientMetrics(registry);
  const good = await origin((_req, res) => res.end('ok'));
  const refused = `http://127.0.0.1:${await freePort()}`; // nobody listens there
  const client = new Client({ retry: false }).use(
    regionalFailover({
      endpoints: [
        { region: 'lima', url: refused },
        { region: 'bogota', url: good.url },
      ],
      placeholderOrigin: 'http://api.regional',
    }),
  );
  const allDown = new Client({ retry: false }).use(
    regionalFailover({
      endpoints: [{ region: 'santiago', url: refused }],
      placeholderOrigin: 'http://down.regional',
    }),
  );
  try {
    assert.equal(await (await client.get('http://api.regional/x')).text(), 'ok');
    await assert.rejects(allDown.get('http://down.regional/x'));
    const text = registry.exposition();
    assert.equal(
      sample(text, 'http_client_regional_events_total{origin="http://api.regional",event="failover"}'),
      1,
    );
    assert.equal(
      sample(text, 'http_client_regional_events_total{origin="http://down.regional",event="all-failed"}'),
      1,
    );
  } finally {
    instruments.close();
    await client.close();
    await allDown.close();
    await good.close();
  }
});
