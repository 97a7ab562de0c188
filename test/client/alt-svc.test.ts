import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { AltSvcCache, parseAltSvc } from '../../src/client/alt-svc.js';
import { Client } from '../../src/client/client.js';
import { testCa } from '../test-ca.js';

test('Alt-Svc fields parse as RFC 7838 §3 writes them (its examples and more)', () => {
  assert.deepEqual(parseAltSvc('h2="new.example.org:80"'), [
    { protocol: 'h2', host: 'new.example.org', port: 80, maxAge: 86_400, persist: false },
  ]);
  assert.deepEqual(parseAltSvc('h2=":443"; ma=3600, h3-29=":8443"; persist=1'), [
    { protocol: 'h2', host: '', port: 443, maxAge: 3600, persist: false },
    { protocol: 'h3-29', host: '', port: 8443, maxAge: 86_400, persist: true },
  ]);
  assert.deepEqual(parseAltSvc('w%3D%3D="x:1"'), [
    { protocol: 'w==', host: 'x', port: 1, maxAge: 86_400, persist: false },
  ]);
  assert.deepEqual(parseAltSvc('h3="[::1]:4433"'), [
    { protocol: 'h3', host: '::1', port: 4433, maxAge: 86_400, persist: false },
  ]);
  assert.equal(parseAltSvc(' clear '), 'clear');
});

test('malformed members are skipped, not the whole field', () => {
  const got = parseAltSvc(
    'h3=":99999", bad, h3="no-port", h3=":443"; ma=abc, h3="\\"x\\":1", h3="ex\\ample.org:1", h3=":4433"; ma=60',
  );
  assert.deepEqual(got, [
    { protocol: 'h3', host: 'example.org', port: 1, maxAge: 86_400, persist: false },
    { protocol: 'h3', host: '', port: 4433, maxAge: 60, persist: false },
  ]);
  assert.deepEqual(parseAltSvc(''), []);
  assert.deepEqual(parseAltSvc('h3="unterminated'), []);
});

test('the cache keeps fresh alternatives per https origin: replaced by a new field, dropped by clear and by age, bounded', () => {
  let now = 0;
  const cache = new AltSvcCache({ maxOrigins: 2, now: () => now });
  cache.update('https://a.example', 'h3=":443"; ma=10, h2=":8443"');
  assert.deepEqual(
    cache.lookup('https://a.example', 'h3').map((e) => e.port),
    [443],
  );
  cache.update('http://plain.example', 'h3=":443"');
  assert.deepEqual(cache.lookup('http://plain.example', 'h3'), [], 'a cleartext origin gets none (§2.1)');
  now = 10_000;
  assert.deepEqual(cache.lookup('https://a.example', 'h3'), [], 'expired after ma');
  assert.deepEqual(
    cache.lookup('https://a.example', 'h2').map((e) => e.port),
    [8443],
  );
  cache.update('https://a.example', 'clear');
  assert.deepEqual(cache.lookup('https://a.example', 'h2'), []);
  cache.update('https://a.example', 'h3=":1"');
  cache.update('https://b.example', 'h3=":2"');
  cache.update('https://c.example', 'h3=":3"');
  assert.equal(cache.size, 2);
  assert.deepEqual(cache.lookup('https://a.example', 'h3'), [], 'the oldest origin was forgotten');
  cache.update('https://b.example', 'h3=":5"; ma=0');
  assert.deepEqual(cache.lookup('https://b.example', 'h3'), [], 'ma=0 is stale at once');
});

test('a response of a real server (node:http2 over TLS) advertising h3 fills the cache for its origin', async () => {
  const ca = testCa();
  const server = http2.createSecureServer({ key: ca.key, cert: ca.cert }, (_req, res) => {
    res.setHeader('alt-svc', 'h3=":4433"; ma=86400, h3-29=":4433"; ma=86400');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new Client({ tls: { ca: ca.ca } });
  try {
    const res = await client.get(`${origin}/`);
    assert.equal(res.httpVersion, '2');
    await res.text();
    const cache = new AltSvcCache();
    cache.update(origin, res.headers.get('alt-svc')!);
    assert.deepEqual(cache.lookup(origin, 'h3'), [
      { protocol: 'h3', host: '', port: 4433, maxAge: 86_400, persist: false },
    ]);
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
