/**
 * The HTTP/2 server honours the client's SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2): a
 * response head the client announced it would refuse is not sent; the stream is reset with
 * INTERNAL_ERROR, the typed error reaches `avx:server:response:finish`, and the connection
 * goes on serving. Checked with node:http2 as the client.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import type { Server } from '../../src/server/server.js';

let server: Server;

before(async () => {
  const app = new App();
  app.get('/', () => 'small');
  app.get('/big-head', () => new Response('x', { headers: { 'x-big': 'v'.repeat(3000) } }));
  server = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await server.destroy();
});

function get(
  session: http2.ClientHttp2Session,
  path: string,
): Promise<{ status: number; body: string; rstCode: number }> {
  return new Promise((resolve) => {
    const req = session.request({ ':path': path });
    let status = 0;
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('error', () => {});
    req.on('close', () => resolve({ status, body, rstCode: req.rstCode ?? 0 }));
  });
}

test('a response head over the client SETTINGS_MAX_HEADER_LIST_SIZE is refused, not sent: RST_STREAM INTERNAL_ERROR', async () => {
  const errors: unknown[] = [];
  const onFinish = (message: unknown) => {
    const error = (message as { error?: unknown }).error;
    if (error !== undefined) errors.push(error);
  };
  diagnostics.subscribe('avx:server:response:finish', onFinish);
  const session = http2.connect(`http://127.0.0.1:${server.port}`, { settings: { maxHeaderListSize: 1000 } });
  try {
    await get(session, '/');
    const big = await get(session, '/big-head');
    assert.equal(big.status, 0, 'no response head was sent');
    assert.equal(big.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR);
    assert.equal((errors[0] as { code?: string } | undefined)?.code, 'AVX_H2_HEADER_LIST_TOO_LARGE');
    const after = await get(session, '/');
    assert.equal(after.body, 'small', 'the connection goes on');
  } finally {
    diagnostics.unsubscribe('avx:server:response:finish', onFinish);
    session.close();
  }
});
