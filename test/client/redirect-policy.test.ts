/**
 * Tests of the redirect policy (RFC 9110 §15.4): method rewriting for 301/302/303, method and
 * body kept for 307/308, credentials dropped across origins, the redirect limit, the manual and
 * error modes, and one-shot stream bodies that cannot be replayed.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import test from 'node:test';
import { Client } from '../../src/client/client.js';
import { TooManyRedirectsError, UnexpectedRedirectError } from '../../src/client/client-errors.js';
import { httpServer, readBody } from './client-test-servers.js';

interface Echo {
  method: string;
  url: string;
  body: string;
  auth: string | null;
  cookie: string | null;
  ct: string | null;
}

async function echoServer() {
  return httpServer(async (req, res) => {
    const body = await readBody(req);
    const m = /^\/r\/(\d{3})(\/.*)?$/.exec(req.url!);
    if (m !== null) {
      res.writeHead(Number(m[1]), { location: m[2] ?? '/done' });
      res.end('redirect body');
      return;
    }
    if (req.url!.startsWith('/loop')) {
      res.writeHead(302, { location: '/loop' });
      res.end();
      return;
    }
    if (req.url!.startsWith('/to/')) {
      res.writeHead(307, { location: decodeURIComponent(req.url!.slice(4)) });
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        body,
        auth: req.headers.authorization ?? null,
        cookie: req.headers.cookie ?? null,
        ct: req.headers['content-type'] ?? null,
      }),
    );
  });
}

test('303 turns POST into GET without body; 301/302 only for POST; 307/308 keep method and body', async () => {
  const server = await echoServer();
  const client = new Client();
  try {
    const cases: [number, string, string, string][] = [
      [303, 'POST', 'GET', ''],
      [303, 'PUT', 'GET', ''],
      [302, 'POST', 'GET', ''],
      [301, 'POST', 'GET', ''],
      [302, 'PUT', 'PUT', 'data'],
      [307, 'POST', 'POST', 'data'],
      [308, 'PUT', 'PUT', 'data'],
    ];
    for (const [status, method, expectedMethod, expectedBody] of cases) {
      const res = await client.request({
        method,
        url: `${server.origin}/r/${status}`,
        body: 'data',
        headers: { 'content-type': 'text/x' },
      });
      const echo = (await res.json()) as Echo;
      assert.equal(echo.method, expectedMethod, `${status} ${method}`);
      assert.equal(echo.body, expectedBody, `${status} ${method} body`);
      assert.equal(echo.ct, expectedBody === '' ? null : 'text/x', 'content fields go with the body');
      assert.equal(echo.url, '/done');
      assert.equal(res.redirected, true);
      assert.equal(res.url, `${server.origin}/done`);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

test('credentials are dropped on a cross-origin redirect and kept on a same-origin one', async () => {
  const a = await echoServer();
  const b = await echoServer();
  const client = new Client();
  const headers = { authorization: 'Bearer secret', cookie: 'sid=1' };
  try {
    const same = (await (await client.get(`${a.origin}/r/302/same`, { headers })).json()) as Echo;
    assert.equal(same.auth, 'Bearer secret');
    assert.equal(same.cookie, 'sid=1');
    const target = encodeURIComponent(`${b.origin}/other`);
    const cross = (await (await client.get(`${a.origin}/to/${target}`, { headers })).json()) as Echo;
    assert.equal(cross.url, '/other');
    assert.equal(cross.auth, null);
    assert.equal(cross.cookie, null);
  } finally {
    await client.close();
    await a.close();
    await b.close();
  }
});

test('limits and modes: too many redirects, manual, error; a stream body stops at 307', async () => {
  const server = await echoServer();
  const client = new Client({ redirect: { maxRedirects: 3 } });
  try {
    await assert.rejects(client.get(`${server.origin}/loop`), TooManyRedirectsError);
    await assert.rejects(client.get(`${server.origin}/loop`, { maxRedirects: 0 }), TooManyRedirectsError);
    const manual = await client.get(`${server.origin}/r/301/x`, { redirect: 'manual' });
    assert.equal(manual.status, 301);
    assert.equal(manual.headers.get('location'), '/x');
    assert.equal(await manual.text(), 'redirect body');
    await assert.rejects(
      client.get(`${server.origin}/r/302`, { redirect: 'error' }),
      UnexpectedRedirectError,
    );
    const streamed = await client.post(`${server.origin}/r/307`, { body: Readable.from(['abc']) });
    assert.equal(streamed.status, 307, 'a one-shot body cannot follow a 307');
    const noFollow = new Client({ redirect: { mode: 'manual' } });
    assert.equal((await noFollow.get(`${server.origin}/r/302`)).status, 302);
    await noFollow.close();
  } finally {
    await client.close();
    await server.close();
  }
});
