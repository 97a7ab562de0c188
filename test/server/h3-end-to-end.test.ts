/**
 * Our HTTP/3 client against our HTTP/3 server, the whole stack of both sides: QUIC, TLS 1.3,
 * HTTP/3 and QPACK ours at each end. `http3: 'only'` goes straight to QUIC; `http3: true` starts
 * over TCP (h2 by ALPN), reads the server's Alt-Svc (RFC 7838) and moves to h3.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Client } from '../../src/client/client.js';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import { testCa } from '../test-ca.js';

test('our client and our server speak HTTP/3 end to end, and Alt-Svc moves a client from h2 to h3', async () => {
  const ca = testCa();
  const app = new App();
  app.get('/users/:id', (req) => ({ id: req.params.id, protocol: req.protocol }));
  app.get('/own', () => new Response('mine', { headers: { 'alt-svc': 'clear' } }));
  app.post('/digest', async (req) =>
    createHash('sha256')
      .update(await req.bytes())
      .digest('hex'),
  );
  const server = await app.listen({
    port: 0,
    host: '127.0.0.1',
    tls: { cert: ca.cert, key: ca.key },
    http3: true,
  });
  const origin = `https://127.0.0.1:${new URL(server.url).port}`;
  const direct = new Client({ http3: 'only', tls: { ca: ca.ca } });
  const upgrading = new Client({ http3: true, tls: { ca: ca.ca } });
  try {
    const get = await direct.get(`${origin}/users/7`);
    assert.equal(get.httpVersion, '3');
    assert.deepEqual(await get.json(), { id: '7', protocol: 'h3' });
    const body = Buffer.alloc(300_000, 7);
    const post = await direct.post(`${origin}/digest`, { body });
    assert.equal(await post.text(), createHash('sha256').update(body).digest('hex'));
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await upgrading.get(`${origin}/users/${i}`);
      seen.push(((await res.json()) as { protocol: string }).protocol);
    }
    assert.deepEqual(
      seen,
      ['h2', 'h3', 'h3'],
      'the first request over TCP learns Alt-Svc, the rest go over QUIC',
    );
  } finally {
    await direct.close();
    await upgrading.close();
    await server.close();
  }
  assert.equal(server.http3ConnectionCount, 0, 'close() ends the QUIC connections');
});
