import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import { openSocket, rawExchange, statusCodes } from './server-test-kit.js';

test('an upgrade handler takes over the socket, with the bytes that followed the head', async () => {
  const app = new App();
  app.get('/', () => 'plain');
  app.upgrade('echo', ({ socket, head, req }) => {
    assert.equal(req.path, '/chat');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    socket.write(head);
    socket.on('data', (d) => socket.write(d));
  });
  const server = await app.listen({ port: 0 });
  try {
    const socket = await openSocket(server.port);
    const got: Buffer[] = [];
    socket.on('data', (d) => got.push(d));
    socket.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ECHO\r\n\r\nfirst;');
    await sleep(50);
    socket.write('second');
    await sleep(50);
    const text = Buffer.concat(got).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*\r\n\r\nfirst;second$/);
    // Graceful close ends upgraded sockets too.
    await server.close();
    assert.ok(socket.destroyed || socket.readableEnded || (await sleep(50).then(() => true)));
    socket.destroy();
  } finally {
    await server.destroy();
  }
});

test('an upgrade handler may decline with a response; unknown tokens are served normally', async () => {
  const app = new App();
  app.get('/', () => 'plain');
  app.upgrade('echo', () => new Response('upgrade refused', { status: 426, headers: { upgrade: 'echo' } }));
  const server = await app.listen({ port: 0 });
  try {
    const declined = await rawExchange(
      server.port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n',
    );
    assert.deepEqual(statusCodes(declined), [426]);
    assert.match(declined, /upgrade refused$/);
    const ignored = await rawExchange(
      server.port,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n',
    );
    assert.deepEqual(statusCodes(ignored), [200]);
    assert.match(ignored, /plain$/);
  } finally {
    await server.close();
  }
});

test('diagnostics_channel reports connections, request starts and response finishes', async () => {
  const events: string[] = [];
  const onOpen = () => events.push('open');
  const onStart = (m: unknown) => events.push(`start ${(m as { request: { path: string } }).request.path}`);
  const onFinish = (m: unknown) => {
    const { status, bytes } = m as { status: number; bytes: number };
    events.push(`finish ${status} ${bytes}`);
  };
  const onClose = () => events.push('close');
  subscribe('avx:server:connection:open', onOpen);
  subscribe('avx:server:request:start', onStart);
  subscribe('avx:server:response:finish', onFinish);
  subscribe('avx:server:connection:close', onClose);
  const app = new App();
  app.get('/a', () => 'hello');
  app.get('/b', () => new Response(null, { status: 404 }));
  const server = await app.listen({ port: 0 });
  try {
    await rawExchange(
      server.port,
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await sleep(20);
    assert.deepEqual(events, ['open', 'start /a', 'finish 200 5', 'start /b', 'finish 404 0', 'close']);
  } finally {
    unsubscribe('avx:server:connection:open', onOpen);
    unsubscribe('avx:server:request:start', onStart);
    unsubscribe('avx:server:response:finish', onFinish);
    unsubscribe('avx:server:connection:close', onClose);
    await server.close();
  }
});
