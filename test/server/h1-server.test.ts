import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as undiciRequest } from 'undici';
import { App } from '../../src/server/app.js';
import { HttpError } from '../../src/server/http-error.js';
import { Response } from '../../src/server/response.js';
import type { Server } from '../../src/server/server.js';
import { heapAfterGc } from '../heap.js';
import { closedWithin, curl, openSocket, rawExchange, statusCodes } from './server-test-kit.js';

function nodeGet(port: number, path: string, method = 'GET', body?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('HTTP/1.1 server', () => {
  let server: Server;
  let port: number;
  const app = new App({ bodyLimit: 1024 });
  app.get('/', () => 'hello world');
  app.post('/echo', async (req) => ({ got: await req.json() }));
  app.get('/users/:id', (req) => ({ id: req.params.id, q: req.query.get('q') }));
  app.get('/bytes', () => Buffer.from([1, 2, 3]));
  app.get('/empty', () => null);
  app.get('/unicode', () => 'héllo wörld ✓');
  app.get('/stream', () =>
    (async function* () {
      yield 'a';
      yield Buffer.from('b');
      yield 'c';
    })(),
  );
  app.get('/custom', () => new Response('made', { status: 201, headers: { 'x-made': 'yes' } }));
  app.get('/boom', () => {
    throw new Error('secret internals');
  });
  app.get('/teapot', () => {
    throw new HttpError(418, 'short and stout');
  });
  app.get('/slow/:ms', async (req) => {
    await sleep(Number(req.params.ms));
    return `slept ${req.params.ms}`;
  });
  app.put('/upload', async (req) => `${(await req.bytes()).length}`);
  app.post('/ignore-body', () => 'ignored');

  before(async () => {
    server = await app.listen({ port: 0, host: '127.0.0.1', keepAliveTimeout: 500, headersTimeout: 400 });
    port = server.port;
  });
  after(() => server.close());

  test('listen resolves with the bound port', () => {
    assert.ok(port > 0);
    assert.equal(server.url, `http://127.0.0.1:${port}`);
  });

  test('curl: hello world, JSON echo, params and query', async () => {
    assert.equal(await curl([`http://127.0.0.1:${port}/`]), 'hello world');
    assert.equal(
      await curl([
        '-X',
        'POST',
        '-H',
        'content-type: application/json',
        '-d',
        '{"a":[1,2]}',
        `http://127.0.0.1:${port}/echo`,
      ]),
      '{"got":{"a":[1,2]}}',
    );
    assert.equal(await curl([`http://127.0.0.1:${port}/users/42?q=x%20y`]), '{"id":"42","q":"x y"}');
    const head = await curl(['-sI', `http://127.0.0.1:${port}/`]);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /Content-Length: 11\r\n/);
    assert.match(head, /Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
  });

  test('node:http client: status, headers and bodies of every result type', async () => {
    const bytes = await nodeGet(port, '/bytes');
    assert.equal(bytes.headers['content-type'], 'application/octet-stream');
    assert.equal(bytes.body, '\x01\x02\x03');
    const empty = await nodeGet(port, '/empty');
    assert.equal(empty.status, 204);
    const unicode = await nodeGet(port, '/unicode');
    assert.equal(unicode.body, 'héllo wörld ✓');
    assert.equal(unicode.headers['content-length'], String(Buffer.byteLength('héllo wörld ✓')));
    const stream = await nodeGet(port, '/stream');
    assert.equal(stream.headers['transfer-encoding'], 'chunked');
    assert.equal(stream.body, 'abc');
    const custom = await nodeGet(port, '/custom');
    assert.equal(custom.status, 201);
    assert.equal(custom.headers['x-made'], 'yes');
  });

  test('undici as a client, keep-alive', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await undiciRequest(`http://127.0.0.1:${port}/users/${i}`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(await res.body.json(), { id: String(i), q: null });
    }
  });

  test('404, 405 with Allow, and OPTIONS', async () => {
    const missing = await nodeGet(port, '/nope');
    assert.equal(missing.status, 404);
    const wrong = await nodeGet(port, '/echo', 'GET');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'POST');
    const options = await nodeGet(port, '/', 'OPTIONS');
    assert.equal(options.status, 204);
    assert.match(String(options.headers.allow), /GET/);
  });

  test('a thrown error is a 500 that does not leak internals; HttpError keeps its status', async () => {
    const boom = await nodeGet(port, '/boom');
    assert.equal(boom.status, 500);
    assert.doesNotMatch(boom.body, /secret internals|at /);
    const teapot = await nodeGet(port, '/teapot');
    assert.equal(teapot.status, 418);
    assert.match(teapot.body, /short and stout/);
  });

  test('development mode shows the message and stack', async () => {
    const dev = new App({ development: true });
    dev.get('/boom', () => {
      throw new Error('visible in dev');
    });
    const s = await dev.listen({ port: 0 });
    try {
      const res = await nodeGet(s.port, '/boom');
      assert.equal(res.status, 500);
      assert.match(res.body, /visible in dev/);
      assert.match(res.body, /stack/);
    } finally {
      await s.close();
    }
  });

  test('HEAD gets the fields without the body', async () => {
    const raw = await rawExchange(port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(raw, /Content-Length: 11\r\n/);
    assert.ok(raw.endsWith('\r\n\r\n'), 'no body after the head');
  });

  test('pipelined requests are answered in order, even when an earlier one is slower', async () => {
    const raw = await rawExchange(
      port,
      'GET /slow/50 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const first = raw.indexOf('slept 50');
    const second = raw.indexOf('{"id":"2"');
    const third = raw.indexOf('hello world');
    assert.ok(first > 0 && second > first && third > second, raw);
  });

  test('Expect: 100-continue gets an interim response before the body is sent', async () => {
    const socket = await openSocket(port);
    const got: string[] = [];
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => got.push(c));
    socket.write('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await sleep(100);
    assert.match(got.join(''), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    socket.write('hello');
    await sleep(100);
    assert.match(got.join(''), /HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n5$/);
    socket.destroy();
  });

  test('curl sends a large body with Expect and gets it counted', async () => {
    const out = await curl([
      '-X',
      'PUT',
      '--data-binary',
      'x'.repeat(1000),
      `http://127.0.0.1:${port}/upload`,
    ]);
    assert.equal(out, '1000');
  });

  test('errors map to statuses: 400, 413, 414, 431, 501, 505', async () => {
    const cases: [string, number][] = [
      ['GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n', 400],
      [`PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`, 413],
      [`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(17000)}\r\n\r\n`, 431],
      ['BREW / HTTP/1.1\r\nHost: x\r\n\r\n', 501],
      ['GET / HTTP/2.0\r\n\r\n', 505],
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ];
    for (const [input, status] of cases) {
      const raw = await rawExchange(port, input);
      assert.equal(
        statusCodes(raw)[0],
        status,
        `${JSON.stringify(input.slice(0, 40))} -> ${raw.slice(0, 60)}`,
      );
      assert.match(raw, /Connection: close\r\n/i);
    }
  });

  test('a chunked body over the limit is a 413 and the connection closes', async () => {
    const chunk = `400\r\n${'y'.repeat(1024)}\r\n`;
    const raw = await rawExchange(
      port,
      `PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`,
    );
    assert.equal(statusCodes(raw)[0], 413);
  });

  test('a response sent before the body was read keeps the connection in step', async () => {
    const raw = await rawExchange(
      port,
      'POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(statusCodes(raw), [200, 200]);
    assert.match(raw, /hello world$/);
  });

  test('slowloris: a head trickled slower than headersTimeout gets 408 and is closed', async () => {
    const socket = await openSocket(port);
    const got: Buffer[] = [];
    socket.on('data', (c) => got.push(c));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    for (let i = 0; i < 5; i++) {
      await sleep(120);
      if (socket.destroyed) break;
      socket.write(`X-${i}: y\r\n`);
    }
    assert.ok(await closedWithin(socket, 1500), 'the server closed the connection');
    assert.equal(statusCodes(Buffer.concat(got).toString('latin1'))[0], 408);
  });

  test('an idle keep-alive connection is closed after keepAliveTimeout', async () => {
    const socket = await openSocket(port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.resume();
    assert.ok(await closedWithin(socket, 2000));
  });

  test('a client that never reads its responses does not grow the server without bound', async () => {
    const socket = await openSocket(port);
    socket.pause();
    const request = 'GET /unicode HTTP/1.1\r\nHost: x\r\n\r\n';
    // Far more pipelined requests than the server will queue; it must stop reading.
    const burst = request.repeat(2000);
    let written = 0;
    for (let i = 0; i < 50 && !socket.destroyed; i++) {
      if (!socket.write(burst)) await Promise.race([sleep(50), new Promise((r) => socket.once('drain', r))]);
      written++;
    }
    // The server is still healthy for everyone else.
    assert.equal(await curl([`http://127.0.0.1:${port}/`]), 'hello world');
    assert.ok(written > 0);
    socket.destroy();
  });

  test('the request signal fires when the client goes away', async () => {
    let aborted: Promise<void> | undefined;
    const watch = new App();
    watch.get('/wait', (req) => {
      aborted = new Promise((resolve) => req.signal.addEventListener('abort', () => resolve()));
      return new Promise(() => {});
    });
    const s = await watch.listen({ port: 0 });
    const socket = await openSocket(s.port);
    socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(50);
    socket.destroy();
    await aborted;
    await s.destroy();
  });

  test('graceful close finishes in-flight requests and refuses new connections', async () => {
    const slow = new App();
    slow.get('/slow', async () => {
      await sleep(150);
      return 'finished';
    });
    const s = await slow.listen({ port: 0 });
    const inflight = nodeGet(s.port, '/slow');
    await sleep(30);
    const closed = s.close();
    const res = await inflight;
    assert.equal(res.body, 'finished');
    await closed;
    await assert.rejects(nodeGet(s.port, '/slow'));
  });

  test('maxConnections refuses connections past the limit', async () => {
    const s = await new App().get('/', () => 'ok').listen({ port: 0, maxConnections: 2 });
    const a = await openSocket(s.port);
    const b = await openSocket(s.port);
    await sleep(20);
    const c = await openSocket(s.port);
    assert.ok(await closedWithin(c, 1000), 'the third connection was closed');
    assert.equal(s.connectionCount, 2);
    a.destroy();
    b.destroy();
    await s.close();
  });

  test('maxRequestsPerConnection closes the connection after that many', async () => {
    const s = await new App().get('/', () => 'ok').listen({ port: 0, maxRequestsPerConnection: 2 });
    const raw = await rawExchange(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3));
    assert.deepEqual(statusCodes(raw), [200, 200]);
    assert.match(raw, /Connection: close/);
    await s.close();
  });

  test('10k connections opened and dropped: server stays up, memory returns to baseline', async () => {
    const s = await new App().get('/', () => 'ok').listen({ port: 0 });
    const batch = 500;
    const churn = async (rounds: number) => {
      for (let round = 0; round < rounds; round++) {
        const sockets = await Promise.all(Array.from({ length: batch }, () => openSocket(s.port)));
        // Half send a partial request first, so parser and timer state exist when they go.
        for (let k = 0; k < sockets.length; k += 2) sockets[k].write('GET / HTTP/1.1\r\nHost: x\r\n');
        await sleep(5);
        for (const socket of sockets) socket.destroy();
      }
      for (let i = 0; i < 100 && s.connectionCount > 0; i++) await sleep(20);
    };
    await churn(2); // warm-up: code paths and pools exist before the baseline
    const baseline = await heapAfterGc();
    await churn(20);
    assert.equal(await curl([`http://127.0.0.1:${s.port}/`]), 'ok');
    for (let i = 0; i < 50 && s.connectionCount > 0; i++) await sleep(20);
    assert.equal(s.connectionCount, 0);
    const after = await heapAfterGc();
    // A leak of even 1 KiB per connection would be 10 MB here.
    assert.ok(
      after - baseline < 4 * 1024 * 1024,
      `heap grew by ${((after - baseline) / 1048576).toFixed(1)} MiB`,
    );
    await s.close();
  });

  test('HTTP/1.0 without keep-alive is closed after its response', async () => {
    const raw = await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n[\s\S]*hello world$/);
  });

  test('an Upgrade request without a handler is answered and the connection closed', async () => {
    const raw = await rawExchange(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n',
    );
    assert.deepEqual(statusCodes(raw), [200]);
    assert.match(raw, /Connection: close/);
  });
});
