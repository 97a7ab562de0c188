/**
 * Interop with a real server framework: fastify on loopback (JSON routes, streamed replies,
 * compression left to the framework's defaults), exercised by many concurrent requests.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import test from 'node:test';
import { Client } from '../../src/client/client.js';

async function loadFastify() {
  try {
    return (await import('fastify')).default;
  } catch {
    return undefined;
  }
}

test('fastify: JSON in and out, streamed replies, concurrency', async (t) => {
  const fastify = await loadFastify();
  if (fastify === undefined) {
    t.skip('fastify is not installed');
    return;
  }
  const app = fastify();
  app.post('/echo', async (req) => ({ got: req.body }));
  app.get('/stream', async (_req, reply) => {
    reply.header('content-type', 'text/plain');
    return reply.send(Readable.from(['a', 'b', 'c']));
  });
  app.get('/n/:n', async (req) => ({ n: Number((req.params as { n: string }).n) }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const origin = `http://127.0.0.1:${address.port}`;
  const client = new Client({ connections: 8 });
  try {
    const echo = await client.post(`${origin}/echo`, { json: { hello: 'world', list: [1, 2] } });
    assert.equal(echo.status, 200);
    assert.deepEqual(await echo.json(), { got: { hello: 'world', list: [1, 2] } });
    const stream = await client.get(`${origin}/stream`);
    assert.equal(stream.headers.get('transfer-encoding'), 'chunked');
    assert.equal(await stream.text(), 'abc');
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        async (_, i) => ((await (await client.get(`${origin}/n/${i}`)).json()) as { n: number }).n,
      ),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.ok(client.stats().created <= 8);
    const missing = await client.get(`${origin}/missing`);
    assert.equal(missing.status, 404);
    await missing.dump();
  } finally {
    await client.close();
    await app.close();
  }
});
