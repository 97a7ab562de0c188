/**
 * The client's HTTP/2 connection for WebSockets (RFC 8441) under pressure, on loopback:
 * `bufferedAmount` counts what HTTP/2 flow control (RFC 9113 §6.9) and the connection's socket
 * hold back from a peer that stopped reading (a node:http2 server with extended CONNECT), and a
 * WebSocket opened at the server's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2) waits for a
 * stream to close, or fails with `AVX_WS_H2_STREAM_LIMIT` after its handshake timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2, { constants, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';
import { App } from '../../src/server/app.js';
import { WebSocket } from '../../src/ws/websocket.js';
import { WsHandshakeError } from '../../src/ws/ws-errors.js';

/** A node:http2 server that accepts every extended CONNECT and hands its stream to the test unread. */
async function connectServer(
  onStream: (stream: ServerHttp2Stream) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200 });
    onStream(stream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const session of sessions) session.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until `value()` stays the same for `ms`. */
async function settled(value: () => number, ms = 100): Promise<number> {
  let last = value();
  for (;;) {
    await new Promise((r) => setTimeout(r, ms));
    const now = value();
    if (now === last) return now;
    last = now;
  }
}

const MESSAGE = 16 * 1024;
const COUNT = 64;
/** A masked client frame of MESSAGE octets: 2 + 2 (16-bit length) + 4 (mask) header octets (RFC 6455 §5.2). */
const FRAME = MESSAGE + 8;
/** Node's default HTTP/2 windows, stream and connection (RFC 9113 §6.9.2). */
const WINDOW = 65535;

test('bufferedAmount over HTTP/2 missed the octets flow control held back from a peer that stopped reading', async () => {
  let serverStream: ServerHttp2Stream | undefined;
  const server = await connectServer((stream) => {
    serverStream = stream; // not read: its window is never credited back
  });
  try {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/`, { http2: true });
    await waitFor(() => serverStream !== undefined);
    let handed = 0;
    for (let i = 0; i < COUNT; i++) {
      ws.send(Buffer.alloc(MESSAGE, i), undefined, (error) => {
        if (error == null) handed++;
      });
    }
    const total = COUNT * FRAME;
    const held = await settled(() => ws.bufferedAmount);
    // At most one window's worth can have left; everything else is still ours.
    assert.ok(held >= total - WINDOW, `bufferedAmount ${held} of ${total} sent, window ${WINDOW}`);
    assert.ok(held <= total);
    assert.ok(handed * FRAME <= WINDOW, `${handed} messages reported as handed to the OS`);

    // The peer reads: its WINDOW_UPDATEs let the rest out, and bufferedAmount returns to 0.
    let received = 0;
    serverStream!.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await waitFor(() => received === total);
    await waitFor(() => ws.bufferedAmount === 0);
    await waitFor(() => handed === COUNT);
    ws.terminate();
  } finally {
    await server.close();
  }
});

test('bufferedAmount over HTTP/2 missed the octets waiting in the connection socket', async () => {
  let received = 0;
  const server = await connectServer((stream) => {
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
  });
  try {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/`, { http2: true });
    // The connection's socket as the operating system not taking more would leave it: nothing
    // written to it reaches the OS until uncorked.
    const socket = (ws as unknown as { socket: { host: { socket: Socket } } }).socket.host.socket;
    socket.cork();
    const message = Buffer.alloc(1024, 0x61);
    const frame = message.length + 8;
    for (let i = 0; i < 16; i++) ws.send(message);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(socket.writableLength >= 16 * frame, 'the frames wait in the socket');
    assert.equal(ws.bufferedAmount, 16 * frame);
    socket.uncork();
    await waitFor(() => received === 16 * frame);
    await waitFor(() => ws.bufferedAmount === 0);
    ws.terminate();
  } finally {
    await server.close();
  }
});

/** An app whose HTTP/2 connections allow `limit` concurrent streams, with an echo route. */
async function limitedServer(limit: number) {
  const ports: number[] = [];
  const app = new App();
  app.ws('/echo', (ws, req) => {
    ports.push(req.remotePort);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const server = await app.listen({ port: 0, http2: { maxConcurrentStreams: limit } });
  return { server, ports, url: `ws://127.0.0.1:${server.port}/echo` };
}

test('connecting over HTTP/2 at SETTINGS_MAX_CONCURRENT_STREAMS failed instead of waiting for a stream', async () => {
  const { server, ports, url } = await limitedServer(2);
  try {
    const first = await WebSocket.connect(url, { http2: true });
    const second = await WebSocket.connect(url, { http2: true });
    let third: WebSocket | undefined;
    const connecting = WebSocket.connect(url, { http2: true }).then((ws) => {
      third = ws;
      return ws;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(third, undefined, 'the third WebSocket waits while both streams are in use');
    assert.equal(ports.length, 2);
    first.close(1000);
    const ws = await connecting;
    assert.deepEqual(new Set(ports).size, 1, 'all three on one HTTP/2 connection');
    const reply = once(ws, 'message');
    ws.send('third');
    assert.equal(String((await reply)[0]), 'third');
    second.close(1000);
    ws.close(1000);
    await Promise.all([once(second, 'close'), once(ws, 'close')]);
  } finally {
    await server.destroy();
  }
});

test('at SETTINGS_MAX_CONCURRENT_STREAMS with no stream closing, the handshake timeout fails with AVX_WS_H2_STREAM_LIMIT', async () => {
  const { server, url } = await limitedServer(1);
  try {
    const first = await WebSocket.connect(url, { http2: true });
    const started = Date.now();
    await assert.rejects(
      WebSocket.connect(url, { http2: true, handshakeTimeout: 150 }),
      (err: unknown) =>
        err instanceof WsHandshakeError &&
        err.code === 'AVX_WS_H2_STREAM_LIMIT' &&
        /SETTINGS_MAX_CONCURRENT_STREAMS/.test(err.message),
    );
    assert.ok(Date.now() - started >= 100, 'it waited for the timeout');
    // The connection is unharmed: the first WebSocket works, and a slot freed is used.
    const reply = once(first, 'message');
    first.send('still here');
    assert.equal(String((await reply)[0]), 'still here');
    first.close(1000);
    await once(first, 'close');
    const next = await WebSocket.connect(url, { http2: true, handshakeTimeout: 2000 });
    next.close(1000);
    await once(next, 'close');
  } finally {
    await server.destroy();
  }
});

test('a WebSocket waiting for a stream slot goes on a new connection when the full one gets GOAWAY', async () => {
  const sessions: http2.ServerHttp2Session[] = [];
  const streams: ServerHttp2Stream[] = [];
  const server = http2.createServer({ settings: { enableConnectProtocol: true, maxConcurrentStreams: 1 } });
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200 });
    streams.push(stream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const first = await WebSocket.connect(url, { http2: true });
    let second: WebSocket | undefined;
    const connecting = WebSocket.connect(url, { http2: true, handshakeTimeout: 3000 }).then((ws) => {
      second = ws;
      return ws;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(second, undefined, 'it waits: the only stream is in use');
    assert.equal(sessions.length, 1);
    // RFC 9113 §6.8: the first connection takes no new streams, its stream goes on.
    sessions[0]!.goaway(constants.NGHTTP2_NO_ERROR, streams[0]!.id);
    const ws = await connecting;
    assert.equal(sessions.length, 2, 'a second connection');
    assert.equal(streams.length, 2);
    assert.equal(streams[1]!.session, sessions[1]);
    assert.equal(first.readyState, WebSocket.OPEN);
    first.terminate();
    ws.terminate();
  } finally {
    for (const session of sessions) session.destroy();
    server.close();
    await once(server, 'close');
  }
});

test('a server WebSocket over HTTP/2: bufferedAmount missed the octets waiting in the connection socket', async () => {
  const app = new App();
  let serverWs: WebSocket | undefined;
  app.ws('/push', (ws) => {
    serverWs = ws;
  });
  const server = await app.listen({ port: 0 });
  try {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/push`, { http2: true });
    let received = 0;
    ws.on('message', (data: Buffer) => {
      received += data.length;
    });
    await waitFor(() => serverWs !== undefined);
    const sender = serverWs!;
    // The server connection's socket, corked: nothing written to it reaches the OS.
    const socket = (sender as unknown as { socket: { host: { socket: Socket } } }).socket.host.socket;
    socket.cork();
    const message = Buffer.alloc(1024, 0x62);
    const frame = message.length + 4; // unmasked, 16-bit length
    for (let i = 0; i < 16; i++) sender.send(message);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(socket.writableLength >= 16 * frame, 'the frames wait in the socket');
    assert.equal(sender.bufferedAmount, 16 * frame);
    socket.uncork();
    await waitFor(() => received === 16 * message.length);
    await waitFor(() => sender.bufferedAmount === 0);
    ws.terminate();
  } finally {
    await server.destroy();
  }
});
