// Tests for ResponseFinishObserver (src/server/handler.ts): the app's connections tell its
// finish-observing middleware of every response sent, over HTTP/1.1 and HTTP/2, only for that
// app's requests, with the time each ended, and an observer that throws breaks neither the
// connection nor the others.
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { test } from 'node:test';
import { Client } from '../../src/client/client.js';
import { App } from '../../src/server/app.js';
import type { Middleware, ResponseFinishObserver } from '../../src/server/handler.js';

type Seen = [path: string, status: number, bytes: number];

/** A pass-through middleware that records each finished response (and when, in `times`). */
function finishLog(seen: Seen[], fail = false, times: number[] = []): Middleware & ResponseFinishObserver {
  const middleware: Middleware = (_req, next) => next();
  return Object.assign(middleware, {
    onResponseFinish(req: { path: string }, status: number, bytes: number, finishedAt: number) {
      seen.push([req.path, status, bytes]);
      times.push(finishedAt);
      if (fail) throw new Error('observer failed');
    },
  });
}

function h2get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':path': path });
    stream.on('response', (headers) => {
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve(Number(headers[':status']));
      });
    });
    stream.on('error', reject);
    stream.end();
  });
}

test('finish observers see every response of their app, over HTTP/1.1 and HTTP/2', async () => {
  const seen: Seen[] = [];
  const otherSeen: Seen[] = [];
  const app = new App().use(finishLog(seen));
  app.get('/hello', () => 'hello');
  const other = new App().use(finishLog(otherSeen));
  other.get('/hello', () => 'other');
  const server = await app.listen({ port: 0 });
  const otherServer = await other.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    await (await client.get(`http://127.0.0.1:${server.port}/hello`)).dump();
    await (await client.get(`http://127.0.0.1:${server.port}/missing`)).dump();
    assert.equal(await h2get(server.port, '/hello'), 200);
    assert.deepEqual(seen, [
      ['/hello', 200, 5],
      ['/missing', 404, seen[1]?.[2] ?? -2],
      ['/hello', 200, 5],
    ]);
    assert.ok(seen[1]![2] > 0, 'the 404 body was counted');
    assert.deepEqual(otherSeen, [], 'another app does not hear of these requests');
  } finally {
    await client.close();
    await server.close();
    await otherServer.close();
  }
});

test('finish observers are told when each response ended, by performance.now(), over HTTP/1.1 and HTTP/2', async () => {
  const seen: Seen[] = [];
  const times: number[] = [];
  const handled: number[] = [];
  const app = new App().use(finishLog(seen, false, times));
  // The handler notes when it ran and answers 30 ms later: the response ends after both.
  app.get('/slow', async () => {
    handled.push(performance.now());
    await new Promise((resolve) => setTimeout(resolve, 30));
    return 'slow';
  });
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    await (await client.get(`http://127.0.0.1:${server.port}/slow`)).dump();
    const afterH1 = performance.now();
    assert.equal(await h2get(server.port, '/slow'), 200);
    const afterH2 = performance.now();
    assert.equal(times.length, 2);
    for (const [i, after] of [afterH1, afterH2].entries()) {
      assert.ok(times[i]! >= handled[i]! + 29, `ended ${times[i]! - handled[i]!} ms after the handler ran`);
      assert.ok(times[i]! <= after, 'ended before the client had the response');
    }
  } finally {
    await client.close();
    await server.close();
  }
});

test('an observer that throws is reported as uncaught, and the connection and the next observer go on', async () => {
  const seen: Seen[] = [];
  const after: Seen[] = [];
  const app = new App().use(finishLog(seen, true)).use(finishLog(after));
  app.get('/', () => 'ok');
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  const errors: Error[] = [];
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', (err) => errors.push(err));
  try {
    for (let i = 0; i < 2; i++) {
      const res = await client.get(`http://127.0.0.1:${server.port}/`);
      assert.equal(await res.text(), 'ok');
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 2);
    assert.equal(after.length, 2, 'the observer after the failing one still ran');
    assert.equal(errors.length, 2);
    assert.equal(errors[0]!.message, 'observer failed');
  } finally {
    process.removeAllListeners('uncaughtException');
    for (const l of listeners) process.on('uncaughtException', l);
    await client.close();
    await server.close();
  }
});
