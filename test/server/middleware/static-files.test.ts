/**
 * Tests of serveStatic against a real temporary directory: content and headers, index files
 * and directory redirects, traversal attempts (plain, encoded, backslash, NUL, symlink),
 * dotfiles, conditional requests (RFC 9110 §13) and byte ranges (RFC 9110 §14).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatHttpDate } from '../../../src/runtime/http-date.js';
import { parseByteRange } from '../../../src/server/middleware/byte-range.js';
import { contentTypeFor } from '../../../src/server/middleware/media-types.js';
import { type ServeStaticOptions, serveStatic } from '../../../src/server/middleware/static-files.js';
import type { Response } from '../../../src/server/response.js';
import { bodyBytes, makeRequest, recordingNext, type TestRequestInit } from './middleware-test-kit.js';

const HELLO = 'Hello, static world!\n';
const MTIME = new Date('2024-03-01T12:00:00.000Z');

let base: string;
let root: string;

before(() => {
  base = mkdtempSync(join(tmpdir(), 'avx-static-'));
  root = join(base, 'public');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, 'noindex'));
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(root, 'hello.txt'), HELLO);
  writeFileSync(join(root, 'style.css'), 'body{}');
  writeFileSync(join(root, 'image.PNG'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'a b.txt'), 'spaced');
  writeFileSync(join(root, '.secret'), 'dotfile');
  writeFileSync(join(root, 'sub', 'index.html'), '<h1>sub</h1>');
  writeFileSync(join(base, 'outside.txt'), 'outside the root');
  mkdirSync(join(base, 'public-evil'));
  writeFileSync(join(base, 'public-evil', 'x.txt'), 'sibling with a shared prefix');
  symlinkSync(join(base, 'outside.txt'), join(root, 'escape.txt'));
  symlinkSync(join(root, 'hello.txt'), join(root, 'alias.txt'));
  utimesSync(join(root, 'hello.txt'), MTIME, MTIME);
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

async function get(
  target: string,
  init: Omit<TestRequestInit, 'target'> = {},
  options?: ServeStaticOptions,
): Promise<{ res: Response; nextCalls: number }> {
  const next = recordingNext();
  const res = await serveStatic(root, options)(makeRequest({ ...init, target }), next);
  return { res, nextCalls: next.calls };
}

async function text(res: Response): Promise<string> {
  return (await bodyBytes(res.body)).toString();
}

describe('serveStatic: files', () => {
  it('serves a file with type, length, validators and cache headers', async () => {
    const { res, nextCalls } = await get('/hello.txt?x=1');
    assert.equal(nextCalls, 0);
    assert.equal(res.status, 200);
    assert.deepEqual(
      { ...res.headers.toObject() },
      {
        etag: `W/"${HELLO.length.toString(16)}-${MTIME.getTime().toString(16)}"`,
        'last-modified': 'Fri, 01 Mar 2024 12:00:00 GMT',
        'cache-control': 'public, max-age=0',
        'content-type': 'text/plain; charset=utf-8',
        'accept-ranges': 'bytes',
        'content-length': String(HELLO.length),
      },
    );
    assert.equal(await text(res), HELLO);
  });

  it('picks the Content-Type from the extension', async () => {
    assert.equal((await get('/style.css')).res.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal((await get('/image.PNG')).res.headers.get('content-type'), 'image/png');
    assert.equal((await get('/alias.txt')).res.headers.get('content-type'), 'text/plain; charset=utf-8');
  });

  it('decodes percent-encoded names', async () => {
    const { res } = await get('/a%20b.txt');
    assert.equal(await text(res), 'spaced');
  });

  it('serves an empty file', async () => {
    const { res } = await get('/empty.txt');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '0');
    assert.equal(await text(res), '');
  });

  it('answers HEAD with the headers and no body', async () => {
    const { res } = await get('/hello.txt', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(HELLO.length));
    assert.equal((await bodyBytes(res.body)).length, 0);
  });

  it('serves index.html for directories and redirects /dir to /dir/', async () => {
    assert.equal(await text((await get('/')).res), '<h1>home</h1>');
    const sub = await get('/sub/');
    assert.equal(await text(sub.res), '<h1>sub</h1>');
    assert.equal(sub.res.headers.get('content-type'), 'text/html; charset=utf-8');
    const redirect = (await get('/sub?tab=2')).res;
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/sub/?tab=2');
    // A path starting with // must not redirect to another host (//sub/ is protocol-relative).
    assert.equal((await get('//sub')).res.headers.get('location'), '/sub/');
    const noIndex = await get('/noindex/');
    assert.equal(noIndex.nextCalls, 1);
    assert.equal((await get('/sub/', {}, { index: false })).nextCalls, 1);
  });

  it('passes missing files and other methods on, or answers 404 without fallthrough', async () => {
    assert.equal((await get('/missing.txt')).nextCalls, 1);
    assert.equal((await get('/hello.txt/x')).nextCalls, 1);
    assert.equal((await get('/hello.txt', { method: 'POST' })).nextCalls, 1);
    const strict = await get('/missing.txt', {}, { fallthrough: false });
    assert.equal(strict.nextCalls, 0);
    assert.equal(strict.res.status, 404);
  });

  it('serves under a prefix only', async () => {
    const options = { prefix: '/static/' };
    assert.equal(await text((await get('/static/hello.txt', {}, options)).res), HELLO);
    assert.equal((await get('/hello.txt', {}, options)).nextCalls, 1);
    assert.equal((await get('/staticx/hello.txt', {}, options)).nextCalls, 1);
    assert.equal((await get('/static', {}, options)).res.headers.get('location'), '/static/');
    assert.equal(await text((await get('/static/', {}, options)).res), '<h1>home</h1>');
  });

  it('sets Cache-Control from maxAge and immutable', async () => {
    const { res } = await get('/hello.txt', {}, { maxAge: 3600, immutable: true });
    assert.equal(res.headers.get('cache-control'), 'public, max-age=3600, immutable');
  });
});

describe('serveStatic: hostile paths', () => {
  const cases: [string, number | 'next'][] = [
    ['/../outside.txt', 403],
    ['/../etc/passwd', 403],
    ['/sub/../../outside.txt', 403],
    ['/%2e%2e/outside.txt', 403],
    ['/%2E%2E%2Foutside.txt', 403],
    ['/%2e%2e%2f%2e%2e%2fetc%2fpasswd', 403],
    ['/sub/%2e%2e/%2e%2e/outside.txt', 403],
    ['/..%5coutside.txt', 400],
    ['/..%5c..%5cetc%5cpasswd', 400],
    ['/sub\\..\\..\\outside.txt', 400],
    ['/hello.txt%00.png', 400],
    ['/%00', 400],
    ['/%zz', 400],
    ['/%E2%82', 400],
    ['/%252e%252e/outside.txt', 'next'],
    ['/escape.txt', 'next'],
    ['/../public-evil/x.txt', 403],
    ['/.secret', 'next'],
  ];
  for (const [target, expected] of cases) {
    it(`${target} -> ${expected}`, async () => {
      const { res, nextCalls } = await get(target);
      if (expected === 'next') {
        assert.equal(nextCalls, 1);
        assert.equal(await text(res), 'from next');
      } else {
        assert.equal(nextCalls, 0);
        assert.equal(res.status, expected);
      }
      assert.ok(!(await text(res)).includes('outside'));
    });
  }

  it('applies the dotfiles policy', async () => {
    assert.equal((await get('/.secret', {}, { dotfiles: 'deny' })).res.status, 403);
    assert.equal(await text((await get('/.secret', {}, { dotfiles: 'allow' })).res), 'dotfile');
  });
});

describe('serveStatic: conditional requests (RFC 9110 §13)', () => {
  it('answers If-None-Match with a matching ETag with 304', async () => {
    const etag = (await get('/hello.txt')).res.headers.get('etag')!;
    for (const ifNoneMatch of [etag, etag.slice(2), `"nope", ${etag}`, '*']) {
      const { res } = await get('/hello.txt', { headers: { 'if-none-match': ifNoneMatch } });
      assert.equal(res.status, 304, ifNoneMatch);
      assert.equal(res.body, null);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(res.headers.get('content-length'), undefined);
    }
    const changed = await get('/hello.txt', { headers: { 'if-none-match': '"other"' } });
    assert.equal(changed.res.status, 200);
  });

  it('answers If-Modified-Since at or after the modification time with 304', async () => {
    const same = await get('/hello.txt', { headers: { 'if-modified-since': formatHttpDate(MTIME) } });
    assert.equal(same.res.status, 304);
    const later = await get('/hello.txt', {
      headers: { 'if-modified-since': 'Sat, 02 Mar 2024 00:00:00 GMT' },
    });
    assert.equal(later.res.status, 304);
    const earlier = await get('/hello.txt', {
      headers: { 'if-modified-since': 'Fri, 01 Mar 2024 11:59:59 GMT' },
    });
    assert.equal(earlier.res.status, 200);
    const garbage = await get('/hello.txt', { headers: { 'if-modified-since': 'yesterday' } });
    assert.equal(garbage.res.status, 200);
  });

  it('ignores If-Modified-Since when If-None-Match is present (RFC 9110 §13.1.3)', async () => {
    const { res } = await get('/hello.txt', {
      headers: { 'if-none-match': '"other"', 'if-modified-since': 'Sat, 02 Mar 2024 00:00:00 GMT' },
    });
    assert.equal(res.status, 200);
  });
});

describe('serveStatic: ranges (RFC 9110 §14)', () => {
  const size = HELLO.length;

  async function range(value: string, headers: Record<string, string> = {}): Promise<Response> {
    return (await get('/hello.txt', { headers: { range: value, ...headers } })).res;
  }

  it('serves one range with 206 and Content-Range', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-4', 0, 4],
      ['bytes=7-', 7, size - 1],
      ['bytes=-7', size - 7, size - 1],
      ['bytes=5-10000', 5, size - 1],
      ['bytes=-10000', 0, size - 1],
      ['BYTES = 1-1', 1, 1],
    ];
    for (const [value, start, end] of cases) {
      const res = await range(value);
      assert.equal(res.status, 206, value);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${size}`);
      assert.equal(res.headers.get('content-length'), String(end - start + 1));
      assert.equal(await text(res), HELLO.slice(start, end + 1), value);
    }
  });

  it('answers an unsatisfiable range with 416 and bytes */size', async () => {
    for (const value of [`bytes=${size}-`, 'bytes=1000-2000', 'bytes=-0']) {
      const res = await range(value);
      assert.equal(res.status, 416, value);
      assert.equal(res.headers.get('content-range'), `bytes */${size}`);
      assert.equal(await text(res), '');
    }
    const empty = (await get('/empty.txt', { headers: { range: 'bytes=0-' } })).res;
    assert.equal(empty.status, 416);
    assert.equal(empty.headers.get('content-range'), 'bytes */0');
  });

  it('sends the whole file for invalid, multiple or foreign-unit ranges', async () => {
    for (const value of [
      'bytes=5-1',
      'bytes=0-1,3-4',
      'items=0-1',
      'bytes=a-b',
      'bytes=',
      'bytes=--1',
      '0-1',
    ]) {
      const res = await range(value);
      assert.equal(res.status, 200, value);
      assert.equal(await text(res), HELLO);
    }
  });

  it('honours If-Range only when it matches Last-Modified exactly', async () => {
    const lastModified = formatHttpDate(MTIME);
    assert.equal((await range('bytes=0-1', { 'if-range': lastModified })).status, 206);
    assert.equal((await range('bytes=0-1', { 'if-range': 'Sat, 02 Mar 2024 00:00:00 GMT' })).status, 200);
    const etag = (await get('/hello.txt')).res.headers.get('etag')!;
    assert.equal((await range('bytes=0-1', { 'if-range': etag })).status, 200);
  });

  it('ignores Range on HEAD', async () => {
    const { res } = await get('/hello.txt', { method: 'HEAD', headers: { range: 'bytes=0-1' } });
    assert.equal(res.status, 200);
  });
});

describe('parseByteRange and contentTypeFor', () => {
  it('parses single ranges', () => {
    assert.deepEqual(parseByteRange('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseByteRange('bytes=9-', 10), { start: 9, end: 9 });
    assert.equal(parseByteRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseByteRange('bytes=1234567890123456-', 10), null);
    assert.equal(parseByteRange('bytes=1-2, 4-5', 10), null);
  });

  it('maps extensions and falls back to octet-stream', () => {
    assert.equal(contentTypeFor('/x/app.JS'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeFor('/x/data.json'), 'application/json; charset=utf-8');
    assert.equal(contentTypeFor('/x/.bashrc'), 'application/octet-stream');
    assert.equal(contentTypeFor('/x/README'), 'application/octet-stream');
    assert.equal(contentTypeFor('/x/file.constructor'), 'application/octet-stream');
    assert.equal(contentTypeFor('/x.d/file'), 'application/octet-stream');
  });
});
