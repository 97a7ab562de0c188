/**
 * Tests of `client.fetch`: WHATWG Request / Response in and out, bodies both ways, redirect
 * modes, null-body statuses, streaming response bodies and their cancellation, and fetch's error
 * conventions (TypeError for network failures, the signal's reason for aborts).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import test from 'node:test';
import { Client } from '../../src/client/client.js';
import { ConnectError } from '../../src/client/client-errors.js';
import { httpServer, readBody } from './client-test-servers.js';

test('fetch with a URL and init, or a Request; Response fields and body readers', async () => {
  const server = await httpServer(async (req, res) => {
    const body = await readBody(req);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/final' });
      res.end();
      return;
    }
    if (req.url === '/empty') {
      res.writeHead(204);
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end(JSON.stringify({ method: req.method, url: req.url, body, x: req.headers['x-test'] ?? null }));
  });
  const client = new Client();
  try {
    const r1 = await client.fetch(`${server.origin}/one`, {
      method: 'post',
      body: 'hi',
      headers: { 'x-test': 'yes' },
    });
    assert.ok(r1 instanceof Response);
    assert.equal(r1.status, 200);
    assert.equal(r1.ok, true);
    assert.equal(r1.headers.get('content-type'), 'application/json');
    assert.deepEqual(r1.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.deepEqual(await r1.json(), { method: 'POST', url: '/one', body: 'hi', x: 'yes' });
    assert.equal(r1.url, `${server.origin}/one`);

    const req = new Request(`${server.origin}/two`, {
      method: 'PUT',
      body: 'from request',
      headers: { 'x-test': 'r' },
    });
    const r2 = await client.fetch(req);
    assert.deepEqual(await r2.json(), { method: 'PUT', url: '/two', body: 'from request', x: 'r' });

    const r3 = await client.fetch(`${server.origin}/redirect`);
    assert.equal(r3.redirected, true);
    assert.equal(r3.url, `${server.origin}/final`);
    const manual = await client.fetch(`${server.origin}/redirect`, { redirect: 'manual' });
    assert.equal(manual.status, 302);
    await assert.rejects(client.fetch(`${server.origin}/redirect`, { redirect: 'error' }), TypeError);

    const empty = await client.fetch(`${server.origin}/empty`);
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);

    const streamed = await client.fetch(`${server.origin}/s`);
    const reader = streamed.body!.getReader();
    const first = await reader.read();
    assert.ok(first.value instanceof Uint8Array);
    await reader.cancel();

    await assert.rejects(client.fetch(`${server.origin}/x`, { method: 'GET', body: 'no' }), TypeError);
  } finally {
    await client.close();
    await server.close();
  }
});

test('fetch errors: network failure is a TypeError with the typed cause; abort rejects with the reason', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const server = await httpServer(() => {}); // never answers
  const client = new Client({ retry: false });
  try {
    await assert.rejects(client.fetch(`http://127.0.0.1:${port}/`), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.ok(err.cause instanceof ConnectError);
      return true;
    });
    const controller = new AbortController();
    const pending = client.fetch(server.origin, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(pending, { name: 'AbortError' });
    await assert.rejects(client.fetch(server.origin, { signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
  } finally {
    await client.close();
    await server.close();
  }
});
