import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Client } from '../../../src/client/client.js';
import { requestCompression } from '../../../src/client/compression/request-compression-policy.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { App } from '../../../src/server/app.js';
import { requestDecompression } from '../../../src/server/middleware/request-decompression.js';
import { Response } from '../../../src/server/response.js';
import { requirePeer } from '../../peers.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const TEXT = JSON.stringify(
  Array.from({ length: 3000 }, (_, i) => ({ id: i, city: i % 2 ? 'Lima' : 'Bogotá' })),
);

/** An app answering what its handler read: the body's hash and length, and two header fields. */
async function echoApp(maxDecodedBytes?: number) {
  const app = new App();
  app.use(requestDecompression({ maxDecodedBytes }));
  app.post('/', async (req) => {
    const body = await req.bytes();
    return {
      sha256: sha256(body),
      length: body.length,
      contentEncoding: req.headers.get('content-encoding') ?? null,
      contentLength: req.headers.get('content-length') ?? null,
    };
  });
  return app.listen({ port: 0, host: '127.0.0.1' });
}

test('our client compresses, our server decodes: gzip and br round trips, the fields of the wire form removed', async () => {
  const server = await echoApp();
  try {
    for (const coding of ['gzip', 'br'] as const) {
      const client = new Client().use(requestCompression({ coding, level: 4 }));
      const res = await client.post(`${server.url}/`, { body: TEXT });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        sha256: sha256(TEXT),
        length: Buffer.byteLength(TEXT),
        contentEncoding: null,
        contentLength: null,
      });
      await client.close();
    }
  } finally {
    await server.close();
  }
});

test('curl sends a gzip body (a real peer), and stacked codings are undone last first (RFC 9110 §8.4)', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const server = await echoApp();
  const file = join(mkdtempSync(join(tmpdir(), 'avx-decompress-')), 'body.gz');
  writeFileSync(file, gzipSync(TEXT));
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        ['-sS', '-H', 'Content-Encoding: gzip', '--data-binary', `@${file}`, `${server.url}/`],
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    assert.equal(JSON.parse(out).sha256, sha256(TEXT));
    const client = new Client();
    const stacked = await client.post(`${server.url}/`, {
      body: brotliCompressSync(deflateSync(TEXT)),
      headers: { 'content-encoding': 'deflate, br' },
    });
    assert.equal(((await stacked.json()) as { sha256: string }).sha256, sha256(TEXT));
    await client.close();
  } finally {
    await server.close();
  }
});

test('an unknown coding gets 415 with Accept-Encoding (RFC 7694 §3); a corrupt body 400; a bomb stops at maxDecodedBytes with 413', async () => {
  const server = await echoApp(1_000_000);
  const client = new Client({ retry: false });
  try {
    const unknown = await client.post(`${server.url}/`, {
      body: 'x',
      headers: { 'content-encoding': 'zstd' },
    });
    assert.equal(unknown.status, 415);
    assert.equal(unknown.headers.get('accept-encoding'), 'gzip, deflate, br');
    await unknown.dump();
    const corrupt = await client.post(`${server.url}/`, {
      body: Buffer.from('not gzip at all'),
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(corrupt.status, 400);
    await corrupt.dump();
    const bomb = gzipSync(Buffer.alloc(50_000_000));
    assert.ok(bomb.length < 100_000, 'small on the wire');
    const big = await client.post(`${server.url}/`, { body: bomb, headers: { 'content-encoding': 'gzip' } });
    assert.equal(big.status, 413);
    await big.dump();
    const atLimit = await client.post(`${server.url}/`, {
      body: gzipSync(Buffer.alloc(1_000_000)),
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(atLimit.status, 200, 'exactly maxDecodedBytes is allowed');
    assert.equal(((await atLimit.json()) as { length: number }).length, 1_000_000);
    const identity = await client.post(`${server.url}/`, {
      body: 'plain',
      headers: { 'content-encoding': 'identity' },
    });
    assert.equal(((await identity.json()) as { sha256: string }).sha256, sha256('plain'));
  } finally {
    await client.close();
    await server.close();
  }
});

test('our client falls back to an uncompressed body when our server refuses the coding', async () => {
  const app = new App();
  app.use(requestDecompression());
  app.post('/', async (req) => ({ length: (await req.bytes()).length }));
  // A server that takes br only: gzip gets 415 with Accept-Encoding: br.
  const strict = new App();
  strict.use((req, next) =>
    req.headers.get('content-encoding') === 'gzip'
      ? new Response('no gzip', { status: 415, headers: { 'accept-encoding': 'br' } })
      : next(),
  );
  strict.use(requestDecompression());
  strict.post('/', async (req) => ({ length: (await req.bytes()).length }));
  const server = await strict.listen({ port: 0, host: '127.0.0.1' });
  const policy = requestCompression({ level: 1 });
  const client = new Client().use(policy);
  try {
    const res = await client.post(`${server.url}/`, { body: TEXT });
    assert.deepEqual(await res.json(), { length: Buffer.byteLength(TEXT) });
    assert.ok(policy.refused(new URL(server.url).origin));
  } finally {
    await client.close();
    await server.close();
  }
});

test('regression: the HTTP/1.1 and HTTP/2 drivers delivered body bytes to a req.body middleware had replaced', async () => {
  // Before the fix a middleware's body (here: one that upper-cases what it reads) received the
  // raw bytes itself, so the handler read them unchanged.
  const app = new App();
  app.use((req, next) => {
    const source = req.body;
    const upper = new IncomingBody();
    void (async () => {
      for await (const chunk of source)
        upper.push(Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'));
      upper.end();
    })();
    req.body = upper;
    return next();
  });
  app.post('/', async (req) => req.text());
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    for (const http2 of [false, true]) {
      const client = new Client({ http2 });
      const res = await client.post(`${server.url}/`, { body: 'lima, bogota' });
      assert.equal(res.httpVersion, http2 ? '2' : '1.1');
      assert.equal(await res.text(), 'LIMA, BOGOTA', http2 ? 'h2c' : 'HTTP/1.1');
      await client.close();
    }
  } finally {
    await server.close();
  }
});
