/**
 * WebSocket end to end over loopback, our client against our server (app.ws): the API
 * contract, the server handshake's checks and refusals (RFC 6455 §4.2), the client's checks of
 * the server's answer (§4.1), subprotocols, the Origin hook, close handshakes both ways,
 * protocol errors on the wire, backpressure, heartbeat dead-peer detection, broadcast, graceful
 * shutdown (1001), wss, and abort.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { App } from '../../src/server/app.js';
import type { Server } from '../../src/server/server.js';
import { WebSocket } from '../../src/ws/websocket.js';
import { broadcast } from '../../src/ws/ws-broadcast.js';
import { WsHandshakeError, WsHeartbeatTimeoutError } from '../../src/ws/ws-errors.js';
import { wsAcceptValue } from '../../src/ws/ws-handshake.js';
import { rawExchange } from '../server/server-test-kit.js';
import { testCertificate } from '../tls-certificate.js';
import { closePayload, frame, readFrames } from './ws-test-frames.js';

function echoApp(): App {
  const app = new App();
  app.ws('/echo', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return app;
}

async function withServer(app: App, body: (server: Server) => Promise<void>): Promise<void> {
  const server = await app.listen({ port: 0 });
  try {
    await body(server);
  } finally {
    await server.destroy();
  }
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
function upgradeRequest(path: string, extra = '', key = KEY, version = '13'): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n${extra}\r\n`;
}

test('the API contract: echo through app.ws and WebSocket.connect, iterated with for await', async () => {
  await withServer(echoApp(), async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.send('hi');
    ws.send(Buffer.from([1, 2, 3]));
    ws.send('κόσμε', { binary: true });
    const got: string[] = [];
    for await (const msg of ws) {
      got.push(
        `${msg.isBinary ? 'b' : 't'}:${msg.isBinary ? msg.data.toString('hex') : msg.data.toString()}`,
      );
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ['t:hi', 'b:010203', `b:${Buffer.from('κόσμε').toString('hex')}`]);
    const closed = once(ws, 'close');
    ws.close(1000, 'done');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.deepEqual(await closed, [1000, '']);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });
});

test('RFC 6455 §1.3 sample accept value', () => {
  assert.equal(wsAcceptValue('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('the server answers a valid handshake with exactly the 101 of RFC 6455 §4.2.2', async () => {
  await withServer(echoApp(), async (server) => {
    const raw = await rawExchange(server.port, upgradeRequest('/echo'), 300);
    assert.match(
      raw,
      /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n\r\n$/,
    );
  });
});

test('the server refuses bad handshakes with the status RFC 6455 §4.2 asks for', async () => {
  const app = echoApp();
  app.get('/plain', () => 'plain');
  await withServer(app, async (server) => {
    const status = async (request: string) => Number((await rawExchange(server.port, request)).slice(9, 12));
    assert.equal(await status(upgradeRequest('/nowhere')), 404);
    assert.equal(await status(upgradeRequest('/echo', '', 'short')), 400);
    assert.equal(
      await status(upgradeRequest('/echo', '', 'dGhlIHNhbXBsZSBub25jZR==')),
      400,
      'stray bits in the key',
    );
    assert.equal(await status(upgradeRequest('/echo').replace(/Sec-WebSocket-Key: .*\r\n/, '')), 400);
    // Without `Connection: Upgrade` the request is plain HTTP (RFC 9110 §7.8): no GET route here.
    assert.equal(
      await status(upgradeRequest('/echo').replace('Connection: Upgrade', 'Connection: keep-alive')),
      404,
    );
    assert.equal(await status(upgradeRequest('/echo', 'Sec-WebSocket-Protocol: a, a\r\n')), 400);
    assert.equal(await status(upgradeRequest('/echo').replace('GET', 'POST')), 405);
    const wrongVersion = await rawExchange(server.port, upgradeRequest('/echo', '', KEY, '8'));
    assert.match(wrongVersion, /^HTTP\/1\.1 426 /);
    assert.match(wrongVersion, /\r\nsec-websocket-version: 13\r\n/i);
    // Ordinary requests are not affected.
    assert.match(
      await rawExchange(server.port, 'GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      /200 OK[\s\S]*plain$/,
    );
  });
});

test('subprotocols: the server picks its first supported offer; none when nothing matches', async () => {
  const app = new App();
  app.ws('/chat', (ws) => ws.send(ws.protocol), { protocols: ['v2.chat', 'v1.chat'] });
  app.ws('/pick', (ws) => ws.send(ws.protocol), { protocols: (offered) => offered.at(-1) });
  await withServer(app, async (server) => {
    const first = async (ws: WebSocket) => {
      for await (const m of ws) return m.data.toString();
      return '';
    };
    const a = await WebSocket.connect(`ws://127.0.0.1:${server.port}/chat`, {
      protocols: ['v1.chat', 'v2.chat'],
    });
    assert.equal(a.protocol, 'v2.chat');
    assert.equal(await first(a), 'v2.chat');
    a.terminate();
    const b = await WebSocket.connect(`ws://127.0.0.1:${server.port}/chat`, { protocols: 'other' });
    assert.equal(b.protocol, '');
    b.terminate();
    const c = await WebSocket.connect(`ws://127.0.0.1:${server.port}/pick`, { protocols: ['x', 'y'] });
    assert.equal(c.protocol, 'y');
    c.terminate();
  });
});

test('the Origin hook refuses with 403, synchronously or asynchronously', async () => {
  const app = new App();
  app.ws('/sync', (ws) => ws.send('ok'), { checkOrigin: (origin) => origin === 'https://good.example' });
  app.ws('/async', (ws) => ws.send('ok'), {
    checkOrigin: async (origin) => {
      await new Promise((r) => setImmediate(r));
      return origin === 'https://good.example';
    },
  });
  await withServer(app, async (server) => {
    for (const path of ['/sync', '/async']) {
      await assert.rejects(
        WebSocket.connect(`ws://127.0.0.1:${server.port}${path}`, { origin: 'https://evil.example' }),
        (e) => e instanceof WsHandshakeError && e.status === 403 && e.code === 'AVX_WS_UNEXPECTED_STATUS',
      );
      const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}${path}`, {
        origin: 'https://good.example',
      });
      for await (const m of ws) {
        assert.equal(m.data.toString(), 'ok');
        break;
      }
      ws.terminate();
    }
  });
});

/** A fake server that answers every handshake with `respond(key)`. */
async function fakeServer(respond: (key: string) => string): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let text = '';
    socket.on('data', (d) => {
      if (text.includes('\r\n\r\n')) return; // answered already: ignore what follows
      text += d.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: (.*)\r\n/i.exec(text)?.[1] ?? '';
      const answer = respond(key);
      if (answer !== '') socket.write(answer, 'latin1');
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('the client checks the 101: accept value, subprotocol, extensions, status (RFC 6455 §4.1)', async () => {
  const head = (key: string, extra = '') =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAcceptValue(key)}\r\n${extra}\r\n`;
  const cases: [string, (key: string) => string, string, object?][] = [
    ['wrong accept', () => head(KEY), 'AVX_WS_BAD_ACCEPT'],
    ['no Upgrade', (k) => head(k).replace('Upgrade: websocket\r\n', ''), 'AVX_WS_BAD_UPGRADE'],
    ['no Connection', (k) => head(k).replace('Connection: Upgrade\r\n', ''), 'AVX_WS_BAD_UPGRADE'],
    ['unoffered subprotocol', (k) => head(k, 'Sec-WebSocket-Protocol: chat\r\n'), 'AVX_WS_BAD_PROTOCOL'],
    ['unoffered extension', (k) => head(k, 'Sec-WebSocket-Extensions: x-foo\r\n'), 'AVX_WS_BAD_EXTENSIONS'],
    [
      'deflate not offered',
      (k) => head(k, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'),
      'AVX_WS_BAD_EXTENSIONS',
      { perMessageDeflate: false },
    ],
    [
      'bad deflate parameter',
      (k) => head(k, 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n'),
      'AVX_WS_BAD_EXTENSIONS',
    ],
    [
      '200 instead of 101',
      () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno',
      'AVX_WS_UNEXPECTED_STATUS',
    ],
    ['closed during the handshake', () => 'HTTP/1.1 101 Switching', 'AVX_WS_HANDSHAKE_FAILED'],
  ];
  for (const [name, respond, code, options] of cases) {
    const fake = await fakeServer((key) => respond(key));
    try {
      const attempt = WebSocket.connect(`ws://127.0.0.1:${fake.port}/`, {
        handshakeTimeout: 2000,
        ...options,
      });
      if (name === 'closed during the handshake') setTimeout(() => fake.close(), 50);
      await assert.rejects(attempt, (e) => e instanceof WsHandshakeError && e.code === code, name);
    } finally {
      fake.close();
    }
  }
});

test('an abort signal and the handshake timeout end a handshake that never completes', async () => {
  const fake = await fakeServer(() => '');
  try {
    const controller = new AbortController();
    const attempt = WebSocket.connect(`ws://127.0.0.1:${fake.port}/`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(attempt, (e) => e instanceof WsHandshakeError && e.code === 'AVX_WS_ABORTED');
    await assert.rejects(
      WebSocket.connect(`ws://127.0.0.1:${fake.port}/`, { handshakeTimeout: 50 }),
      (e) => e instanceof WsHandshakeError && e.code === 'AVX_WS_HANDSHAKE_TIMEOUT',
    );
    await assert.rejects(
      WebSocket.connect('ws://127.0.0.1:1/#frag'),
      (e) => e instanceof WsHandshakeError && e.code === 'AVX_WS_BAD_URL',
    );
    await assert.rejects(
      WebSocket.connect('ftp://127.0.0.1/'),
      (e) => e instanceof WsHandshakeError && e.code === 'AVX_WS_BAD_URL',
    );
  } finally {
    fake.close();
  }
});

test('a protocol error on the wire: the server sends Close 1002 and closes TCP first', async () => {
  let serverSide: WebSocket | undefined;
  const app = new App();
  app.ws('/x', (ws) => {
    serverSide = ws;
  });
  await withServer(app, async (server) => {
    // The request and an unmasked (forbidden) frame in one packet: `head` carries the frame.
    const raw = await rawExchange(server.port, [
      upgradeRequest('/x') + frame({ opcode: 1, payload: 'x', mask: false }).toString('latin1'),
    ]);
    const body = Buffer.from(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'latin1');
    const frames = readFrames(body, 'server');
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, 0x8);
    assert.equal(frames[0].payload.readUInt16BE(0), 1002);
    assert.equal(serverSide?.closeCode, 1002);
  });
});

test('the close handshake from either side: codes, reasons and close events on both ends', async () => {
  const serverEvents: unknown[] = [];
  let serverSide!: WebSocket;
  let serverClosed: () => void = () => {};
  const nextServerClose = () =>
    new Promise<void>((r) => {
      serverClosed = r;
    });
  const app = new App();
  app.ws('/x', (ws) => {
    serverSide = ws;
    ws.on('close', (code, reason) => {
      serverEvents.push([code, reason]);
      serverClosed();
    });
    ws.on('message', (data) => {
      if (data.toString() === 'close me') ws.close(4001, 'as you wish');
    });
  });
  await withServer(app, async (server) => {
    const a = await WebSocket.connect(`ws://127.0.0.1:${server.port}/x`);
    const aClosed = once(a, 'close');
    const serverA = nextServerClose();
    a.close(4000, 'client says bye');
    assert.deepEqual(await aClosed, [4000, '']);
    await serverA;
    assert.deepEqual(serverEvents.shift(), [4000, 'client says bye']);

    const b = await WebSocket.connect(`ws://127.0.0.1:${server.port}/x`);
    const bClosed = once(b, 'close');
    b.send('close me');
    assert.deepEqual(await bClosed, [4001, 'as you wish']);
    assert.equal(serverSide.closeCode, 4001);
  });
});

test('a 16 MiB message and a fragmented-by-size stream arrive intact', async () => {
  await withServer(echoApp(), async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`);
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    ws.send(big);
    for await (const m of ws) {
      assert.equal(m.data.length, big.length);
      assert.ok(m.data.equals(big));
      break;
    }
    ws.terminate();
  });
});

test('backpressure: send() waits for the socket to drain while the peer does not read', async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let received = 0;
  const app = new App();
  app.ws(
    '/slow',
    async (ws) => {
      const it = ws[Symbol.asyncIterator]();
      await released;
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        received++;
        if (r.value.data.toString('latin1', 0, 4) === 'last') ws.send('done');
      }
    },
    { iteratorQueueLimit: 2 },
  );
  await withServer(app, async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/slow`, { highWaterMark: 256 * 1024 });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let pending: Promise<void> | undefined;
    let settled = false;
    while (sent < 2000) {
      const p = ws.send(chunk);
      sent++;
      if (ws.bufferedAmount >= 256 * 1024) {
        pending = p;
        p.then(() => {
          settled = true;
        });
        break;
      }
      await p;
    }
    assert.ok(pending !== undefined, 'the peer stopped reading, so the buffer filled');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'send() keeps waiting while nothing drains');
    const done = once(ws, 'message');
    release();
    await pending;
    ws.send('last');
    sent++;
    assert.equal((await done)[0].toString(), 'done');
    assert.equal(received, sent);
    ws.terminate();
  });
});

test('heartbeat: a silent peer is detected and the connection destroyed (1006)', async () => {
  // A server that completes the handshake and then never answers anything.
  const fake = await fakeServer(
    (key) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAcceptValue(key)}\r\n\r\n`,
  );
  try {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${fake.port}/`, { heartbeatInterval: 40 });
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    const code = await new Promise((r) => ws.on('close', r));
    assert.equal(code, 1006);
    assert.ok(errors[0] instanceof WsHeartbeatTimeoutError);
  } finally {
    fake.close();
  }
});

test('heartbeat: a live peer answers pings and stays connected', async () => {
  let pings = 0;
  const app = new App();
  app.ws('/x', (ws) => ws.on('ping', () => pings++));
  await withServer(app, async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/x`, { heartbeatInterval: 20 });
    for (let i = 0; i < 200 && pings < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pings >= 3, `three heartbeats arrived (${pings})`);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
  });
});

test('broadcast sends one encoding to every open connection and skips closed ones', async () => {
  const clients = new Set<WebSocket>();
  const app = new App();
  app.ws('/room/:name', (ws, req) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.send(`joined ${req.params.name}`);
  });
  await withServer(app, async (server) => {
    const peers = await Promise.all(
      [1, 2, 3].map((i) => WebSocket.connect(`ws://127.0.0.1:${server.port}/room/r${i}`)),
    );
    const iterators = peers.map((p) => p[Symbol.asyncIterator]());
    for (const [i, it] of iterators.entries())
      assert.equal((await it.next()).value?.data.toString(), `joined r${i + 1}`);
    assert.equal(broadcast(clients, 'hello all'), 3);
    for (const it of iterators) assert.equal((await it.next()).value?.data.toString(), 'hello all');
    const gone = once(peers[0], 'close');
    peers[0].close(1000);
    await gone;
    for (let i = 0; i < 100 && clients.size > 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(broadcast(clients, Buffer.from([9])), 2);
    for (const it of iterators.slice(1)) assert.deepEqual((await it.next()).value?.data, Buffer.from([9]));
    for (const p of peers) p.terminate();
  });
});

test('graceful server shutdown closes WebSockets with 1001; a throwing handler closes with 1011', async () => {
  const app = new App();
  app.ws('/x', () => {});
  app.ws('/throws', () => {
    throw new Error('handler bug');
  });
  const server = await app.listen({ port: 0 });
  try {
    const bad = await WebSocket.connect(`ws://127.0.0.1:${server.port}/throws`);
    assert.equal((await once(bad, 'close'))[0], 1011);
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/x`);
    const closed = once(ws, 'close');
    await server.close();
    assert.deepEqual(await closed, [1001, 'server shutting down']);
  } finally {
    await server.destroy();
  }
});

test('the iterator throws the error that failed the connection', async () => {
  const fake = await fakeServer(
    (key) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAcceptValue(key)}\r\n\r\n` +
      frame({ opcode: 1, payload: 'fine', mask: false }).toString('latin1') +
      frame({ opcode: 1, payload: Buffer.from('c0af', 'hex'), mask: false }).toString('latin1'),
  );
  try {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${fake.port}/`);
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of ws) got.push(m.data.toString());
      })(),
      (e: Error & { closeCode?: number }) => e.closeCode === 1007,
    );
    assert.deepEqual(got, ['fine']);
    assert.equal(ws.closeCode, 1007);
  } finally {
    fake.close();
  }
});

test('wss: TLS with the same API', async () => {
  const { cert, key } = testCertificate();
  const app = echoApp();
  const server = await app.listen({ port: 0, tls: { cert, key } });
  try {
    const ws = await WebSocket.connect(`wss://localhost:${server.port}/echo`, { tls: { ca: cert } });
    ws.send('over tls');
    for await (const m of ws) {
      assert.equal(m.data.toString(), 'over tls');
      break;
    }
    ws.close(1000);
    assert.equal((await once(ws, 'close'))[0], 1000);
    await assert.rejects(WebSocket.connect(`wss://localhost:${server.port}/echo`), WsHandshakeError);
  } finally {
    await server.destroy();
  }
});

test('permessage-deflate between our client and our server, negotiated both ways', async () => {
  const app = new App();
  app.ws('/z', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })), {
    perMessageDeflate: { serverMaxWindowBits: 12, clientNoContextTakeover: true, threshold: 16 },
  });
  await withServer(app, async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/z`, {
      perMessageDeflate: { clientMaxWindowBits: 11 },
    });
    assert.equal(
      ws.extensions,
      'permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
    );
    const payloads = ['{"a":1}'.repeat(1000), 'tiny', Buffer.alloc(100000, 3)];
    for (const p of payloads) ws.send(p);
    const got: (string | number)[] = [];
    for await (const m of ws) {
      got.push(m.isBinary ? m.data.length : m.data.toString());
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ['{"a":1}'.repeat(1000), 'tiny', 100000]);
    ws.terminate();
  });
});

test('close frames we send carry the code and reason given', async () => {
  const fake = await fakeServer(
    (key) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAcceptValue(key)}\r\n\r\n`,
  );
  try {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${fake.port}/`, { closeTimeout: 50 });
    ws.close(3001, 'reason');
    // The fake never answers: the close timeout destroys the socket; no Close came, so 1006.
    assert.equal((await once(ws, 'close'))[0], 1006);
    assert.deepEqual(closePayload(3001, 'reason').readUInt16BE(0), 3001);
  } finally {
    fake.close();
  }
});
