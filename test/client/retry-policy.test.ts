/**
 * Tests of the retry policy: retryable statuses and errors for idempotent methods, 429/503 for
 * any method, Retry-After (RFC 9110 §10.2.3) as seconds and as a date, the limit, bodies that
 * cannot be replayed, and cancellation while waiting between attempts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import test from 'node:test';
import { Client } from '../../src/client/client.js';
import { ConnectError, RequestAbortedError } from '../../src/client/client-errors.js';
import { backoffDelay, retryAfterDelay } from '../../src/client/retry-policy.js';
import { httpServer } from './client-test-servers.js';

test('retryAfterDelay parses delay-seconds and HTTP-dates; backoffDelay stays within its bounds', () => {
  assert.equal(retryAfterDelay('3'), 3000);
  assert.equal(retryAfterDelay(' 0 '), 0);
  const now = Date.UTC(2024, 0, 1, 0, 0, 0);
  assert.equal(retryAfterDelay('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000);
  assert.equal(retryAfterDelay('Sun, 31 Dec 2023 00:00:00 GMT', now), 0);
  assert.equal(retryAfterDelay('soon'), undefined);
  assert.equal(retryAfterDelay(undefined), undefined);
  for (let attempt = 0; attempt < 8; attempt++) {
    const d = backoffDelay(attempt, 100, 1000);
    const ceiling = Math.min(1000, 100 * 2 ** attempt);
    assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d}`);
  }
});

test('503 then 200: retried with Retry-After; POST retried on 429 but not on 500', async () => {
  const counts = new Map<string, number>();
  const server = await httpServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (req.url === '/flaky' && n === 1) {
      res.writeHead(503, { 'retry-after': '0' });
      res.end('busy');
    } else if (req.url === '/limited' && n === 1) {
      res.writeHead(429, { 'retry-after': '0' });
      res.end();
    } else if (req.url === '/broken') {
      res.writeHead(500);
      res.end();
    } else if (req.url === '/slow-down') {
      res.writeHead(503, { 'retry-after': '3600' });
      res.end();
    } else {
      res.end(`ok ${n}`);
    }
  });
  const client = new Client({ retry: { limit: 2, baseDelay: 1 } });
  try {
    assert.equal(await (await client.get(`${server.origin}/flaky`)).text(), 'ok 2');
    assert.equal(await (await client.post(`${server.origin}/limited`, { body: 'x' })).text(), 'ok 2');
    assert.equal((await client.post(`${server.origin}/broken`, { body: 'x' })).status, 500);
    assert.equal(counts.get('POST /broken'), 1, 'POST is not retried on 500');
    assert.equal((await client.get(`${server.origin}/broken`)).status, 500);
    assert.equal(counts.get('GET /broken'), 3, 'GET is retried up to the limit');
    assert.equal((await client.get(`${server.origin}/slow-down`)).status, 503);
    assert.equal(counts.get('GET /slow-down'), 1, 'a Retry-After beyond maxRetryAfter returns the response');
    assert.equal((await client.get(`${server.origin}/broken`, { retry: false })).status, 500);
    assert.equal(counts.get('GET /broken'), 4);
    const stream = await client.put(`${server.origin}/broken`, { body: Readable.from(['x']) });
    assert.equal(stream.status, 500);
    assert.equal(counts.get('PUT /broken'), 1, 'a one-shot body is never retried');
  } finally {
    await client.close();
    await server.close();
  }
});

test('connection refused is retried for GET, then fails with ConnectError; abort stops the wait', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = new Client({ retry: { limit: 2, baseDelay: 1 } });
  try {
    await assert.rejects(client.get(`http://127.0.0.1:${port}/`), (err: Error) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.errno, 'ECONNREFUSED');
      return true;
    });
    assert.equal(client.stats().created, 3, 'one attempt and two retries');
    const slow = new Client({ retry: { limit: 5, baseDelay: 60_000, maxDelay: 60_000 } });
    const controller = new AbortController();
    const pending = slow.get(`http://127.0.0.1:${port}/`, { signal: controller.signal });
    while (slow.stats().created === 0 || slow.stats().connections > 0)
      await new Promise((r) => setImmediate(r));
    controller.abort();
    await assert.rejects(pending, RequestAbortedError);
    await slow.close();
  } finally {
    await client.close();
  }
});
