import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../../src/client/client.js';
import { App } from '../../../src/server/app.js';
import { HttpError } from '../../../src/server/http-error.js';
import { Response } from '../../../src/server/response.js';
import { RouteDefinitionError } from '../../../src/server/router/route-definition-error.js';
import { metrics } from '../../../src/telemetry/metrics/metrics-middleware.js';
import type { MetricsSnapshot } from '../../../src/telemetry/metrics/metrics-snapshot.js';
import { requirePeer } from '../../peers.js';
import { PrometheusServer, promtoolCheckMetrics } from './prometheus-peer.js';

/** A demo app with a few routes, instrumented; returns it with its middleware. */
function demoApp() {
  const instrument = metrics();
  const app = new App();
  app.use(instrument);
  app.get('/hello', () => 'hello');
  app.get('/users/:id', (req) => ({ id: req.params.id }));
  app.post('/echo', async (req) => await req.text());
  app.get('/fail', () => {
    throw new HttpError(503, 'down');
  });
  return { app, instrument };
}

function seriesValue(
  snapshot: MetricsSnapshot,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const family = snapshot.metrics.find((m) => m.name === name);
  const series = family?.series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return series?.value ?? series?.count;
}

test('server requests are counted by method, route template and status class', async () => {
  const { app, instrument } = demoApp();
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    for (let i = 0; i < 3; i++) await (await client.get(`${base}/hello`)).text();
    for (const id of ['1', '2', '3', '4']) await (await client.get(`${base}/users/${id}`)).text();
    await (await client.post(`${base}/echo`, { body: 'x'.repeat(300) })).text();
    await (await client.get(`${base}/fail`)).text();
    await (await client.get(`${base}/nope/${Math.random()}`)).text();
    await (await client.request({ url: `${base}/hello`, method: 'BREW' })).text();
    const res = await client.get(`${base}/metrics?format=json`);
    assert.equal(res.status, 200);
    const snap = (await res.json()) as MetricsSnapshot;
    const count = (labels: Record<string, string>) => seriesValue(snap, 'http_server_requests_total', labels);
    assert.equal(count({ method: 'GET', route: '/hello', status_class: '2xx' }), 3);
    assert.equal(count({ method: 'GET', route: '/users/:id', status_class: '2xx' }), 4);
    assert.equal(count({ method: 'POST', route: '/echo', status_class: '2xx' }), 1);
    assert.equal(count({ method: 'GET', route: '/fail', status_class: '5xx' }), 1);
    assert.equal(count({ method: 'GET', route: '(unmatched)', status_class: '4xx' }), 1);
    // An unknown method is answered 501 by the driver before the app: the client counts it as _OTHER.
    assert.equal(seriesValue(snap, 'http_client_requests_total', { method: '_OTHER', status: '501' }), 1);
    // The raw path never becomes a label value.
    const routes = snap.metrics
      .find((m) => m.name === 'http_server_requests_total')!
      .series.map((s) => s.labels.route);
    assert.ok(
      routes.every((r) => !r!.startsWith('/nope') && !/^\/users\/\d/.test(r!)),
      routes.join(' '),
    );
    assert.equal(seriesValue(snap, 'http_server_request_duration_seconds', { route: '/users/:id' }), 4);
    const sizes = snap.metrics.find((m) => m.name === 'http_server_request_size_bytes')!;
    assert.equal(sizes.series.find((s) => s.labels.route === '/echo')?.sum, 300);
    const out = snap.metrics.find((m) => m.name === 'http_server_response_size_bytes')!;
    assert.equal(out.series.find((s) => s.labels.route === '/hello')?.sum, 15);
    assert.ok((seriesValue(snap, 'http_server_active_connections', { protocol: 'http/1.1' }) ?? 0) >= 1);
    // Client instruments saw the same requests, by origin and status.
    assert.equal(
      seriesValue(snap, 'http_client_requests_total', { origin: base, method: 'GET', status: '200' }),
      7,
    );
    assert.equal(
      seriesValue(snap, 'http_client_requests_total', { origin: base, method: 'GET', status: '503' }),
      1,
    );
    assert.ok((seriesValue(snap, 'process_resident_memory_bytes', {}) ?? 0) > 0);
  } finally {
    await client.close();
    await server.close();
    instrument.close();
  }
});

test('requests alternating route and status class land in their own series; an unread body counts its declared length', async () => {
  const instrument = metrics();
  const app = new App().use(instrument);
  let fail = false;
  app.get('/flip', () => {
    if (fail) throw new HttpError(503, 'down');
    return 'up';
  });
  app.get('/other', () => 'other');
  app.post('/ignore', () => 'ignored'); // never reads its body
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    // The one-entry series cache must follow every change: status class, route, method.
    const plan: [string, boolean][] = [
      ['/flip', false],
      ['/flip', true],
      ['/flip', true],
      ['/other', false],
      ['/flip', false],
      ['/flip', true],
      ['/other', false],
    ];
    for (const [path, failing] of plan) {
      fail = failing;
      await (await client.get(base + path)).dump();
    }
    await (await client.post(`${base}/ignore`, { body: 'x'.repeat(100) })).dump();
    await (await client.get(`${base}/flip`)).dump();
    const snap = instrument.registry.snapshot();
    const count = (labels: Record<string, string>) => seriesValue(snap, 'http_server_requests_total', labels);
    assert.equal(count({ method: 'GET', route: '/flip', status_class: '2xx' }), 3);
    assert.equal(count({ method: 'GET', route: '/flip', status_class: '5xx' }), 3);
    assert.equal(count({ method: 'GET', route: '/other', status_class: '2xx' }), 2);
    assert.equal(count({ method: 'POST', route: '/ignore', status_class: '2xx' }), 1);
    const sizes = snap.metrics.find((m) => m.name === 'http_server_request_size_bytes')!;
    assert.equal(sizes.series.find((s) => s.labels.route === '/ignore')?.sum, 100);
    assert.equal(sizes.series.find((s) => s.labels.route === '/flip')?.sum, 0);
  } finally {
    await client.close();
    await server.close();
    instrument.close();
  }
});

test('a request answered before metrics() runs is counted; one handed to another app is counted once, by the app that dispatched it first', async () => {
  const outerMetrics = metrics({ process: false, client: false });
  const innerMetrics = metrics({ process: false, client: false });
  const inner = new App().use(innerMetrics).get('/inner', () => 'from inner');
  const outer = new App()
    .use((req, next) => (req.path === '/early' ? new Response(null, { status: 204 }) : next()))
    .use(outerMetrics)
    .get('/inner', (req) => inner.dispatch(req));
  const server = await outer.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal((await client.get(`${base}/early`)).status, 204);
    assert.equal(await (await client.get(`${base}/inner`)).text(), 'from inner');
    await (await client.get(`${base}/inner`)).text();
    const snap = outerMetrics.registry.snapshot();
    const count = (labels: Record<string, string>) => seriesValue(snap, 'http_server_requests_total', labels);
    // Answered by the first middleware: no route matched.
    assert.equal(count({ method: 'GET', route: '(unmatched)', status_class: '2xx' }), 1);
    assert.equal(count({ method: 'GET', route: '/inner', status_class: '2xx' }), 2);
    const innerSeries = innerMetrics.registry
      .snapshot()
      .metrics.find((m) => m.name === 'http_server_requests_total')?.series;
    assert.deepEqual(innerSeries, []);
  } finally {
    await client.close();
    await server.close();
    outerMetrics.close();
    innerMetrics.close();
  }
});

test('the scrape is a route: middleware added after metrics() sees it, and a HEAD is answered too', async () => {
  const instrument = metrics({ process: false, client: false });
  const app = new App()
    .use(instrument)
    .use((req, next) =>
      req.headers.get('authorization') === 'Bearer t' ? next() : new Response('no', { status: 401 }),
    )
    .get('/hello', () => 'hello');
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const auth = { headers: { authorization: 'Bearer t' } };
    assert.equal((await client.get(`${base}/metrics`)).status, 401);
    await (await client.get(`${base}/hello`, auth)).text();
    const res = await client.get(`${base}/metrics`, auth);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /^http_server_requests_total\{method="GET",route="\/hello",status_class="2xx"\} 1$/m);
    // The refused scrape was counted too; it was refused before routing, so no route matched.
    assert.match(
      body,
      /^http_server_requests_total\{method="GET",route="\(unmatched\)",status_class="4xx"\} 1$/m,
    );
    const head = await client.head(`${base}/metrics`, auth);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    await head.dump();
    // A route of the app's own at the scrape's path is a definition error, not a silent shadow.
    const taken = new App().get('/metrics', () => 'mine');
    const second = metrics({ process: false, client: false, websocket: false });
    assert.throws(() => taken.use(second), RouteDefinitionError);
    second.close();
  } finally {
    await client.close();
    await server.close();
    instrument.close();
  }
});

test('called as ordinary middleware (not attached by app.use), metrics() answers the scrape itself', async () => {
  const instrument = metrics({ process: false, client: false, websocket: false });
  instrument.registry.counter({ name: 'demo_total', help: 'A counter of the test' }).inc(3);
  const app = new App().use((req, next) => instrument(req, next)).get('/hello', () => 'hello');
  try {
    const hello = await app.fetch(new globalThis.Request('http://x/hello'));
    assert.equal(await hello.text(), 'hello');
    const scrape = await app.fetch(new globalThis.Request('http://x/metrics'));
    assert.equal(scrape.status, 200);
    assert.equal(scrape.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(await scrape.text(), /^demo_total 3$/m);
  } finally {
    instrument.close();
  }
});

test('/metrics negotiates Prometheus text 0.0.4, OpenMetrics and JSON; other apps are not counted', async () => {
  const { app, instrument } = demoApp();
  const other = new App().get('/hello', () => 'other');
  const server = await app.listen({ port: 0 });
  const otherServer = await other.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    await (await client.get(`http://127.0.0.1:${otherServer.port}/hello`)).text();
    await (await client.get(`${base}/hello`)).text();
    const text = await client.get(`${base}/metrics`);
    assert.equal(text.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const body = await text.text();
    assert.match(body, /^http_server_requests_total\{method="GET",route="\/hello",status_class="2xx"\} 1$/m);
    const om = await client.get(`${base}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' },
    });
    assert.equal(
      om.headers.get('content-type'),
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const omBody = await om.text();
    assert.match(omBody, /^# TYPE http_server_requests counter$/m);
    assert.ok(omBody.endsWith('# EOF\n'));
    const json = await client.get(`${base}/metrics`, { headers: { accept: 'application/json' } });
    assert.match(json.headers.get('content-type') ?? '', /application\/json/);
    assert.ok(Array.isArray(((await json.json()) as MetricsSnapshot).metrics));
    const head = await client.head(`${base}/metrics`);
    assert.equal(head.status, 200);
    await head.dump();
  } finally {
    await client.close();
    await server.close();
    await otherServer.close();
    instrument.close();
  }
});

test('promtool check metrics accepts the exposition of a busy demo server', async (t) => {
  if (!requirePeer(t, 'promtool')) return;
  const { app, instrument } = demoApp();
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false, connections: 8 });
  instrument.client?.observe(client);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const paths = ['/hello', '/users/7', '/users/8', '/fail', '/missing', '/hello?x=1'];
    const work: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const path = paths[i % paths.length]!;
      work.push(
        (i % 10 === 0
          ? client.post(`${base}/echo`, { body: 'y'.repeat(i * 37) })
          : client.get(`${base}${path}`)
        ).then((r) => r.dump()),
      );
    }
    await Promise.all(work);
    const exposition = await (await client.get(`${base}/metrics`)).text();
    assert.match(exposition, /http_server_requests_total/);
    assert.match(exposition, /http_client_pool_connections\{origin="[^"]+",state="idle"\}/);
    assert.match(exposition, /nodejs_eventloop_lag_p99_seconds/);
    const { code, output } = await promtoolCheckMetrics(exposition);
    assert.equal(code, 0, `promtool check metrics: ${output}\n${exposition}`);
    // And it would fail on a broken exposition (the check can fail).
    const broken = await promtoolCheckMetrics(`${exposition}broken{ 1\n`);
    assert.notEqual(broken.code, 0);
  } finally {
    await client.close();
    await server.close();
    instrument.close();
  }
});

test('a real Prometheus server scrapes the app and its query API returns our request counter', async (t) => {
  if (!requirePeer(t, 'prometheus')) return;
  const { app, instrument } = demoApp();
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  const requests = 37;
  let prometheus: PrometheusServer | undefined;
  try {
    const base = `http://127.0.0.1:${server.port}`;
    for (let i = 0; i < requests; i++) await (await client.get(`${base}/users/${i}`)).dump();
    prometheus = await PrometheusServer.start(`127.0.0.1:${server.port}`, '/metrics');
    const expr =
      'sum(http_server_requests_total{job="avx",route="/users/:id",method="GET",status_class="2xx"})';
    const result = await prometheus.poll(expr, (r) => r.length > 0);
    assert.ok(
      result !== undefined && result.length > 0,
      `Prometheus never scraped us; log:\n${prometheus.log()}`,
    );
    assert.equal(Number(result[0]!.value[1]), requests);
    const up = await prometheus.query('up{job="avx"}');
    assert.equal(up[0]?.value[1], '1');
    // The histogram came through too, with its le buckets.
    const buckets = await prometheus.query(
      'count(http_server_request_duration_seconds_bucket{job="avx",route="/users/:id"})',
    );
    assert.equal(Number(buckets[0]?.value[1]), 12);
  } finally {
    await prometheus?.stop();
    await client.close();
    await server.close();
    instrument.close();
  }
});
