/**
 * Tests of the client's timeouts (connect, response head, body idle, total) and of AbortSignal
 * cancellation at every stage: each fails with its own typed error, and the connection involved
 * is closed rather than reused mid-message. Servers stall on purpose; the timeouts are short so
 * the suite stays fast, and nothing asserts how long anything took.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import test from 'node:test';
import { Client } from '../../src/client/client.js';
import {
  BodyTimeoutError,
  ConnectTimeoutError,
  HeadersTimeoutError,
  RequestAbortedError,
  RequestTimeoutError,
} from '../../src/client/client-errors.js';
import { onRequestHeads, rawServer } from './client-test-servers.js';

test('headersTimeout: no response head', async () => {
  const server = await rawServer(() => {});
  const client = new Client({ headersTimeout: 40, retry: false });
  try {
    await assert.rejects(client.get(server.origin), HeadersTimeoutError);
    assert.equal(client.stats().connections, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('bodyTimeout: the body stalls after the head', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')),
  );
  const client = new Client({ bodyTimeout: 40, retry: false });
  try {
    const res = await client.get(server.origin);
    await assert.rejects(res.text(), BodyTimeoutError);
  } finally {
    await client.close();
    await server.close();
  }
});

test('total timeout covers the body too; per-request timeout object', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')),
  );
  const client = new Client({ retry: false });
  try {
    const res = await client.get(server.origin, { timeout: 50 });
    await assert.rejects(res.text(), RequestTimeoutError);
    const res2 = await client.get(`${server.origin}/b`, { timeout: { body: 30 } });
    await assert.rejects(res2.text(), BodyTimeoutError);
  } finally {
    await client.close();
    await server.close();
  }
});

test('connectTimeout: a TLS handshake that never completes', async () => {
  const sockets: net.Socket[] = [];
  const server = await rawServer((socket) => sockets.push(socket)); // accepts TCP, never speaks TLS
  const client = new Client({ connectTimeout: 50, retry: false });
  try {
    await assert.rejects(client.get(`https://127.0.0.1:${server.port}/`), ConnectTimeoutError);
    assert.equal(client.stats().connections, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('AbortSignal: before sending, while waiting for the head, while queued, while reading the body', async () => {
  const server = await rawServer((socket) =>
    onRequestHeads(socket, (head) => {
      if (head.startsWith('GET /body')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    }),
  );
  const client = new Client({ connections: 1, retry: false });
  try {
    await assert.rejects(client.get(server.origin, { signal: AbortSignal.abort() }), RequestAbortedError);

    const c1 = new AbortController();
    const waiting = client.get(`${server.origin}/stall`, { signal: c1.signal });
    const c2 = new AbortController();
    const queued = client.get(`${server.origin}/stall`, { signal: c2.signal });
    while (server.connections === 0 || client.stats().connecting > 0)
      await new Promise((r) => setImmediate(r));
    c2.abort(new Error('queued abort'));
    await assert.rejects(
      queued,
      (err: Error) => err instanceof RequestAbortedError && (err.cause as Error).message === 'queued abort',
    );
    assert.equal(client.stats().pending, 0);
    c1.abort();
    await assert.rejects(waiting, RequestAbortedError);

    const c3 = new AbortController();
    const res = await client.get(`${server.origin}/body`, { signal: c3.signal });
    const reading = res.text();
    c3.abort();
    await assert.rejects(reading, RequestAbortedError);
    while (client.stats().connections > 0) await new Promise((r) => setImmediate(r));
  } finally {
    await client.close();
    await server.close();
  }
});
