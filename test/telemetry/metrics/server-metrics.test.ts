// ServerMetrics notes each finished request as pending samples of its series and applies them
// in batches (see ServerMetrics.record): what a reader sees must be exact whenever it reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Request } from '../../../src/server/request.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';
import type { MetricsSnapshot, SeriesSnapshot } from '../../../src/telemetry/metrics/metrics-snapshot.js';
import { ServerMetrics } from '../../../src/telemetry/metrics/server-metrics.js';

/** What record() reads of a request. */
function fakeRequest(method: string, route: string | undefined, received: number, start: number): Request {
  return {
    method,
    route,
    body: { receivedBytes: received, declaredLength: 0 },
    instrumentedAt: start,
  } as unknown as Request;
}

function series(snap: MetricsSnapshot, name: string, labels: Record<string, string>): SeriesSnapshot {
  const family = snap.metrics.find((m) => m.name === name)!;
  const found = family.series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found, `${name} ${JSON.stringify(labels)}`);
  return found;
}

/** A request of `route` lasting `ms`, with `n` bytes in and `2n` (or unknown) bytes out. */
interface Sample {
  route: string;
  status: number;
  ms: number;
  n: number;
  unknownOut?: boolean;
}

test('batched server samples read exactly at any time: within a batch, across batches and series changes', () => {
  const registry = new MetricsRegistry();
  const metrics = new ServerMetrics(registry);
  const samples: Sample[] = [];
  // Over two full batches of one series, then alternating series (each change applies the
  // batch so far), then a run left pending when the registry is read.
  for (let i = 0; i < 600; i++) samples.push({ route: '/a', status: 200, ms: (i % 7) + 0.25, n: i % 5 });
  for (let i = 0; i < 9; i++) {
    samples.push({
      route: i % 2 ? '/a' : '/b/:id',
      status: i % 3 ? 200 : 503,
      ms: 3,
      n: 10,
      unknownOut: i === 4,
    });
  }
  for (let i = 0; i < 10; i++) samples.push({ route: '/b/:id', status: 404, ms: 1.5, n: 1 });

  const expected = new Map<string, { count: number; sum: number; bytesIn: number; out: number }>();
  const check = () => {
    const snap = registry.snapshot();
    for (const [key, want] of expected) {
      const [route, statusClass] = key.split(' ');
      const labels = { method: 'GET', route: route!, status_class: statusClass! };
      assert.equal(series(snap, 'http_server_requests_total', labels).value, want.count, key);
      const duration = series(snap, 'http_server_request_duration_seconds', labels);
      assert.equal(duration.count, want.count, key);
      assert.ok(Math.abs(duration.sum! - want.sum) < 1e-9, `${key}: ${duration.sum} ${want.sum}`);
    }
    for (const route of ['/a', '/b/:id']) {
      let bytesIn = 0;
      let out = 0;
      for (const [key, want] of expected) {
        if (key.startsWith(`${route} `)) {
          bytesIn += want.bytesIn;
          out += want.out;
        }
      }
      if (bytesIn === 0 && out === 0) continue;
      const sizeIn = series(snap, 'http_server_request_size_bytes', { method: 'GET', route });
      assert.equal(sizeIn.sum, bytesIn, route);
      assert.equal(
        series(snap, 'http_server_response_size_bytes', { method: 'GET', route }).count,
        out,
        route,
      );
    }
  };

  let now = 1000;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    metrics.record(fakeRequest('GET', s.route, s.n, now), s.status, s.unknownOut ? -1 : 2 * s.n, now + s.ms);
    now += 10;
    const key = `${s.route} ${Math.floor(s.status / 100)}xx`;
    const e = expected.get(key) ?? { count: 0, sum: 0, bytesIn: 0, out: 0 };
    e.count++;
    e.sum += s.ms / 1000;
    e.bytesIn += s.n;
    if (!s.unknownOut) e.out++;
    expected.set(key, e);
    // Read in the middle of a batch, at its end, just after it, and after series changes.
    if ([0, 99, 255, 256, 257, 600, 604, samples.length - 1].includes(i)) check();
  }
  assert.equal(expected.get('/a 2xx')!.count, 603);
  metrics.close();
});
