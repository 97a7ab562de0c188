/**
 * Tests of the decompression policy: Accept-Encoding by default (RFC 9110 §12.5.3), gzip, zlib
 * and raw deflate, br, stacked codings (RFC 9110 §8.4), unknown codings left alone, bodies that
 * do not decode failing with DecompressionError, and opting out per client and per request.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import zlib from 'node:zlib';
import { Client } from '../../src/client/client.js';
import { DecompressionError } from '../../src/client/client-errors.js';
import { parseContentCodings } from '../../src/core/content-decoding.js';
import { httpServer } from './client-test-servers.js';

const TEXT = 'avx-http '.repeat(20_000);

test('parseContentCodings', () => {
  assert.deepEqual(parseContentCodings('gzip'), ['gzip']);
  assert.deepEqual(parseContentCodings('deflate, br'), ['deflate', 'br']);
  assert.deepEqual(parseContentCodings('identity'), []);
  assert.equal(parseContentCodings('zstd'), undefined);
});

test('gzip, deflate (zlib and raw), br and stacked codings decode; Accept-Encoding is sent', async () => {
  let acceptEncoding: string | undefined;
  const server = await httpServer((req, res) => {
    acceptEncoding = req.headers['accept-encoding'];
    const raw = Buffer.from(TEXT);
    const path = req.url!.slice(1);
    const bodies: Record<string, [string, Buffer]> = {
      gzip: ['gzip', zlib.gzipSync(raw)],
      deflate: ['deflate', zlib.deflateSync(raw)],
      rawdeflate: ['deflate', zlib.deflateRawSync(raw)],
      br: ['br', zlib.brotliCompressSync(raw)],
      stacked: ['deflate, gzip', zlib.gzipSync(zlib.deflateSync(raw))],
      unknown: ['zstd', Buffer.from('opaque')],
      bad: ['gzip', Buffer.from('this is not gzip at all')],
    };
    const [encoding, body] = bodies[path]!;
    res.writeHead(200, { 'content-encoding': encoding, 'content-length': body.length });
    // Send in pieces so decoding is exercised across chunks.
    const mid = body.length >> 1;
    res.write(body.subarray(0, mid));
    setImmediate(() => res.end(body.subarray(mid)));
  });
  const client = new Client({ retry: false });
  try {
    for (const path of ['gzip', 'deflate', 'rawdeflate', 'br', 'stacked']) {
      const res = await client.get(`${server.origin}/${path}`);
      assert.equal(await res.text(), TEXT, path);
    }
    assert.equal(acceptEncoding, 'gzip, deflate, br');
    assert.equal(await (await client.get(`${server.origin}/unknown`)).text(), 'opaque');
    await assert.rejects((await client.get(`${server.origin}/bad`)).text(), DecompressionError);
    const raw = await client.get(`${server.origin}/gzip`, { decompress: false });
    assert.equal(zlib.gunzipSync(await raw.bytes()).toString(), TEXT);
    const off = new Client({ decompress: false });
    const res = await off.get(`${server.origin}/gzip`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(zlib.gunzipSync(await res.bytes()).toString(), TEXT);
    await off.close();
  } finally {
    await client.close();
    await server.close();
  }
});

test('decoded bodies stream with backpressure and honour maxDecodedBytes', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 0x61);
  const gz = zlib.gzipSync(big);
  const server = await httpServer((_req, res) => {
    res.writeHead(200, { 'content-encoding': 'gzip' });
    res.end(gz);
  });
  const client = new Client();
  try {
    const res = await client.get(server.origin);
    let n = 0;
    for await (const chunk of res.body) n += chunk.length;
    assert.equal(n, big.length);
    const limited = new Client({ decompress: { maxDecodedBytes: 1024 * 1024 } });
    const r2 = await limited.get(server.origin);
    await assert.rejects(r2.bytes(), { code: 'AVX_BODY_TOO_LARGE' });
    await limited.close();
  } finally {
    await client.close();
    await server.close();
  }
});
