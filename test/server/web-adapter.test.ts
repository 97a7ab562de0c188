import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../src/server/app.js';
import { fetchHandler } from '../../src/server/web-adapter.js';

test('app.fetch serves a WHATWG Request without a socket', async () => {
  const app = new App();
  app.post('/items/:id', async (req) => ({
    id: req.params.id,
    body: await req.json(),
    q: req.query.get('q'),
  }));
  const res = await app.fetch(
    new Request('http://example.test/items/9?q=1', { method: 'POST', body: '{"a":1}' }),
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await res.json(), { id: '9', body: { a: 1 }, q: '1' });
  const missing = await app.fetch(new Request('http://example.test/nope'));
  assert.equal(missing.status, 404);
});

test('a fetch-style handler runs as a route, streaming its request and response bodies', async () => {
  const app = new App();
  app.post(
    '/upper',
    fetchHandler(async (request) => {
      const text = await request.text();
      const headers = new Headers({ 'content-type': 'text/plain', 'x-seen-url': request.url });
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      return new Response(text.toUpperCase(), { status: 201, headers });
    }),
  );
  const server = await app.listen({ port: 0 });
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/upper`, { method: 'POST', body: 'shout' });
    assert.equal(res.status, 201);
    assert.equal(await res.text(), 'SHOUT');
    assert.equal(res.headers.get('x-seen-url'), `http://127.0.0.1:${server.port}/upper`);
    assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
  } finally {
    await server.close();
  }
});
