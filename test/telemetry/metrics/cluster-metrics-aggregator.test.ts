import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { MetricsSnapshot } from '../../../src/telemetry/metrics/metrics-snapshot.js';
import { requirePeer } from '../../peers.js';
import { freePort, promtoolCheckMetrics } from './prometheus-peer.js';

const AVX = fileURLToPath(new URL('../../../src/cli/avx.js', import.meta.url));
/** The demo's cluster scrape timeout (the default). */
const TIMEOUT = 2000;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * GET over a connection of its own (`agent: false`), so that the primary hands each request to
 * a worker anew (round-robin) instead of reusing one worker's keep-alive connection.
 */
function get(port: number, path: string, accept?: string, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: accept ? { accept } : {}, signal },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const HEALTH_SERIES =
  /^http_server_requests_total\{method="GET",route="\/health",status_class="2xx"\} (\S+)$/m;

/** A text exposition's sample value for `name{labels}` (labels written as in the exposition). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function jsonValue(snapshot: MetricsSnapshot, name: string, labels: Record<string, string> = {}) {
  const series = snapshot.metrics
    .find((m) => m.name === name)
    ?.series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return series?.value;
}

describe('avx serve --workers 2: /metrics shows the metrics of every worker', () => {
  let child: ChildProcess;
  let port: number;
  let stderr = '';
  /** /health requests answered, by worker pid. */
  const served = new Map<number, number>();
  const health = async () => {
    const res = await get(port, '/health');
    assert.equal(res.status, 200);
    const pid = (JSON.parse(res.body) as { pid: number }).pid;
    served.set(pid, (served.get(pid) ?? 0) + 1);
    return pid;
  };
  const total = () => [...served.values()].reduce((a, b) => a + b, 0);
  /** Ends the primary and its workers whatever state they are in (a stopped worker too). */
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };

  before(async () => {
    port = await freePort();
    // Its own process group: one kill ends the primary and every worker it forked.
    child = spawn(process.execPath, [AVX, 'serve', '--port', String(port), '--workers', '2'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    process.once('exit', killGroup);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const deadline = Date.now() + 15000;
    for (;;) {
      try {
        if ((await get(port, '/api/hello')).status === 200) break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      await sleep(50);
    }
  });

  after(() => {
    killGroup();
    process.off('exit', killGroup);
  });

  test('the request counter equals the requests sent on every scrape, in every format', async (t) => {
    // Until both workers answer (the second may still be starting), then 40 more, 8 at a time.
    const deadline = Date.now() + 15000;
    while (served.size < 2) {
      assert.ok(Date.now() < deadline, 'the second worker never answered');
      await Promise.all([health(), health()]);
    }
    for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 8 }, health));
    assert.ok(
      [...served.values()].every((n) => n >= 5),
      `both workers served: ${[...served]}`,
    );
    const expected = total();

    // Scrapes in pairs: the primary hands two simultaneous connections to both workers.
    const formats = [undefined, 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5', 'json'];
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        [0, 1].map((i) => {
          const format = formats[(round + i) % formats.length];
          return format === 'json' ? get(port, '/metrics?format=json') : get(port, '/metrics', format);
        }),
      );
      for (const res of answers) {
        assert.equal(res.status, 200);
        const type = String(res.headers['content-type']);
        if (type.startsWith('application/json')) {
          const snapshot = JSON.parse(res.body) as MetricsSnapshot;
          const count = jsonValue(snapshot, 'http_server_requests_total', {
            route: '/health',
            method: 'GET',
          });
          assert.equal(count, expected);
          assert.equal(jsonValue(snapshot, 'avx_metrics_cluster_workers', { state: 'replied' }), 2);
          continue;
        }
        assert.equal(Number(HEALTH_SERIES.exec(res.body)?.[1]), expected, res.body);
        assert.equal(sample(res.body, 'avx_metrics_cluster_workers{state="replied"}'), 2);
        assert.equal(sample(res.body, 'avx_metrics_cluster_workers{state="missing"}'), 0);
        // `first`, not summed: every worker reports the same version.
        assert.match(res.body, /^nodejs_version_info\{[^}]+\} 1$/m);
        if (type.startsWith('application/openmetrics-text')) assert.ok(res.body.endsWith('# EOF\n'));
        else assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
      }
    }

    if (!requirePeer(t, 'promtool')) return;
    const exposition = (await get(port, '/metrics')).body;
    const { code, output } = await promtoolCheckMetrics(exposition);
    assert.equal(code, 0, `promtool check metrics: ${output}\n${exposition}`);
  });

  test('a stalled worker: the scrape answers at the timeout with the other worker, then both again', async () => {
    const [stalled, live] = [...served.keys()];
    assert.ok(stalled !== undefined && live !== undefined);
    process.kill(stalled, 'SIGSTOP');
    const abort = new AbortController();
    try {
      // The primary may hand one connection to the stopped worker, which never takes another:
      // of three simultaneous scrapes, at least two reach the live worker.
      const started = performance.now();
      const res = await Promise.any(
        [0, 1, 2].map(() => get(port, '/metrics?format=json', undefined, abort.signal)),
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= TIMEOUT - 50, `waited for the stalled worker: ${elapsed} ms`);
      assert.ok(elapsed < TIMEOUT + 1500, `answered soon after the timeout: ${elapsed} ms`);
      const snapshot = JSON.parse(res.body) as MetricsSnapshot;
      assert.equal(jsonValue(snapshot, 'avx_metrics_cluster_workers', { state: 'replied' }), 1);
      assert.equal(jsonValue(snapshot, 'avx_metrics_cluster_workers', { state: 'missing' }), 1);
      assert.ok((jsonValue(snapshot, 'avx_metrics_cluster_missed_replies_total') ?? 0) >= 1);
      // Only the live worker's requests are in it.
      assert.equal(
        jsonValue(snapshot, 'http_server_requests_total', { route: '/health', method: 'GET' }),
        served.get(live),
      );
      // The primary logs after replying: its line may come through the pipe a little later.
      const logged = new RegExp(`did not answer within ${TIMEOUT} ms`);
      for (let i = 0; i < 40 && !logged.test(stderr); i++) await sleep(50);
      assert.match(stderr, logged);
    } finally {
      abort.abort();
      process.kill(stalled, 'SIGCONT');
    }

    // The resumed worker's late answers to old collections are dropped; new scrapes have both.
    const expected = total();
    const deadline = Date.now() + 10000;
    for (;;) {
      const answers = await Promise.all([get(port, '/metrics'), get(port, '/metrics')]);
      const complete = answers.every(
        (a) => sample(a.body, 'avx_metrics_cluster_workers{state="replied"}') === 2,
      );
      if (complete) {
        for (const a of answers) assert.equal(Number(HEALTH_SERIES.exec(a.body)?.[1]), expected);
        break;
      }
      assert.ok(Date.now() < deadline, 'the resumed worker never answered again');
    }
  });
});
