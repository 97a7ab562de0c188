/**
 * The same App served over HTTP/2: h2c with prior knowledge on the cleartext port and h2 by
 * ALPN over TLS, checked with real peers (curl, nghttp, node:http2 as a client, headless
 * Chromium) on loopback.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as h2connect } from 'node:http2';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import type { Server } from '../../src/server/server.js';
import { chromiumDom } from '../chromium.js';
import { requirePeer } from '../peers.js';
import { testCertificate } from '../tls-certificate.js';

function makeApp(): App {
  const app = new App({ bodyLimit: 64 << 20 });
  app.get('/', (req) => `hello ${req.protocol}`);
  app.get('/json', () => ({ ok: true }));
  app.post('/echo', async (req) => {
    const body = await req.bytes();
    return new Response(body, { headers: { 'x-length': String(body.length) } });
  });
  app.get('/stream', () => Readable.from(['a', 'b', 'c'].map((s) => Buffer.from(s.repeat(50000)))));
  app.get('/trailers', () => {
    const res = new Response(Readable.from([Buffer.from('body')]));
    res.trailers = new (res.headers.constructor as typeof import('../../src/core/headers.js').Headers)({
      'x-sum': '42',
    });
    return res;
  });
  app.get('/page', () =>
    Response.html(
      '<html><body><b id="p">?</b><script>addEventListener("load",()=>{document.getElementById("p").textContent=performance.getEntriesByType("navigation")[0].nextHopProtocol})</script></body></html>',
    ),
  );
  return app;
}

let h2c: Server;
let tls: Server;

before(async () => {
  const { cert, key } = testCertificate();
  h2c = await makeApp().listen({ port: 0 });
  tls = await makeApp().listen({ port: 0, tls: { cert, key } });
});

after(async () => {
  await h2c.destroy();
  await tls.destroy();
});

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('curl --http2-prior-knowledge (h2c): GET, POST and a streamed body', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const base = `http://127.0.0.1:${h2c.port}`;
  assert.equal(
    await run('curl', ['-s', '--http2-prior-knowledge', '-w', ' %{http_version}', `${base}/`]),
    'hello h2 2',
  );
  const echo = await run('curl', ['-s', '--http2-prior-knowledge', '-d', 'x'.repeat(100000), `${base}/echo`]);
  assert.equal(echo, 'x'.repeat(100000));
  const streamed = await run('curl', ['-s', '--http2-prior-knowledge', `${base}/stream`]);
  assert.equal(streamed.length, 150000);
  // HTTP/1.1 still works on the same port.
  assert.equal(
    await run('curl', ['-s', '--http1.1', '-w', ' %{http_version}', `${base}/`]),
    'hello http/1.1 1.1',
  );
});

test('curl --http2 over TLS negotiates h2 by ALPN', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const out = await run('curl', [
    '-sk',
    '--http2',
    '-w',
    ' %{http_version}',
    `https://127.0.0.1:${tls.port}/json`,
  ]);
  assert.equal(out, '{"ok":true} 2');
  const h1 = await run('curl', [
    '-sk',
    '--http1.1',
    '-w',
    ' %{http_version}',
    `https://127.0.0.1:${tls.port}/`,
  ]);
  assert.equal(h1, 'hello http/1.1 1.1');
});

test('nghttp -nv: frames and response', async (t) => {
  if (!requirePeer(t, 'nghttp')) return;
  const out = await run('nghttp', ['-nv', `http://127.0.0.1:${h2c.port}/`]);
  assert.match(out, /recv SETTINGS frame/);
  assert.match(out, /:status: 200/);
  assert.match(out, /recv DATA frame <length=8, flags=0x01/);
  const tlsOut = await run('nghttp', ['-v', `https://127.0.0.1:${tls.port}/trailers`]);
  assert.match(tlsOut, /x-sum: 42/);
  assert.match(tlsOut, /body/);
});

test('node:http2 client: concurrent streams, large uploads, trailers', async () => {
  const client = h2connect(`http://127.0.0.1:${h2c.port}`);
  try {
    const request = (path: string, body?: Buffer) =>
      new Promise<{
        status: number;
        body: Buffer;
        headers: Record<string, unknown>;
        trailers: Record<string, unknown>;
      }>((resolve, reject) => {
        const req = client.request({ ':method': body ? 'POST' : 'GET', ':path': path });
        let status = 0;
        let headers: Record<string, unknown> = {};
        let trailers: Record<string, unknown> = {};
        const chunks: Buffer[] = [];
        req.on('response', (h) => {
          status = Number(h[':status']);
          headers = h;
        });
        req.on('trailers', (tr) => {
          trailers = tr;
        });
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ status, body: Buffer.concat(chunks), headers, trailers }));
        req.on('error', reject);
        req.end(body);
      });
    const many = await Promise.all(Array.from({ length: 50 }, () => request('/')));
    for (const r of many) assert.equal(r.body.toString(), 'hello h2');
    const big = Buffer.alloc(3 << 20, 7);
    const echoed = await request('/echo', big);
    assert.equal(echoed.status, 200);
    assert.equal(echoed.headers['x-length'], String(big.length));
    assert.ok(echoed.body.equals(big));
    const tr = await request('/trailers');
    assert.equal(tr.body.toString(), 'body');
    assert.equal(tr.trailers['x-sum'], '42');
    const missing = await request('/nope');
    assert.equal(missing.status, 404);
  } finally {
    client.close();
  }
});

test('graceful shutdown sends GOAWAY and lets the stream in flight finish', async () => {
  const app = new App();
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let started!: () => void;
  const running = new Promise<void>((r) => {
    started = r;
  });
  app.get('/slow', async () => {
    started();
    await gate;
    return 'done';
  });
  const server = await app.listen({ port: 0 });
  const client = h2connect(`http://127.0.0.1:${server.port}`);
  const goaway = new Promise<number>((resolve) => client.on('goaway', (code) => resolve(code)));
  const req = client.request({ ':path': '/slow' });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => req.on('end', () => resolve()));
  await running;
  const closing = server.close();
  assert.equal(await goaway, 0);
  release();
  await ended;
  assert.equal(Buffer.concat(chunks).toString(), 'done');
  client.close();
  await closing;
});

test('headless Chromium loads a page over h2 (TLS, ALPN)', async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const dom = await chromiumDom(`https://127.0.0.1:${tls.port}/page`, {
    flags: ['--ignore-certificate-errors'],
  });
  assert.match(dom, /<b id="p">h2<\/b>/);
});
