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

test('a slowly read 8 MB response over HTTP/3 is held back by QUIC flow control, and arrives intact (RFC 9000 §4.1, §4.2)', async () => {
  const ca = testCa();
  const app = new App();
  const size = 8 * 1024 * 1024;
  const content = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) content.writeUInt32BE((i * 2654435761) >>> 0, i);
  app.get('/big', () => {
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let o = 0; o < size; o += 65_536) yield content.subarray(o, o + 65_536);
    }
    return new Response(chunks(), { headers: { 'content-length': String(size) } });
  });
  const server = await app.listen({
    port: 0,
    host: '127.0.0.1',
    tls: { cert: ca.cert, key: ca.key },
    http3: true,
  });
  const origin = `https://127.0.0.1:${new URL(server.url).port}`;
  const client = new Client({ http3: 'only', tls: { ca: ca.ca } });
  try {
    const res = await client.get(`${origin}/big`);
    assert.equal(res.httpVersion, '3');
    const hash = createHash('sha256');
    let read = 0;
    let maxBuffered = 0;
    let sinceNap = 0;
    for await (const chunk of res.body) {
      // Received and not yet read: what the client holds for this slow reader.
      maxBuffered = Math.max(maxBuffered, res.body.receivedBytes - read);
      read += chunk.length;
      hash.update(chunk);
      sinceNap += chunk.length;
      if (sinceNap >= 32_768) {
        sinceNap = 0;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    assert.equal(read, size);
    assert.equal(hash.digest('hex'), createHash('sha256').update(content).digest('hex'));
    // Default windows: 256 KiB per stream, 1 MiB per connection; the body pauses at 64 KiB.
    assert.ok(maxBuffered < 1024 * 1024, `the client buffered ${maxBuffered} bytes of ${size}`);
  } finally {
    await client.close();
    await server.close();
  }
});
