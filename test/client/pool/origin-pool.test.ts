/**
 * Tests of the per-origin pool through `Client`: the wait queue bound, idle timeout and maximum
 * idle, the `Keep-Alive: timeout` hint, detection of idle connections the server closed, the
 * single retry of an idempotent request whose connection died before the response began
 * (RFC 9112 §9.3.1), `Connection: close` (RFC 9112 §9.6), pipelining (RFC 9112 §9.3.2),
 * statistics, `close()` draining and `destroy()`.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import test from 'node:test';
import { Client } from '../../../src/client/client.js';
import {
  ClientClosedError,
  ConnectionClosedError,
  PoolExhaustedError,
} from '../../../src/client/client-errors.js';
import { delay, httpServer, onRequestHeads, rawServer } from '../client-test-servers.js';

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/** Resolves once the server has no open socket left. */
async function allClosed(server: { open: Set<net.Socket> }): Promise<void> {
  while (server.open.size > 0) await delay(5);
}

test('a full wait queue fails fast with PoolExhaustedError', async () => {
  const held: (() => void)[] = [];
  let arrived: () => void = () => {};
  const firstArrived = new Promise<void>((r) => {
    arrived = r;
  });
  const server = await httpServer((_req, res) => {
    held.push(() => res.end('x'));
    arrived();
  });
  const client = new Client({ connections: 1, maxQueued: 2, retry: false });
  try {
    const first = client.get(server.origin);
    await firstArrived;
    const queued = [client.get(server.origin), client.get(server.origin)];
    assert.equal(client.stats().pending, 2);
    await assert.rejects(client.get(server.origin), PoolExhaustedError);
    held.shift()!();
    assert.equal(await (await first).text(), 'x');
    const waitAll = Promise.all(queued.map(async (p) => (await p).text()));
    while (held.length < 1) await new Promise((r) => setImmediate(r));
    held.shift()!();
    while (held.length < 1) await new Promise((r) => setImmediate(r));
    held.shift()!();
    assert.deepEqual(await waitAll, ['x', 'x']);
  } finally {
    await client.close();
    await server.close();
  }
});

test('idle connections close after keepAliveTimeout, and past maxIdle at once', async () => {
  const server = await httpServer((_req, res) => setTimeout(() => res.end('x'), 5));
  const client = new Client({ connections: 3, maxIdle: 1, keepAliveTimeout: 30, keepAliveMaxTimeout: 30 });
  try {
    await Promise.all([1, 2, 3].map(async () => (await client.get(server.origin)).text()));
    assert.equal(client.stats().idle, 1, 'only maxIdle connections are kept');
    assert.equal(client.stats().connections, 1);
    await allClosed(server);
    assert.equal(client.stats().connections, 0, 'the idle connection timed out');
  } finally {
    await client.close();
    await server.close();
  }
});

test("the server's Keep-Alive: timeout hint shortens the idle time", async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () =>
      socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 0\r\n\r\n'),
    ),
  );
  const client = new Client({ keepAliveTimeout: 600_000 });
  try {
    await (await client.get(server.origin)).text();
    assert.equal(client.stats().idle, 1);
    await allClosed(server); // the client closes it well before 600 s
    assert.equal(client.stats().connections, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('an idle connection the server closed is not reused', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () => {
      socket.write(OK);
      socket.end(); // closes without saying Connection: close
    }),
  );
  const client = new Client({ retry: false });
  try {
    assert.equal(await (await client.get(server.origin)).text(), 'ok');
    while (client.stats().connections > 0) await new Promise((r) => setImmediate(r));
    assert.equal(await (await client.get(server.origin)).text(), 'ok');
    assert.equal(client.stats().created, 2);
  } finally {
    await client.close();
    await server.close();
  }
});

test('an idempotent request on a connection that dies before responding is retried once; POST is not', async () => {
  // Every connection answers its first request and silently drops the second.
  const server = await rawServer((socket) => {
    let n = 0;
    onRequestHeads(socket, () => {
      if (++n === 1) socket.write(OK);
      else socket.destroy();
    });
  });
  const client = new Client({ retry: false, connections: 1 });
  try {
    await (await client.get(server.origin)).text();
    assert.equal(await (await client.get(server.origin)).text(), 'ok', 'retried on a new connection');
    assert.equal(server.connections, 2);
    await assert.rejects(client.post(server.origin, { body: 'x' }), ConnectionClosedError);
  } finally {
    await client.close();
    await server.close();
  }
});

test('Connection: close from the server ends the connection after the response', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () =>
      socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok'),
    ),
  );
  const client = new Client();
  try {
    assert.equal(await (await client.get(server.origin)).text(), 'ok');
    assert.equal(await (await client.get(server.origin)).text(), 'ok');
    assert.equal(server.connections, 2);
    assert.equal(client.stats().reused, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('pipelining sends several requests on one connection and matches responses in order', async () => {
  let heads: string[] = [];
  const server = await rawServer((socket) =>
    onRequestHeads(socket, (head) => {
      heads.push(head.split(' ')[1]!);
      if (heads.length === 3) {
        // Answer all three only once all three arrived: they were pipelined.
        for (const path of heads)
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`);
        heads = [];
      }
    }),
  );
  const client = new Client({ connections: 1, pipelining: 3 });
  try {
    const first = client.get(`${server.origin}/a`); // opens the connection
    const rest = [client.get(`${server.origin}/bb`), client.get(`${server.origin}/ccc`)];
    const texts = await Promise.all([first, ...rest].map(async (p) => (await p).text()));
    assert.deepEqual(texts, ['/a', '/bb', '/ccc']);
    assert.equal(server.connections, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('close() lets in-flight requests finish and refuses new ones; destroy() fails them', async () => {
  const held: (() => void)[] = [];
  const server = await httpServer((_req, res) => held.push(() => res.end('done')));
  const client = new Client();
  const inflight = client.get(server.origin);
  while (held.length === 0) await new Promise((r) => setImmediate(r));
  const closing = client.close();
  await assert.rejects(client.get(server.origin), ClientClosedError);
  held.shift()!();
  assert.equal(await (await inflight).text(), 'done');
  await closing;
  assert.equal(client.stats().connections, 0);

  const client2 = new Client();
  const doomed = client2.get(server.origin);
  while (held.length === 0) await new Promise((r) => setImmediate(r));
  client2.destroy();
  await assert.rejects(doomed, ClientClosedError);
  assert.equal(client2.stats().connections, 0);
  await server.close();
});
