/**
 * Tests of `Client` against node:http servers on loopback: the request API and its shortcuts,
 * request bodies of every kind (RFC 9110 §8.6 Content-Length, RFC 9112 §7.1 chunked), response
 * bodies read every way, HEAD / 204 / 304 framing (RFC 9110 §6.4.1), trailers (RFC 9110 §6.5),
 * interim responses (RFC 9110 §15.2), keep-alive reuse and interceptors.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import test from 'node:test';
import { Client } from '../../src/client/client.js';
import { InvalidRequestError } from '../../src/client/client-errors.js';
import { Headers } from '../../src/core/headers.js';
import { BodyUsedError } from '../../src/core/incoming-body.js';
import { httpServer, onRequestHeads, rawServer, readBody } from './client-test-servers.js';

test('GET: status, headers, text; POST with a string body; keep-alive reuses the connection', async () => {
  const server = await httpServer(async (req, res) => {
    const body = await readBody(req);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        body,
        host: req.headers.host,
        len: req.headers['content-length'] ?? null,
      }),
    );
  });
  const client = new Client({ connections: 2 });
  try {
    const res = await client.request({ method: 'GET', url: `${server.origin}/a?b=c` });
    assert.equal(res.status, 200);
    assert.equal(res.ok, true);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(JSON.parse(await res.text()), {
      method: 'GET',
      url: '/a?b=c',
      body: '',
      host: `127.0.0.1:${server.port}`,
      len: null,
    });
    const post = await client.post(`${server.origin}/p`, { body: 'héllo' });
    assert.deepEqual(await post.json(), {
      method: 'POST',
      url: '/p',
      body: 'héllo',
      host: `127.0.0.1:${server.port}`,
      len: '6',
    });
    const empty = await client.post(`${server.origin}/e`);
    assert.equal(
      ((await empty.json()) as { len: string }).len,
      '0',
      'POST without body sends content-length: 0',
    );
    for (let i = 0; i < 5; i++) await (await client.get(`${server.origin}/${i}`)).text();
    assert.equal(server.connections, 1, 'sequential requests share one connection');
    const stats = client.stats();
    assert.equal(stats.created, 1);
    assert.equal(stats.reused, 7);
    assert.equal(stats.requests, 8);
    assert.equal(stats.idle, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('shortcuts send their method; json option; put/patch/delete/head', async () => {
  const server = await httpServer(async (req, res) => {
    const body = await readBody(req);
    res.setHeader('x-method', req.method!);
    res.setHeader('x-ct', req.headers['content-type'] ?? '');
    res.end(body);
  });
  const client = new Client();
  try {
    for (const [fn, method] of [
      [client.put.bind(client), 'PUT'],
      [client.patch.bind(client), 'PATCH'],
      [client.delete.bind(client), 'DELETE'],
    ] as const) {
      const res = await fn(`${server.origin}/`, { json: { a: 1 } });
      assert.equal(res.headers.get('x-method'), method);
      assert.equal(res.headers.get('x-ct'), 'application/json');
      assert.deepEqual(await res.json(), { a: 1 });
    }
    const head = await client.head(`${server.origin}/`);
    assert.equal(head.headers.get('x-method'), 'HEAD');
    assert.equal((await head.bytes()).length, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('request bodies: bytes, URLSearchParams, stream (chunked), async iterable, FormData, Blob', async () => {
  const server = await httpServer(async (req, res) => {
    const body = await readBody(req);
    res.end(
      JSON.stringify({
        body,
        ct: req.headers['content-type'] ?? null,
        te: req.headers['transfer-encoding'] ?? null,
        len: req.headers['content-length'] ?? null,
      }),
    );
  });
  const client = new Client();
  type Echo = { body: string; ct: string | null; te: string | null; len: string | null };
  const send = async (body: unknown, headers?: Record<string, string>) =>
    (await (await client.post(`${server.origin}/`, { body: body as never, headers })).json()) as Echo;
  try {
    assert.deepEqual(await send(new Uint8Array([104, 105])), { body: 'hi', ct: null, te: null, len: '2' });
    const form = await send(new URLSearchParams({ a: '1', b: 'x y' }));
    assert.equal(form.body, 'a=1&b=x+y');
    assert.equal(form.ct, 'application/x-www-form-urlencoded;charset=UTF-8');
    const streamed = await send(Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    assert.deepEqual(streamed, { body: 'abcd', ct: null, te: 'chunked', len: null });
    async function* gen() {
      yield 'x';
      yield new Uint8Array([121]);
    }
    assert.equal((await send(gen())).body, 'xy');
    const big = 'z'.repeat(100_000);
    assert.equal((await send(big)).body.length, 100_000, 'a body over the coalescing limit');
    const fd = new FormData();
    fd.append('name', 'va"lue\nnext');
    fd.append('file', new Blob(['file content'], { type: 'text/plain' }), 'a.txt');
    const multi = await send(fd);
    assert.match(multi.ct!, /^multipart\/form-data; boundary=/);
    assert.equal(Number(multi.len), Buffer.byteLength(multi.body), 'Content-Length matches the encoded body');
    assert.match(multi.body, /name="name"\r\n\r\nva"lue\r\nnext\r\n/);
    assert.match(
      multi.body,
      /name="file"; filename="a.txt"\r\nContent-Type: text\/plain\r\n\r\nfile content\r\n/,
    );
    // Parsed back by the WHATWG Response, the form has the same entries.
    const parsed = await new Response(multi.body, { headers: { 'content-type': multi.ct! } }).formData();
    assert.equal(parsed.get('name'), 'va"lue\r\nnext');
    assert.equal(await (parsed.get('file') as Blob).text(), 'file content');
    const blob = await send(new Blob(['blobby'], { type: 'application/x-test' }));
    assert.deepEqual(blob, { body: 'blobby', ct: 'application/x-test', te: null, len: '6' });
    const typed = await send('{"a":1}', { 'content-type': 'application/json' });
    assert.equal(typed.ct, 'application/json', 'an explicit content-type wins');
  } finally {
    await client.close();
    await server.close();
  }
});

test('response body as async iterable, Node stream, bytes; read once', async () => {
  const server = await httpServer((_req, res) => {
    res.write('one,');
    setImmediate(() => res.end('two'));
  });
  const client = new Client();
  try {
    const a = await client.get(server.origin);
    let text = '';
    for await (const chunk of a.body) text += chunk.toString();
    assert.equal(text, 'one,two');
    await assert.rejects(a.text(), BodyUsedError);
    const b = await client.get(server.origin);
    let s = '';
    for await (const chunk of b.stream()) s += chunk.toString();
    assert.equal(s, 'one,two');
    const c = await client.get(server.origin);
    assert.equal((await c.bytes()).toString(), 'one,two');
    assert.equal(c.bodyUsed, true);
  } finally {
    await client.close();
    await server.close();
  }
});

test('204, 304 and HEAD have no body; chunked trailers; 100 Continue is skipped', async () => {
  const server = await rawServer((socket) => {
    onRequestHeads(socket, (head) => {
      const path = head.split(' ')[1];
      if (path === '/204') socket.write('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n');
      else if (path === '/304') socket.write('HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n');
      else if (path === '/head') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
      else if (path === '/trailers')
        socket.write(
          'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 42\r\n\r\n',
        );
      else if (path === '/continue')
        socket.write(
          'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
        );
    });
  });
  const client = new Client({ connections: 1 });
  try {
    const r204 = await client.get(`${server.origin}/204`);
    assert.equal(r204.status, 204);
    assert.equal(await r204.text(), '');
    const r304 = await client.get(`${server.origin}/304`);
    assert.equal(r304.status, 304);
    assert.equal(await r304.text(), '');
    const head = await client.head(`${server.origin}/head`);
    assert.equal(head.headers.get('content-length'), '1000');
    assert.equal(await head.text(), '');
    const tr = await client.get(`${server.origin}/trailers`);
    assert.equal(await tr.text(), 'abc');
    assert.deepEqual(tr.trailers, ['x-sum', '42']);
    const cont = await client.get(`${server.origin}/continue`);
    assert.equal(cont.status, 200);
    assert.equal(await cont.text(), 'ok');
    assert.equal(server.connections, 1, 'every response kept the connection usable');
  } finally {
    await client.close();
    await server.close();
  }
});

test("headers: given as record, pairs or Headers; Host override; framing fields are the client's", async () => {
  let seen: string[] = [];
  const server = await rawServer((socket) => {
    onRequestHeads(socket, (head) => {
      seen = head.split('\r\n');
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
  });
  const client = new Client({ decompress: false });
  try {
    await (
      await client.get(`${server.origin}/x`, { headers: { 'X-One': '1', 'x-multi': ['a', 'b'] } })
    ).text();
    assert.equal(seen[0], 'GET /x HTTP/1.1');
    assert.equal(seen[1], `host: 127.0.0.1:${server.port}`, 'Host comes first (RFC 9110 §7.2)');
    assert.ok(seen.includes('X-One: 1'));
    assert.ok(seen.includes('x-multi: a') && seen.includes('x-multi: b'));
    await (
      await client.get(`${server.origin}/y`, { headers: new Headers([['Host', 'example.test']]) })
    ).text();
    assert.equal(seen.filter((l) => /^host:/i.test(l)).length, 1);
    assert.ok(seen.includes('Host: example.test'));
    await (
      await client.post(`${server.origin}/z`, {
        body: 'abc',
        headers: { 'content-length': '99', 'transfer-encoding': 'gzip' },
      })
    ).text();
    assert.ok(seen.includes('content-length: 3'));
    assert.ok(!seen.some((l) => /^transfer-encoding/i.test(l) || l === 'content-length: 99'));
  } finally {
    await client.close();
    await server.close();
  }
});

test('invalid requests reject with typed errors and never throw synchronously', async () => {
  const client = new Client();
  try {
    await assert.rejects(client.request({ url: 'not a url' }), InvalidRequestError);
    await assert.rejects(client.request({ url: 'ftp://127.0.0.1/' }), InvalidRequestError);
    await assert.rejects(
      client.request({ url: 'http://127.0.0.1:1/', method: 'BAD METHOD' }),
      InvalidRequestError,
    );
    await assert.rejects(
      client.request({ url: 'http://127.0.0.1:1/', body: 42 as never }),
      InvalidRequestError,
    );
    await assert.rejects(
      client.request({ url: 'http://127.0.0.1:1/', headers: { 'bad name': 'x' } }),
      (err: Error) => (err as { code?: string }).code === 'AVX_INVALID_HEADER_NAME',
    );
    await assert.rejects(client.request({ url: 'http://127.0.0.1:1/', headers: { x: 'a\r\nb' } }), {
      code: 'AVX_INVALID_HEADER_VALUE',
    });
  } finally {
    await client.close();
  }
});

test('interceptors: use, onRequest and onResponse run in registration order before the policies', async () => {
  const server = await httpServer((req, res) => res.end(String(req.headers['x-trace'] ?? '')));
  const client = new Client();
  const order: string[] = [];
  client.use(async (req, next) => {
    order.push('use:before');
    const res = await next(req);
    order.push('use:after');
    return res;
  });
  client.onRequest((req) => {
    order.push('onRequest');
    req.headers.set('x-trace', 'abc');
    return undefined;
  });
  client.onResponse((res) => {
    order.push(`onResponse:${res.status}`);
  });
  try {
    const res = await client.get(server.origin);
    assert.equal(await res.text(), 'abc');
    assert.deepEqual(order, ['use:before', 'onRequest', 'onResponse:200', 'use:after']);
  } finally {
    await client.close();
    await server.close();
  }
});

test('concurrent requests open up to `connections` connections and queue the rest', async () => {
  let active = 0;
  let peak = 0;
  const server = await httpServer((_req, res) => {
    active++;
    peak = Math.max(peak, active);
    setTimeout(() => {
      active--;
      res.end('x');
    }, 5);
  });
  const client = new Client({ connections: 3 });
  try {
    const all = await Promise.all(
      Array.from({ length: 20 }, () => client.get(server.origin).then((r) => r.text())),
    );
    assert.equal(all.join(''), 'x'.repeat(20));
    assert.equal(peak, 3);
    assert.equal(server.connections, 3);
    assert.equal(client.stats().created, 3);
  } finally {
    await client.close();
    await server.close();
  }
});
