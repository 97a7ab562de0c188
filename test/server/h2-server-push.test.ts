/**
 * Server push (RFC 9113 §8.4) through the App: `req.push(path)` seen by real clients, node:http2
 * (`session.on('stream')` push events) and nghttp (`-v` prints PUSH_PROMISE), and the cases
 * where it is not possible (client disabled push, HTTP/1.1) returning null.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import type { Server } from '../../src/server/server.js';
import type { ServerPush } from '../../src/server/server-push.js';
import { requirePeer } from '../peers.js';

const CSS = 'body { color: teal }';
let forgotten: ServerPush | null = null;

function makeApp(): App {
  const app = new App();
  app.get('/page', (req) => {
    const push = req.push('/style.css', { headers: { 'accept-encoding': 'gzip' } });
    push?.respond(Response.text(CSS, { headers: { 'content-type': 'text/css' } }));
    return `page pushed=${push !== null}`;
  });
  // The pushed request served through the app itself.
  app.get('/app.js', (req) => `console.log(${JSON.stringify(req.path)})`);
  app.get('/routed', (req) => {
    const push = req.push('/app.js');
    push?.respond(app.handle(push.request));
    return 'routed';
  });
  app.get('/forgotten', (req) => {
    forgotten = req.push('/never.css');
    return 'forgot to answer';
  });
  app.get('/invalid', (req) => {
    const errors: string[] = [];
    for (const bad of [
      () => req.push('style.css'),
      () => req.push('/x', { method: 'POST' as 'GET' }),
      () => req.push('/x', { headers: { te: 'gzip' } }),
    ]) {
      try {
        bad();
      } catch (err) {
        errors.push((err as { code: string }).code);
      }
    }
    return errors.join(',');
  });
  return app;
}

let server: Server;
let origin: string;

before(async () => {
  server = await makeApp().listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server.destroy();
});

interface Pushed {
  request: http2.IncomingHttpHeaders;
  response: http2.IncomingHttpHeaders | undefined;
  body: string;
  rstCode: number;
}

/** GETs `path` with node:http2; collects the response and every pushed stream. */
async function getWithPushes(
  path: string,
  settings: http2.Settings = {},
): Promise<{ status: number; body: string; pushes: Pushed[] }> {
  const session = http2.connect(origin, { settings });
  const pushes: Promise<Pushed>[] = [];
  session.on('stream', (stream, requestHeaders) => {
    pushes.push(
      new Promise((resolve) => {
        const pushed: Pushed = { request: requestHeaders, response: undefined, body: '', rstCode: 0 };
        stream.on('push', (headers) => {
          pushed.response = headers;
        });
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => {
          pushed.body += d;
        });
        stream.on('error', () => {});
        stream.on('close', () => {
          pushed.rstCode = stream.rstCode ?? 0;
          resolve(pushed);
        });
      }),
    );
  });
  try {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':path': path });
      let status = 0;
      let body = '';
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
    });
    return { status, body, pushes: await Promise.all(pushes) };
  } finally {
    session.close();
  }
}

test('node:http2 client receives the PUSH_PROMISE and the pushed response (session "stream" event)', async () => {
  const { status, body, pushes } = await getWithPushes('/page');
  assert.equal(status, 200);
  assert.equal(body, 'page pushed=true');
  assert.equal(pushes.length, 1);
  const [push] = pushes;
  assert.equal(push!.request[':method'], 'GET');
  assert.equal(push!.request[':path'], '/style.css');
  assert.equal(push!.request[':scheme'], 'http');
  assert.equal(push!.request[':authority'], `127.0.0.1:${server.port}`);
  assert.equal(push!.request['accept-encoding'], 'gzip');
  assert.equal(push!.response?.[':status'], 200);
  assert.equal(push!.response?.['content-type'], 'text/css');
  assert.equal(push!.body, CSS);
});

test('a pushed request can be served through the app (push.respond(app.handle(push.request)))', async () => {
  const { body, pushes } = await getWithPushes('/routed');
  assert.equal(body, 'routed');
  assert.equal(pushes.length, 1);
  assert.equal(pushes[0]!.request[':path'], '/app.js');
  assert.equal(pushes[0]!.body, 'console.log("/app.js")');
});

test('req.push returns null when the client sent SETTINGS_ENABLE_PUSH = 0; nothing is promised', async () => {
  const { body, pushes } = await getWithPushes('/page', { enablePush: false });
  assert.equal(body, 'page pushed=false');
  assert.equal(pushes.length, 0);
});

test('req.push returns null over HTTP/1.1', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get(`${origin}/page`, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          b += d;
        });
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  assert.equal(body, 'page pushed=false');
});

test('a push never answered is cancelled (RST_STREAM CANCEL) once the response is complete', async () => {
  const { body, pushes } = await getWithPushes('/forgotten');
  assert.equal(body, 'forgot to answer');
  assert.ok(forgotten !== null);
  assert.equal(pushes.length, 1);
  assert.equal(pushes[0]!.rstCode, http2.constants.NGHTTP2_CANCEL);
  assert.equal(pushes[0]!.response, undefined);
});

test('req.push throws PushRequestError for a relative path, an unsafe method, a malformed field', async () => {
  const { body, pushes } = await getWithPushes('/invalid');
  assert.equal(body, 'AVX_PUSH_INVALID_REQUEST,AVX_PUSH_INVALID_REQUEST,AVX_PUSH_INVALID_REQUEST');
  assert.equal(pushes.length, 0);
});

test('nghttp -v shows the PUSH_PROMISE and the pushed response', async (t) => {
  if (!requirePeer(t, 'nghttp')) return;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('nghttp', ['-v', `${origin}/page`], { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`nghttp failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  assert.match(out, /recv PUSH_PROMISE frame <length=\d+, flags=0x04, stream_id=13>/);
  assert.match(out, /promised_stream_id=2\)/);
  assert.match(out, /:path: \/style\.css/);
  assert.match(out, /recv DATA frame <length=\d+, flags=0x01, stream_id=2>/);
  assert.ok(out.includes(CSS), 'the pushed body');
  assert.ok(out.includes('page pushed=true'));
  // And with push disabled, no promise.
  const noPush = await new Promise<string>((resolve, reject) => {
    execFile('nghttp', ['-v', '--no-push', `${origin}/page`], { timeout: 30000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
  assert.doesNotMatch(noPush, /PUSH_PROMISE/);
  assert.ok(noPush.includes('page pushed=false'));
});
