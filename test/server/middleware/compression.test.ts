/**
 * Tests of the compression middleware and Accept-Encoding negotiation: codings chosen by
 * q-value, the cases left uncompressed, and byte-exact round trips through node:zlib for
 * string, byte, stream and async-iterable bodies (including chunk-by-chunk flushing and
 * teardown of the source).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { brotliDecompressSync, constants, gunzipSync } from 'node:zlib';
import { negotiateContentCoding } from '../../../src/server/middleware/accept-encoding.js';
import { isCompressibleType } from '../../../src/server/middleware/compressible-types.js';
import { compression } from '../../../src/server/middleware/compression.js';
import { Response } from '../../../src/server/response.js';
import { bodyBytes, makeRequest, recordingNext } from './middleware-test-kit.js';

const BIG_JSON = JSON.stringify({
  items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })),
});

function decode(coding: string | undefined, bytes: Buffer): string {
  if (coding === 'gzip') return gunzipSync(bytes).toString();
  if (coding === 'br') return brotliDecompressSync(bytes).toString();
  return bytes.toString();
}

describe('negotiateContentCoding (RFC 9110 §12.5.3)', () => {
  const server = ['br', 'gzip'];
  const cases: [string | undefined, string | null][] = [
    [undefined, null],
    ['', null],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['gzip, br;q=0.9', 'gzip'],
    ['br;q=0.5, gzip;q=0.5', 'br'],
    ['BR;Q=1, GZIP', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', null],
    ['identity', null],
    ['*', 'br'],
    ['*;q=0.1, gzip;q=0.2', 'gzip'],
    ['br;q=0, *', 'gzip'],
    ['*;q=0', null],
    ['x-gzip', 'gzip'],
    ['deflate, compress', null],
    ['gzip;q=1.5, br;q=0.1', 'br'],
    ['gzip;q=abc, br;q=0.001', 'br'],
    ['gzip ; q = 0.8 , br ; q=0.7', 'gzip'],
    ['br;level=5;q=0.3, gzip;q=0.2', 'br'],
    [' , ,gzip', 'gzip'],
  ];
  for (const [field, expected] of cases) {
    it(`${JSON.stringify(field)} -> ${expected}`, () => {
      assert.equal(negotiateContentCoding(field, server), expected);
    });
  }
  it('breaks ties by the server order', () => {
    assert.equal(negotiateContentCoding('br, gzip', ['gzip', 'br']), 'gzip');
  });
});

describe('isCompressibleType', () => {
  it('accepts textual types and rejects compressed media', () => {
    for (const t of [
      'text/html; charset=utf-8',
      'TEXT/CSS',
      'application/json',
      'application/problem+json',
      'application/javascript',
      'application/xml',
      'image/svg+xml',
      'application/wasm',
    ]) {
      assert.equal(isCompressibleType(t), true, t);
    }
    for (const t of [
      undefined,
      '',
      'image/png',
      'image/jpeg',
      'video/mp4',
      'audio/mpeg',
      'application/zip',
      'application/gzip',
      'font/woff2',
      'application/octet-stream',
      'nonsense',
    ]) {
      assert.equal(isCompressibleType(t), false, String(t));
    }
  });
});

describe('compression', () => {
  it('gzips a large JSON string body', async () => {
    const res = await compression()(
      makeRequest({ headers: { 'accept-encoding': 'gzip, deflate' } }),
      recordingNext(() =>
        Response.json(JSON.parse(BIG_JSON), { headers: { 'content-length': String(BIG_JSON.length) } }),
      ),
    );
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(res.headers.get('vary'), 'Accept-Encoding');
    assert.equal(res.headers.get('content-length'), undefined);
    assert.ok(res.body instanceof Uint8Array);
    assert.ok(res.body.byteLength < BIG_JSON.length / 2);
    assert.equal(decode('gzip', res.body as Buffer), BIG_JSON);
  });

  it('prefers br and handles byte bodies', async () => {
    const bytes = Buffer.from(BIG_JSON);
    const res = await compression()(
      makeRequest({ headers: { 'accept-encoding': 'gzip, br' } }),
      recordingNext(() => new Response(bytes, { headers: { 'content-type': 'application/json' } })),
    );
    assert.equal(res.headers.get('content-encoding'), 'br');
    assert.equal(decode('br', res.body as Buffer), BIG_JSON);
  });

  it('adds Vary but does not encode when the client accepts no offered coding', async () => {
    const res = await compression()(
      makeRequest({ headers: { 'accept-encoding': 'identity' } }),
      recordingNext(() => Response.text(BIG_JSON)),
    );
    assert.equal(res.headers.get('content-encoding'), undefined);
    assert.equal(res.headers.get('vary'), 'Accept-Encoding');
    assert.equal(res.body, BIG_JSON);
    const none = await compression()(
      makeRequest(),
      recordingNext(() => Response.text(BIG_JSON)),
    );
    assert.equal(none.body, BIG_JSON);
  });

  it('leaves alone what must not or need not be compressed', async () => {
    const mw = compression({ threshold: 100 });
    const accept = { 'accept-encoding': 'gzip, br' };
    const cases: [string, () => Response, string?][] = [
      ['below the threshold', () => Response.text('x'.repeat(99))],
      ['already encoded', () => Response.text(BIG_JSON, { headers: { 'content-encoding': 'gzip' } })],
      ['an image', () => new Response(Buffer.alloc(5000), { headers: { 'content-type': 'image/png' } })],
      ['no content type', () => new Response(BIG_JSON)],
      ['204', () => new Response(null, { status: 204, headers: { 'content-type': 'text/plain' } })],
      ['304', () => new Response(BIG_JSON, { status: 304, headers: { 'content-type': 'text/plain' } })],
      ['206', () => Response.text(BIG_JSON, { status: 206, headers: { 'content-range': 'bytes 0-9/100' } })],
      [
        'no-transform',
        () => Response.text(BIG_JSON, { headers: { 'cache-control': 'public, no-transform' } }),
      ],
      ['HEAD', () => Response.text(BIG_JSON), 'HEAD'],
      [
        'a small stream by Content-Length',
        () =>
          new Response(Readable.from(['abc']), {
            headers: { 'content-type': 'text/plain', 'content-length': '3' },
          }),
      ],
    ];
    for (const [name, make, method] of cases) {
      const original = make();
      const before = original.body;
      const res = await mw(makeRequest({ method: method ?? 'GET', headers: accept }), async () => original);
      assert.equal(res.body, before, name);
      assert.equal(res.headers.get('vary'), undefined, name);
      assert.notEqual(res.headers.get('content-encoding'), 'br', name);
    }
  });

  it('keeps the original when compressing does not make it smaller', async () => {
    const noise = randomBytes(4000);
    const res = await compression()(
      makeRequest({ headers: { 'accept-encoding': 'gzip' } }),
      recordingNext(() => new Response(noise, { headers: { 'content-type': 'text/plain' } })),
    );
    assert.equal(res.body, noise);
    assert.equal(res.headers.get('content-encoding'), undefined);
  });

  it('makes a strong ETag weak when it encodes', async () => {
    const res = await compression()(
      makeRequest({ headers: { 'accept-encoding': 'gzip' } }),
      recordingNext(() => Response.text(BIG_JSON, { headers: { etag: '"v1"' } })),
    );
    assert.equal(res.headers.get('etag'), 'W/"v1"');
  });

  it('compresses a Readable stream body', async () => {
    const parts = [BIG_JSON.slice(0, 1000), BIG_JSON.slice(1000, 3000), BIG_JSON.slice(3000)];
    const res = await compression()(
      makeRequest({ headers: { 'accept-encoding': 'gzip' } }),
      recordingNext(
        () =>
          new Response(Readable.from(parts.map((p) => Buffer.from(p))), {
            headers: { 'content-type': 'application/json', 'content-length': String(BIG_JSON.length) },
          }),
      ),
    );
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(res.headers.get('content-length'), undefined);
    assert.equal(decode('gzip', await bodyBytes(res.body)), BIG_JSON);
  });

  for (const coding of ['gzip', 'br'] as const) {
    it(`streams an async iterable as ${coding}, flushing after each source chunk`, async () => {
      let produced = 0;
      const source = (async function* () {
        for (const part of ['first line\n', 'second line\n', 'third line\n']) {
          produced++;
          yield part;
        }
      })();
      const res = await compression({ threshold: 0 })(
        makeRequest({ headers: { 'accept-encoding': coding } }),
        recordingNext(() => new Response(source, { headers: { 'content-type': 'text/plain' } })),
      );
      assert.equal(res.headers.get('content-encoding'), coding);
      const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const received: Buffer[] = [];
      const first = await iterator.next();
      assert.equal(first.done, false);
      received.push(first.value);
      // The first source chunk is readable on its own: nothing waits for the compressor's window.
      assert.equal(produced, 1);
      const partial =
        coding === 'gzip'
          ? gunzipSync(first.value, { finishFlush: constants.Z_SYNC_FLUSH })
          : brotliDecompressSync(first.value, { finishFlush: constants.BROTLI_OPERATION_FLUSH });
      assert.equal(partial.toString(), 'first line\n');
      for (;;) {
        const step = await iterator.next();
        if (step.done) break;
        received.push(step.value);
      }
      assert.equal(decode(coding, Buffer.concat(received)), 'first line\nsecond line\nthird line\n');
    });
  }

  it('stops the source when the consumer stops reading', async () => {
    let cleanedUp = false;
    const source = (async function* () {
      try {
        for (let i = 0; ; i++) yield `chunk ${i}\n`;
      } finally {
        cleanedUp = true;
      }
    })();
    const res = await compression({ threshold: 0 })(
      makeRequest({ headers: { 'accept-encoding': 'gzip' } }),
      recordingNext(() => new Response(source, { headers: { 'content-type': 'text/plain' } })),
    );
    const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    await iterator.return?.();
    assert.equal(cleanedUp, true);
  });

  it('fails the compressed stream when the source fails', async () => {
    const source = (async function* () {
      yield 'ok\n';
      throw new Error('source broke');
    })();
    const res = await compression({ threshold: 0 })(
      makeRequest({ headers: { 'accept-encoding': 'gzip' } }),
      recordingNext(() => new Response(source, { headers: { 'content-type': 'text/plain' } })),
    );
    await assert.rejects(bodyBytes(res.body), /source broke/);
  });
});
