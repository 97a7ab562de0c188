/**
 * Fault tests: servers that close mid-body, send garbage, exceed limits, refuse connections or
 * do not exist; and 10,000 requests with random aborts, after which every request has settled
 * exactly once, no socket is left open on either side and no rejection went unhandled.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import test from 'node:test';
import { Client } from '../../src/client/client.js';
import {
  ClientError,
  ConnectError,
  ConnectionClosedError,
  RequestAbortedError,
  ResponseParseError,
} from '../../src/client/client-errors.js';
import { BodyTooLargeError } from '../../src/core/incoming-body.js';
import { delay, onRequestHeads, rawServer } from './client-test-servers.js';

test('server closes in the middle of the body', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      setImmediate(() => socket.destroy());
    }),
  );
  const client = new Client({ retry: false });
  try {
    const res = await client.get(server.origin);
    await assert.rejects(res.text(), ConnectionClosedError);
  } finally {
    await client.close();
    await server.close();
  }
});

test('server closes before the head completes: the request fails (no endless retries)', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-le');
      setImmediate(() => socket.destroy());
    }),
  );
  const client = new Client({ retry: false });
  try {
    await assert.rejects(client.get(server.origin), ConnectionClosedError);
    assert.equal(server.connections, 1, 'a response that began is not retried');
  } finally {
    await client.close();
    await server.close();
  }
});

test('garbage, an oversized head and a body over maxResponseBytes fail with typed errors', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, (head) => {
      const path = head.split(' ')[1];
      if (path === '/garbage') socket.write('SSH-2.0-OpenSSH_9.2\r\n\r\n');
      else if (path === '/huge-head') socket.write(`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(20_000)}\r\n\r\n`);
      else if (path === '/big')
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n${'b'.repeat(5000)}`);
      else if (path === '/chunked-big') {
        socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        for (let i = 0; i < 5; i++) socket.write(`3e8\r\n${'c'.repeat(1000)}\r\n`);
        socket.write('0\r\n\r\n');
      } else if (path === '/smuggle')
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\nabc');
    }),
  );
  const client = new Client({ retry: false, maxResponseBytes: 4096 });
  try {
    await assert.rejects(client.get(`${server.origin}/garbage`), ResponseParseError);
    await assert.rejects(client.get(`${server.origin}/huge-head`), (err: Error) => {
      assert.ok(err instanceof ResponseParseError);
      assert.equal((err.cause as { code: string }).code, 'AVX_H1_HEADER_TOO_LARGE');
      return true;
    });
    await assert.rejects(client.get(`${server.origin}/smuggle`), ResponseParseError);
    const big = await client.get(`${server.origin}/big`);
    await assert.rejects(big.text(), BodyTooLargeError);
    const chunked = await client.get(`${server.origin}/chunked-big`);
    await assert.rejects(chunked.text(), BodyTooLargeError);
  } finally {
    await client.close();
    await server.close();
  }
});

test('connection refused and DNS failure give ConnectError with the system code', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const client = new Client({ retry: false });
  try {
    await assert.rejects(client.get(`http://127.0.0.1:${port}/`), {
      code: 'AVX_CLIENT_CONNECT_FAILED',
      errno: 'ECONNREFUSED',
    });
    await assert.rejects(client.get('http://does-not-exist.invalid/'), (err: Error) => {
      assert.ok(err instanceof ConnectError);
      assert.match(err.errno, /^(ENOTFOUND|EAI_AGAIN)$/);
      return true;
    });
    // Every waiting request fails when the origin cannot be reached at all.
    const all = await Promise.allSettled(
      Array.from({ length: 20 }, () => client.get(`http://127.0.0.1:${port}/`)),
    );
    assert.ok(all.every((r) => r.status === 'rejected' && r.reason instanceof ConnectError));
    assert.equal(client.stats().connections, 0);
    assert.equal(client.stats().pending, 0);
  } finally {
    await client.close();
  }
});

test('10,000 requests with random aborts: each settles once, no socket leaks, no unhandled rejection', async () => {
  let unhandled = 0;
  const onUnhandled = () => {
    unhandled++;
  };
  process.on('unhandledRejection', onUnhandled);
  // Seeded PRNG (mulberry32), so a failure can be replayed.
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const server = await rawServer((socket) =>
    onRequestHeads(socket, (head) => {
      const kind = head.charCodeAt(5) - 0x30; // GET /<digit>
      if (kind === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else if (kind === 1)
        setImmediate(() => socket.writable && socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
      else if (kind === 2) {
        socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
        setImmediate(() => socket.writable && socket.write('0\r\n\r\n'));
      } else {
        setTimeout(
          () => socket.writable && socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
          2,
        );
      }
    }),
  );
  const client = new Client({ connections: 50, retry: false });
  const total = 10_000;
  const settled = new Uint8Array(total);
  let doubleSettled = 0;
  let ok = 0;
  let aborted = 0;
  let other = 0;
  const mark = (i: number) => {
    if (settled[i]++ !== 0) doubleSettled++;
  };
  const one = async (i: number) => {
    const controller = new AbortController();
    const r = random();
    if (r < 0.05) controller.abort();
    else if (r < 0.25) setImmediate(() => controller.abort());
    else if (r < 0.4) setTimeout(() => controller.abort(), random() * 3);
    try {
      const res = await client.get(`${server.origin}/${Math.floor(random() * 4)}`, {
        signal: controller.signal,
      });
      const text = await res.text();
      assert.ok(text === 'ok' || text === 'hello');
      ok++;
    } catch (err) {
      if (err instanceof RequestAbortedError) aborted++;
      else if (err instanceof ClientError) other++;
      else throw err;
    } finally {
      mark(i);
    }
  };
  try {
    const batch = 500;
    for (let start = 0; start < total; start += batch) {
      await Promise.all(Array.from({ length: batch }, (_, k) => one(start + k)));
    }
    assert.equal(doubleSettled, 0);
    assert.ok(
      settled.every((v) => v === 1),
      'every request settled exactly once',
    );
    assert.equal(ok + aborted + other, total);
    assert.ok(ok > 1000 && aborted > 1000, `ok ${ok}, aborted ${aborted}, other ${other}`);
    assert.equal(other, 0, 'no failure other than the aborts');
    const stats = client.stats();
    assert.equal(stats.pending, 0);
    assert.equal(stats.active, 0);
  } finally {
    await client.close();
  }
  assert.equal(client.stats().connections, 0, 'the client holds no connection after close()');
  while (server.open.size > 0) await delay(5);
  await server.close();
  await delay(10);
  assert.equal(unhandled, 0);
  process.off('unhandledRejection', onUnhandled);
  const tcp = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap');
  assert.deepEqual(tcp, [], 'no TCP handle left open');
});
