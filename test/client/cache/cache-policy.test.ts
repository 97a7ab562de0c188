/**
 * Tests of the cache policy (RFC 9111) against node:http origins, with a virtual clock and a
 * count of the requests that reach the origin: storing (§3), freshness and Age (§4.2, §5.1),
 * validation (§4.3), request directives (§5.2.1), Vary (§4.1), invalidation (§4.4), the body
 * copy and the store's limits, and the Cache-Status field (RFC 9211).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { MemoryCacheStore } from '../../../src/client/cache/memory-cache-store.js';
import { formatHttpDate } from '../../../src/runtime/http-date.js';
import { cacheFixture } from './cache-origin.js';

test('a fresh hit sends no request and carries a correct Age', async () => {
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=100', age: '10', 'content-type': 'text/plain' });
    res.end('hello');
  });
  try {
    const first = await f.client.get(`${f.origin}/a`);
    assert.equal(await first.text(), 'hello');
    assert.equal(first.headers.get('cache-status'), 'avx; fwd=uri-miss; fwd-status=200; stored');
    f.clock.advance(30);
    const second = await f.client.get(`${f.origin}/a#fragment`);
    assert.equal(await second.text(), 'hello');
    assert.equal(f.hits, 1);
    assert.equal(second.status, 200);
    // RFC 9111 §4.2.3: 10 s of Age when received plus 30 s resident.
    assert.equal(second.headers.get('age'), '40');
    assert.equal(second.headers.get('cache-status'), 'avx; hit; ttl=60');
    assert.equal(second.headers.get('content-type'), 'text/plain');
    f.clock.advance(61);
    await (await f.client.get(`${f.origin}/a`)).text();
    assert.equal(f.hits, 2, 'stale after 101 s of age: goes to the origin');
  } finally {
    await f.close();
  }
});

test('a stale entry is revalidated with If-None-Match; a 304 updates headers and serves the stored body', async () => {
  let version = 0;
  const f = await cacheFixture((req, res) => {
    version++;
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=100', 'x-version': String(version) });
      res.end();
      return;
    }
    res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=10', 'x-version': String(version) });
    res.end('body-v1');
  });
  try {
    assert.equal(await (await f.client.get(`${f.origin}/r`)).text(), 'body-v1');
    f.clock.advance(20);
    const res = await f.client.get(`${f.origin}/r`);
    assert.equal(f.hits, 2);
    assert.equal(f.seen[1]!['if-none-match'], '"v1"');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'body-v1');
    assert.equal(res.headers.get('x-version'), '2');
    assert.equal(res.headers.get('cache-control'), 'max-age=100');
    assert.equal(res.headers.get('age'), '0');
    assert.equal(res.headers.get('cache-status'), 'avx; fwd=stale; fwd-status=304; ttl=100');
    f.clock.advance(50);
    const hit = await f.client.get(`${f.origin}/r`);
    assert.equal(await hit.text(), 'body-v1');
    assert.equal(hit.headers.get('x-version'), '2', 'the updated headers were stored');
    assert.equal(f.hits, 2, 'the 304 made the entry fresh for 100 s');
  } finally {
    await f.close();
  }
});

test('Last-Modified validation sends If-Modified-Since', async () => {
  const f = await cacheFixture((req, res, clock) => {
    const lastModified = formatHttpDate(Date.UTC(2024, 0, 1));
    if (req.headers['if-modified-since'] === lastModified) {
      res.writeHead(304, { date: formatHttpDate(clock.t) });
      res.end();
      return;
    }
    res.writeHead(200, { 'last-modified': lastModified, 'cache-control': 'no-cache' });
    res.end('dated');
  });
  try {
    assert.equal(await (await f.client.get(f.origin)).text(), 'dated');
    const res = await f.client.get(f.origin);
    assert.equal(f.hits, 2, 'no-cache: validated every time (RFC 9111 §5.2.2.4)');
    assert.equal(f.seen[1]!['if-modified-since'], formatHttpDate(Date.UTC(2024, 0, 1)));
    assert.equal(f.seen[1]!['if-none-match'], undefined);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'dated');
  } finally {
    await f.close();
  }
});

test('no-store responses and no-store requests are never stored', async () => {
  const f = await cacheFixture((req, res) => {
    res.writeHead(200, { 'cache-control': req.url === '/ns' ? 'no-store, max-age=100' : 'max-age=100' });
    res.end('x');
  });
  try {
    await (await f.client.get(`${f.origin}/ns`)).text();
    await (await f.client.get(`${f.origin}/ns`)).text();
    assert.equal(f.hits, 2);
    await (await f.client.get(`${f.origin}/ok`, { headers: { 'cache-control': 'no-store' } })).text();
    await (await f.client.get(`${f.origin}/ok`)).text();
    assert.equal(f.hits, 4, 'the request said no-store');
    await (await f.client.get(`${f.origin}/ok`)).text();
    assert.equal(f.hits, 4, 'the plain request was stored');
  } finally {
    await f.close();
  }
});

test('Vary on Accept-Language and Accept-Encoding keeps one entry per variant', async () => {
  const f = await cacheFixture((req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=100', vary: 'Accept-Language, Accept-Encoding' });
    res.end(`${req.headers['accept-language']}|${req.headers['accept-encoding']}`);
  });
  try {
    const get = async (lang: string, enc?: string) => {
      const headers: Record<string, string> = { 'accept-language': lang };
      if (enc !== undefined) headers['accept-encoding'] = enc;
      return (await f.client.get(f.origin, { headers })).text();
    };
    assert.equal(await get('en'), 'en|gzip, deflate, br');
    assert.equal(await get('fr'), 'fr|gzip, deflate, br');
    assert.equal(await get('en', 'identity'), 'en|identity');
    assert.equal(f.hits, 3);
    const res = await f.client.get(f.origin, { headers: { 'accept-language': 'fr' } });
    assert.equal(res.headers.get('cache-status'), 'avx; hit; ttl=100');
    assert.equal(await res.text(), 'fr|gzip, deflate, br');
    assert.equal(await get('en'), 'en|gzip, deflate, br');
    assert.equal(await get('en', 'identity'), 'en|identity');
    assert.equal(f.hits, 3);
    const miss = await f.client.get(f.origin, { headers: { 'accept-language': 'de' } });
    assert.equal(miss.headers.get('cache-status'), 'avx; fwd=vary-miss; fwd-status=200; stored');
    await miss.text();
  } finally {
    await f.close();
  }
});

test('Vary: * is never served from the cache', async () => {
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=100', vary: '*' });
    res.end('star');
  });
  try {
    await (await f.client.get(f.origin)).text();
    assert.equal(await (await f.client.get(f.origin)).text(), 'star');
    assert.equal(f.hits, 2);
  } finally {
    await f.close();
  }
});

test('a successful POST invalidates the target URI and same-origin Location / Content-Location', async () => {
  const f = await cacheFixture((req, res) => {
    if (req.method === 'POST') {
      const fail = req.url === '/fail';
      res.writeHead(fail ? 500 : 201, {
        location: '/other',
        'content-location': 'http://elsewhere.example/a',
      });
      res.end();
      return;
    }
    res.writeHead(200, { 'cache-control': 'max-age=100' });
    res.end(`page ${req.url}`);
  });
  try {
    for (const path of ['/item', '/other', '/fail']) await (await f.client.get(`${f.origin}${path}`)).text();
    assert.equal(f.hits, 3);
    await (await f.client.post(`${f.origin}/fail`, { body: 'x' })).text();
    await (await f.client.get(`${f.origin}/fail`)).text();
    assert.equal(f.hits, 5 - 1, 'a 500 to POST invalidates nothing (RFC 9111 §4.4: non-error only)');
    await (await f.client.post(`${f.origin}/item`, { body: 'x' })).text();
    assert.equal(f.hits, 5);
    await (await f.client.get(`${f.origin}/item`)).text();
    await (await f.client.get(`${f.origin}/other`)).text();
    assert.equal(f.hits, 7, 'both the target and Location were invalidated');
  } finally {
    await f.close();
  }
});

test('only-if-cached answers 504 without a usable entry and never contacts the origin', async () => {
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=10' });
    res.end('cached');
  });
  try {
    const onlyIfCached = { headers: { 'cache-control': 'only-if-cached' } };
    const none = await f.client.get(f.origin, onlyIfCached);
    assert.equal(none.status, 504);
    assert.equal(none.headers.get('cache-status'), 'avx; detail=only-if-cached');
    assert.equal(f.hits, 0);
    await (await f.client.get(f.origin)).text();
    const hit = await f.client.get(f.origin, onlyIfCached);
    assert.equal(hit.status, 200);
    assert.equal(await hit.text(), 'cached');
    f.clock.advance(20);
    assert.equal((await f.client.get(f.origin, onlyIfCached)).status, 504, 'stale is not usable');
    assert.equal(f.hits, 1);
  } finally {
    await f.close();
  }
});

test('request max-stale, min-fresh and max-age', async () => {
  let mustRevalidate = false;
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { 'cache-control': `max-age=60${mustRevalidate ? ', must-revalidate' : ''}` });
    res.end('v');
  });
  const get = async (cc?: string, path = '/') => {
    const res = await f.client.get(
      `${f.origin}${path}`,
      cc === undefined ? {} : { headers: { 'cache-control': cc } },
    );
    await res.text();
    return res.headers.get('cache-status');
  };
  try {
    await get();
    f.clock.advance(20); // age 20, ttl 40
    assert.equal(await get('min-fresh=30'), 'avx; hit; ttl=40');
    assert.equal(await get('min-fresh=50'), 'avx; fwd=request; fwd-status=200; stored');
    assert.equal(f.hits, 2);
    f.clock.advance(20); // the new entry: age 20
    assert.equal(await get('max-age=30'), 'avx; hit; ttl=40');
    assert.equal(await get('max-age=10'), 'avx; fwd=request; fwd-status=200; stored');
    assert.equal(f.hits, 3);
    f.clock.advance(90); // age 90, stale by 30
    assert.equal(await get('max-stale=60'), 'avx; hit; ttl=-30');
    assert.equal(await get('max-stale'), 'avx; hit; ttl=-30');
    assert.equal(f.hits, 3);
    assert.equal(await get('max-stale=10'), 'avx; fwd=stale; fwd-status=200; stored');
    assert.equal(f.hits, 4);
    mustRevalidate = true;
    await get(undefined, '/mr');
    f.clock.advance(90);
    assert.equal(await get('max-stale=600', '/mr'), 'avx; fwd=stale; fwd-status=200; stored');
    assert.equal(f.hits, 6, 'must-revalidate overrides max-stale (RFC 9111 §5.2.2.2)');
  } finally {
    await f.close();
  }
});

test('a body over maxEntryBytes is delivered intact but not stored', async () => {
  const big = Buffer.alloc(5000, 0x62);
  const f = await cacheFixture(
    (req, res) => {
      // /chunked: no Content-Length, so the limit is found while copying.
      const headers: Record<string, string> = { 'cache-control': 'max-age=100' };
      if (req.url !== '/chunked') headers['content-length'] = String(big.length);
      res.writeHead(200, headers);
      res.write(big.subarray(0, 2500));
      setImmediate(() => res.end(big.subarray(2500)));
    },
    { maxEntryBytes: 1000 },
  );
  try {
    for (const path of ['/chunked', '/sized']) {
      assert.deepEqual(await (await f.client.get(`${f.origin}${path}`)).bytes(), big);
      assert.deepEqual(await (await f.client.get(`${f.origin}${path}`)).bytes(), big);
    }
    assert.equal(f.hits, 4);
  } finally {
    await f.close();
  }
});

test('maxBytes evicts the least recently used entry', async () => {
  const store = new MemoryCacheStore({ maxBytes: 25_000 });
  const f = await cacheFixture(
    (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100' });
      res.end(Buffer.alloc(10_000, req.url!.charCodeAt(1)));
    },
    { store },
  );
  const get = async (path: string) => (await (await f.client.get(`${f.origin}${path}`)).bytes())[0];
  try {
    await get('/a');
    await get('/b');
    assert.equal(f.hits, 2);
    assert.equal(await get('/a'), 0x61); // hit: /a is now the most recently used
    assert.equal(f.hits, 2);
    await get('/c'); // over budget: /b goes
    assert.equal(store.size, 2);
    assert.ok(store.bytes <= 25_000);
    assert.equal(await get('/a'), 0x61);
    assert.equal(await get('/c'), 0x63);
    assert.equal(f.hits, 3);
    assert.equal(await get('/b'), 0x62);
    assert.equal(f.hits, 4, '/b was evicted');
  } finally {
    await f.close();
  }
});

test('a body the caller abandons halfway is not stored', async () => {
  let count = 0;
  const f = await cacheFixture((_req, res) => {
    count++;
    res.writeHead(200, { 'cache-control': 'max-age=100' });
    if (count === 1) {
      res.write('first half;'); // the rest never comes unless the client keeps reading
      return;
    }
    res.end('whole body');
  });
  try {
    const res = await f.client.get(f.origin);
    for await (const chunk of res.body) {
      assert.equal(chunk.toString(), 'first half;');
      break;
    }
    assert.equal(await (await f.client.get(f.origin)).text(), 'whole body');
    assert.equal(f.hits, 2);
    assert.equal(await (await f.client.get(f.origin)).text(), 'whole body');
    assert.equal(f.hits, 2, 'the complete body was stored');
  } finally {
    await f.close();
  }
});

test('heuristic freshness: 10% of Date - Last-Modified, capped by heuristicMaxMs', async () => {
  const handler = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    clock: { t: number },
  ) => {
    const status = req.url === '/forbidden' ? 403 : 200;
    res.writeHead(status, { 'last-modified': formatHttpDate(clock.t - 100 * 3600_000) });
    res.end('h');
  };
  const f = await cacheFixture(handler);
  const capped = await cacheFixture(handler, { heuristicMaxMs: 3600_000 });
  try {
    await (await f.client.get(f.origin)).text();
    f.clock.advance(9 * 3600);
    const hit = await f.client.get(f.origin);
    await hit.text();
    assert.equal(hit.headers.get('cache-status'), 'avx; hit; ttl=3600');
    assert.equal(f.hits, 1);
    f.clock.advance(2 * 3600);
    await (await f.client.get(f.origin)).text();
    assert.equal(f.hits, 2, 'past 10 h (10% of 100 h) the entry is stale');
    // 403 is not heuristically cacheable (RFC 9110 §15.1).
    await (await f.client.get(`${f.origin}/forbidden`)).text();
    await (await f.client.get(`${f.origin}/forbidden`)).text();
    assert.equal(f.hits, 4);

    await (await capped.client.get(capped.origin)).text();
    capped.clock.advance(1800);
    await (await capped.client.get(capped.origin)).text();
    assert.equal(capped.hits, 1);
    capped.clock.advance(3600);
    await (await capped.client.get(capped.origin)).text();
    assert.equal(capped.hits, 2, 'the 1 h cap applies');
  } finally {
    await f.close();
    await capped.close();
  }
});

test('responses to requests with Authorization are stored only with public, s-maxage or must-revalidate', async () => {
  const f = await cacheFixture((req, res) => {
    const cc: Record<string, string> = {
      '/plain': 'max-age=100',
      '/public': 'public, max-age=100',
      '/s-maxage': 's-maxage=100, max-age=100',
      '/must-revalidate': 'must-revalidate, max-age=100',
    };
    res.writeHead(200, { 'cache-control': cc[req.url!]! });
    res.end('secret');
  });
  const authorized = await cacheFixture(
    (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=100' });
      res.end('secret');
    },
    { storeAuthorized: true },
  );
  const auth = { headers: { authorization: 'Bearer t' } };
  try {
    for (const path of ['/plain', '/public', '/s-maxage', '/must-revalidate']) {
      await (await f.client.get(`${f.origin}${path}`, auth)).text();
      await (await f.client.get(`${f.origin}${path}`, auth)).text();
    }
    assert.equal(f.hits, 2 + 1 + 1 + 1, 'only /plain went to the origin twice');
    await (await authorized.client.get(authorized.origin, auth)).text();
    await (await authorized.client.get(authorized.origin, auth)).text();
    assert.equal(authorized.hits, 1);
  } finally {
    await f.close();
    await authorized.close();
  }
});

test('HEAD is answered from a stored GET', async () => {
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=100', 'content-length': '4', 'x-kind': 'get' });
    res.end(_req.method === 'HEAD' ? undefined : 'body');
  });
  try {
    await (await f.client.get(f.origin)).text();
    const head = await f.client.head(f.origin);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-kind'), 'get');
    assert.equal(head.headers.get('content-length'), '4');
    assert.equal((await head.bytes()).length, 0);
    assert.equal(f.hits, 1);
  } finally {
    await f.close();
  }
});

test('stale-if-error serves the stale entry after a 5xx within its window (RFC 5861)', async () => {
  let failing = false;
  const f = await cacheFixture((_req, res) => {
    if (failing) {
      res.writeHead(503);
      res.end('down');
      return;
    }
    res.writeHead(200, { 'cache-control': 'max-age=10, stale-if-error=60', etag: '"e"' });
    res.end('good');
  });
  try {
    await (await f.client.get(f.origin)).text();
    failing = true;
    f.clock.advance(30);
    const stale = await f.client.get(f.origin);
    assert.equal(stale.status, 200);
    assert.equal(await stale.text(), 'good');
    assert.equal(
      stale.headers.get('cache-status'),
      'avx; fwd=stale; fwd-status=503; ttl=-20; detail=stale-if-error',
    );
    f.clock.advance(60);
    const error = await f.client.get(f.origin);
    assert.equal(error.status, 503, 'past the window the error is returned');
    assert.equal(await error.text(), 'down');
    assert.equal(f.hits, 3);
  } finally {
    await f.close();
  }
});

test('Pragma: no-cache in a request without Cache-Control forces validation (RFC 9111 §5.4)', async () => {
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=100' });
    res.end('p');
  });
  try {
    await (await f.client.get(f.origin)).text();
    await (await f.client.get(f.origin, { headers: { pragma: 'no-cache' } })).text();
    assert.equal(f.hits, 2);
    await (
      await f.client.get(f.origin, { headers: { pragma: 'no-cache', 'cache-control': 'max-stale' } })
    ).text();
    assert.equal(f.hits, 2, 'Cache-Control present: Pragma is ignored');
  } finally {
    await f.close();
  }
});

test('conditional and range requests from the caller bypass the cache', async () => {
  const f = await cacheFixture((req, res) => {
    if (req.headers['if-none-match'] === '"u"') {
      res.writeHead(304, { etag: '"u"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'cache-control': 'max-age=100', etag: '"u"' });
    res.end('user');
  });
  try {
    await (await f.client.get(f.origin)).text();
    const res = await f.client.get(f.origin, { headers: { 'if-none-match': '"u"' } });
    assert.equal(res.status, 304, "the caller's own validation is answered by the origin");
    assert.equal(res.headers.get('cache-status'), 'avx; fwd=bypass');
    await res.dump();
    assert.equal(f.hits, 2);
    assert.equal(await (await f.client.get(f.origin)).text(), 'user');
    assert.equal(f.hits, 2, 'the stored entry is untouched');
  } finally {
    await f.close();
  }
});

test('a HEAD freshens a stale stored GET when its fields show the same representation (§4.3.5)', async () => {
  let etag = '"v1"';
  const f = await cacheFixture((_req, res) => {
    res.writeHead(200, { etag, 'cache-control': 'max-age=10', 'content-length': '7' });
    res.end(_req.method === 'HEAD' ? undefined : 'body-v1');
  });
  try {
    assert.equal(await (await f.client.get(`${f.origin}/h`)).text(), 'body-v1');
    f.clock.advance(20); // stale
    const head = await f.client.head(`${f.origin}/h`);
    await head.dump();
    assert.equal(f.hits, 2, 'the HEAD went to the origin');
    assert.equal(head.headers.get('cache-status'), 'avx; fwd=stale; fwd-status=200');
    const after = await f.client.get(`${f.origin}/h`);
    assert.equal(await after.text(), 'body-v1');
    assert.equal(f.hits, 2, 'the GET was served from the freshened entry');
    assert.match(after.headers.get('cache-status')!, /^avx; hit/);
    // A HEAD showing another representation makes the stored GET useless: it is dropped.
    f.clock.advance(20);
    etag = '"v2"';
    await (await f.client.head(`${f.origin}/h`)).dump();
    f.clock.advance(1);
    const fresh = await f.client.get(`${f.origin}/h`);
    await fresh.text();
    assert.equal(f.hits, 4, 'after the changed HEAD the GET goes to the origin');
    assert.match(fresh.headers.get('cache-status')!, /fwd=uri-miss/);
  } finally {
    await f.close();
  }
});
