/**
 * WebSocket over HTTP/2 (RFC 8441) end to end on loopback: the same `app.ws` routes reached
 * by extended CONNECT. Peers: node:http2 as a raw HTTP/2 client (frames built with the test
 * codec), our own `WebSocket.connect({ http2: true })` over h2c and over TLS, and the `ws`
 * package behind an HTTP/1.1-only TLS server for the ALPN fallback. Covers the SETTINGS
 * announcement, the handshake and its refusals, multiplexing next to ordinary requests,
 * permessage-deflate, 4 MiB messages through flow control, backpressure, close handshakes,
 * stream resets (1006 for that WebSocket only), connection loss, and graceful shutdown.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type ClientHttp2Session, type ClientHttp2Stream, constants, connect as h2connect } from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { H2FrameType } from '../../src/h2/h2-frame-types.js';
import { App } from '../../src/server/app.js';
import type { ListenOptions, Server } from '../../src/server/server.js';
import { WebSocket } from '../../src/ws/websocket.js';
import { WsHandshakeError, WsStreamResetError } from '../../src/ws/ws-errors.js';
import { FrameLog, ScriptedPeer } from '../h2/h2-test-peer.js';
import { testCertificate } from '../tls-certificate.js';
import { closePayload, frame, readFrames, type SeenFrame } from './ws-test-frames.js';

/** An app with echo routes, recording what the server side saw. */
function echoApp(seen: { protocol: string; port: number; close?: [number, string] }[] = []): App {
  const app = new App();
  const echo = (ws: WebSocket, req: import('../../src/server/request.js').Request) => {
    const record: { protocol: string; port: number; close?: [number, string] } = {
      protocol: req.protocol,
      port: req.remotePort,
    };
    seen.push(record);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code, reason) => {
      record.close = [code, reason];
    });
  };
  app.ws('/echo', echo);
  app.ws('/chat', echo, { protocols: ['superchat', 'chat'] });
  app.ws('/zip', echo, { perMessageDeflate: true });
  app.get('/', (req) => `hello ${req.protocol}`);
  return app;
}

async function withServer(
  app: App,
  body: (server: Server) => Promise<void>,
  options: ListenOptions = {},
): Promise<void> {
  const server = await app.listen({ port: 0, ...options });
  try {
    await body(server);
  } finally {
    await server.destroy();
  }
}

/** A node:http2 session once the server's SETTINGS arrived. */
async function h2session(url: string, options = {}): Promise<ClientHttp2Session> {
  const session = h2connect(url, options);
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

/** A raw WebSocket over one node:http2 stream: our test codec builds and reads the frames. */
class RawTunnel {
  readonly stream: ClientHttp2Stream;
  status = 0;
  headers: Record<string, unknown> = {};
  ended = false;
  private bytes = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  constructor(stream: ClientHttp2Stream) {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('close', () => this.wake());
    stream.on('error', () => {});
  }

  static async open(
    session: ClientHttp2Session,
    path: string,
    extra: Record<string, string> = {},
  ): Promise<RawTunnel> {
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'http',
        ':path': path,
        ':authority': 'localhost',
        'sec-websocket-version': '13',
        ...extra,
      },
      { endStream: false },
    );
    const tunnel = new RawTunnel(stream);
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    tunnel.headers = headers;
    tunnel.status = Number(headers[':status']);
    return tunnel;
  }

  send(spec: Parameters<typeof frame>[0]): void {
    this.stream.write(frame(spec));
  }

  /** The server's frames so far. */
  get frames(): SeenFrame[] {
    return readFrames(this.bytes, 'server');
  }

  /** Waits until `n` frames arrived (or the stream ended). */
  async waitFrames(n: number): Promise<SeenFrame[]> {
    while (this.frames.length < n && !this.ended && !this.stream.closed) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.frames;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

test('the server announces SETTINGS_ENABLE_CONNECT_PROTOCOL when the app has WebSocket routes (RFC 8441 §3)', async () => {
  await withServer(echoApp(), async (server) => {
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
    session.close();
  });
  const plain = new App();
  plain.get('/', () => 'no websockets');
  await withServer(plain, async (server) => {
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    assert.equal(session.remoteSettings.enableConnectProtocol, false);
    session.close();
  });
  // Configurable: off even with routes.
  await withServer(
    echoApp(),
    async (server) => {
      const session = await h2session(`http://127.0.0.1:${server.port}`);
      assert.equal(session.remoteSettings.enableConnectProtocol, false);
      session.close();
    },
    { http2: { enableConnectProtocol: false } },
  );
});

test('a server that did not announce the setting resets a :protocol request with PROTOCOL_ERROR; the connection goes on', async () => {
  const plain = new App();
  plain.get('/', () => 'still fine');
  await withServer(plain, async (server) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const log = new FrameLog();
    socket.on('data', (chunk: Buffer) => log.feed([chunk]));
    const peer = new ScriptedPeer().preface();
    peer.writer.settingsAck();
    peer.writer.headers(
      1,
      peer.encoder.encode([
        ':method',
        'CONNECT',
        ':protocol',
        'websocket',
        ':scheme',
        'http',
        ':path',
        '/echo',
        ':authority',
        'localhost',
        'sec-websocket-version',
        '13',
      ]),
      false,
      16384,
    );
    peer.request(3, '/');
    socket.write(peer.bytes());
    await waitFor(() => log.ofType(H2FrameType.DATA).some((f) => f.streamId === 3));
    const rst = log.ofType(H2FrameType.RST_STREAM);
    assert.deepEqual(
      rst.map((f) => [f.streamId, f.payload.readUInt32BE(0)]),
      [[1, constants.NGHTTP2_PROTOCOL_ERROR]],
    );
    assert.equal(log.ofType(H2FrameType.GOAWAY).length, 0);
    const body = Buffer.concat(log.ofType(H2FrameType.DATA).map((f) => f.payload)).toString();
    assert.equal(body, 'still fine');
    socket.destroy();
  });
});

test('node:http2 speaks RFC 8441 to app.ws: 200 without Sec-WebSocket-Accept, echo, close handshake, END_STREAM then RST_STREAM NO_ERROR', async () => {
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  await withServer(echoApp(seen), async (server) => {
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    const ws = await RawTunnel.open(session, '/chat?x=1', { 'sec-websocket-protocol': 'chat, superchat' });
    assert.equal(ws.status, 200);
    assert.equal(ws.headers['sec-websocket-protocol'], 'superchat');
    assert.equal(ws.headers['sec-websocket-accept'], undefined);
    ws.send({ opcode: 0x1, payload: 'hello over h2' });
    ws.send({ opcode: 0x2, payload: Buffer.from([1, 2, 3]) });
    ws.send({ opcode: 0x1, payload: 'frag', fin: false });
    ws.send({ opcode: 0x0, payload: 'mented' });
    const frames = await ws.waitFrames(3);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.toString('latin1')]),
      [
        [0x1, 'hello over h2'],
        [0x2, '\x01\x02\x03'],
        [0x1, 'fragmented'],
      ],
    );
    // The close handshake, then the server ends the stream (RFC 8441 §6: END_STREAM as FIN).
    ws.send({ opcode: 0x8, payload: closePayload(4000, 'bye') });
    const after = await ws.waitFrames(4);
    assert.equal(after[3]!.opcode, 0x8);
    assert.equal(after[3]!.payload.readUInt16BE(0), 4000);
    // We keep our side open, as browsers do: the server's END_STREAM is followed by RST_STREAM
    // NO_ERROR (RFC 9113 §8.1), not by a wait for its closeTimeout.
    const started = Date.now();
    await once(ws.stream, 'close');
    assert.equal(ws.ended, true);
    assert.equal(ws.stream.rstCode, constants.NGHTTP2_NO_ERROR);
    assert.ok(Date.now() - started < 2000);
    await waitFor(() => seen[0]?.close !== undefined);
    assert.equal(seen[0]!.protocol, 'h2');
    assert.deepEqual(seen[0]!.close, [4000, 'bye']);
    session.close();
  });
});

test('refusals: a wrong version gets 400 with sec-websocket-version 13; an unknown path 404; a refused Origin 403', async () => {
  const app = echoApp();
  app.ws('/guarded', () => {}, { checkOrigin: async (origin) => origin === 'https://good.example' });
  await withServer(app, async (server) => {
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    const bad = await RawTunnel.open(session, '/echo', { 'sec-websocket-version': '8' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['sec-websocket-version'], '13');
    const missing = await RawTunnel.open(session, '/nowhere');
    assert.equal(missing.status, 404);
    const refused = await RawTunnel.open(session, '/guarded', { origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    const allowed = await RawTunnel.open(session, '/guarded', { origin: 'https://good.example' });
    assert.equal(allowed.status, 200);
    // The connection is still fine for an ordinary request.
    const get = session.request({ ':path': '/' });
    let body = '';
    get.on('data', (c: Buffer) => {
      body += c.toString();
    });
    await once(get, 'end');
    assert.equal(body, 'hello h2');
    session.close();
  });
});

test('our client: WebSocket.connect(ws://, { http2: true }) over h2c, same API and close codes', async () => {
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  await withServer(echoApp(seen), async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/chat`, {
      http2: true,
      protocols: ['chat'],
    });
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(ws.protocol, 'chat');
    assert.equal(ws.url, `ws://127.0.0.1:${server.port}/chat`);
    ws.send('hi');
    ws.send(Buffer.from([9, 8, 7]));
    const got: string[] = [];
    for await (const m of ws) {
      got.push(m.isBinary ? m.data.toString('hex') : m.data.toString());
      if (got.length === 2) break;
    }
    assert.deepEqual(got, ['hi', '090807']);
    assert.equal(seen[0]!.protocol, 'h2');
    const closed = once(ws, 'close');
    ws.close(1000, 'done');
    assert.deepEqual(await closed, [1000, '']);
    await waitFor(() => seen[0]!.close !== undefined);
    assert.deepEqual(seen[0]!.close, [1000, 'done']);
  });
});

test('our client over TLS: wss:// negotiates h2 by ALPN and uses extended CONNECT', async () => {
  const { cert, key } = testCertificate();
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  await withServer(
    echoApp(seen),
    async (server) => {
      const ws = await WebSocket.connect(`wss://localhost:${server.port}/echo`, {
        http2: true,
        tls: { ca: cert },
      });
      ws.send('over h2 and tls');
      for await (const m of ws) {
        assert.equal(m.data.toString(), 'over h2 and tls');
        break;
      }
      assert.equal(seen[0]!.protocol, 'h2');
      ws.close(1000);
      assert.equal((await once(ws, 'close'))[0], 1000);
      // The certificate is still checked.
      await assert.rejects(
        WebSocket.connect(`wss://localhost:${server.port}/echo`, { http2: true }),
        WsHandshakeError,
      );
    },
    { tls: { cert, key } },
  );
});

test('several WebSockets share one HTTP/2 connection, next to ordinary requests on it', async () => {
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  await withServer(echoApp(seen), async (server) => {
    // Our client: three WebSockets, one connection (one client port on the server side).
    const sockets = await Promise.all(
      [1, 2, 3].map(() => WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, { http2: true })),
    );
    const later = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, { http2: true });
    sockets.push(later);
    assert.equal(new Set(seen.map((s) => s.port)).size, 1);
    const replies = await Promise.all(
      sockets.map(async (ws, i) => {
        const reply = once(ws, 'message');
        ws.send(`socket ${i}`);
        return String((await reply)[0]);
      }),
    );
    assert.deepEqual(replies, ['socket 0', 'socket 1', 'socket 2', 'socket 3']);
    for (const ws of sockets) ws.close(1000);
    await Promise.all(sockets.map((ws) => once(ws, 'close')));

    // node:http2: two WebSockets and GETs interleaved on one session.
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    const [a, b] = await Promise.all([RawTunnel.open(session, '/echo'), RawTunnel.open(session, '/echo')]);
    const gets = [1, 2, 3].map(async () => {
      const get = session.request({ ':path': '/' });
      let body = '';
      get.on('data', (c: Buffer) => {
        body += c.toString();
      });
      await once(get, 'end');
      return body;
    });
    a.send({ opcode: 0x1, payload: 'from a' });
    b.send({ opcode: 0x1, payload: 'from b' });
    assert.deepEqual(await Promise.all(gets), ['hello h2', 'hello h2', 'hello h2']);
    assert.equal((await a.waitFrames(1))[0]!.payload.toString(), 'from a');
    assert.equal((await b.waitFrames(1))[0]!.payload.toString(), 'from b');
    session.destroy();
  });
});

test('permessage-deflate over HTTP/2: negotiated in the CONNECT, compressed frames both ways', async () => {
  await withServer(echoApp(), async (server) => {
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/zip`, { http2: true });
    assert.match(ws.extensions, /^permessage-deflate/);
    const text = 'compress me '.repeat(100000);
    ws.send(text);
    const [data] = await once(ws, 'message');
    assert.equal(String(data), text);
    ws.close(1000);
    await once(ws, 'close');
    // node:http2 sees RSV1 set on the server's compressed frame.
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    const raw = await RawTunnel.open(session, '/zip', {
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    assert.match(String(raw.headers['sec-websocket-extensions']), /^permessage-deflate/);
    raw.send({ opcode: 0x1, payload: 'a'.repeat(4000) });
    const [echoed] = await raw.waitFrames(1);
    assert.equal(echoed!.rsv1, true);
    assert.ok(echoed!.payload.length < 100);
    session.destroy();
  });
});

test('4 MiB messages both ways through small HTTP/2 windows (flow control)', async () => {
  const small = { initialWindowSize: 65535, connectionWindowSize: 65535 };
  await withServer(
    echoApp(),
    async (server) => {
      const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, {
        http2: true,
        http2Options: small,
      });
      const big = Buffer.alloc(4 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      const reply = once(ws, 'message');
      const sent = ws.send(big);
      assert.ok(ws.bufferedAmount > 0, 'the message waits for window');
      await sent;
      const [data, isBinary] = await reply;
      assert.equal(isBinary, true);
      assert.ok(big.equals(data as Buffer));
      const text = 'ü'.repeat(2 << 20);
      ws.send(text);
      assert.equal(String((await once(ws, 'message'))[0]), text);
      ws.close(1000);
      await once(ws, 'close');
    },
    { http2: small },
  );
});

test('backpressure: send() waits while the server does not read, and resumes when it does', async () => {
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
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/slow`, {
      http2: true,
      highWaterMark: 256 * 1024,
    });
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
    assert.ok(pending !== undefined, 'the server stopped reading, so the HTTP/2 windows closed');
    // Far less than 2000 * 64 KiB went out: the stream window bounds what is in flight.
    assert.ok(sent < 100, `sent ${sent} messages before blocking`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'send() keeps waiting while nothing drains');
    const done = once(ws, 'message');
    release();
    await pending;
    ws.send('last');
    sent++;
    assert.equal(String((await done)[0]), 'done');
    assert.equal(received, sent);
    ws.close(1000);
    await once(ws, 'close');
  });
});

test('a stream reset closes only its WebSocket, with 1006, on either side', async () => {
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  const app = echoApp(seen);
  const named = new Map<string, WebSocket>();
  const serverCloses = new Map<string, number>();
  app.ws('/named', (ws) => {
    ws.once('message', (name) => {
      named.set(String(name), ws);
      ws.on('close', (code) => serverCloses.set(String(name), code));
      ws.on('message', (d, b) => ws.send(d, { binary: b }));
      ws.send('ready');
    });
  });
  await withServer(app, async (server) => {
    // node:http2 resets one of two tunnels: the server's WebSocket for it sees 1006.
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    const a = await RawTunnel.open(session, '/echo');
    const b = await RawTunnel.open(session, '/echo');
    a.stream.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => seen[0]?.close !== undefined);
    assert.deepEqual(seen[0]!.close, [1006, '']);
    b.send({ opcode: 0x1, payload: 'still here' });
    assert.equal((await b.waitFrames(1))[0]!.payload.toString(), 'still here');
    assert.equal(seen[1]!.close, undefined);
    session.destroy();

    // Our client, three WebSockets on one connection: x resets its stream, the server resets
    // y's, z goes on.
    const [x, y, z] = await Promise.all(
      ['x', 'y', 'z'].map(async (name) => {
        const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/named`, { http2: true });
        const ready = once(ws, 'message');
        ws.send(name);
        await ready;
        return ws;
      }),
    );
    const xClosed = once(x!, 'close');
    x!.terminate();
    assert.deepEqual(await xClosed, [1006, '']);
    await waitFor(() => serverCloses.has('x'));
    assert.equal(serverCloses.get('x'), 1006);

    const yError = once(y!, 'error');
    const yClosed = new Promise((resolve) => y!.once('close', (...args) => resolve(args)));
    named.get('y')!.terminate();
    const [error] = await yError;
    assert.deepEqual(await yClosed, [1006, '']);
    assert.ok(error instanceof WsStreamResetError);
    assert.equal(error.errorCode, constants.NGHTTP2_CANCEL);

    assert.equal(z!.readyState, WebSocket.OPEN);
    const reply = once(z!, 'message');
    z!.send('alive');
    assert.equal(String((await reply)[0]), 'alive');
    z!.close(1000);
    assert.equal((await once(z!, 'close'))[0], 1000);
    await waitFor(() => serverCloses.has('z'));
    assert.equal(serverCloses.get('z'), 1000);
  });
});

test('losing the HTTP/2 connection closes every WebSocket on it with 1006', async () => {
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  await withServer(echoApp(seen), async (server) => {
    let socket: net.Socket | undefined;
    const session = await h2session(`http://127.0.0.1:${server.port}`, {
      createConnection: () => {
        socket = net.connect(server.port, '127.0.0.1');
        return socket;
      },
    });
    await Promise.all([RawTunnel.open(session, '/echo'), RawTunnel.open(session, '/echo')]);
    socket!.destroy();
    await waitFor(() => seen.length === 2 && seen.every((s) => s.close !== undefined));
    assert.deepEqual(
      seen.map((s) => s.close),
      [
        [1006, ''],
        [1006, ''],
      ],
    );
  });
});

test('graceful server shutdown closes WebSockets over HTTP/2 with 1001', async () => {
  const app = echoApp();
  const server = await app.listen({ port: 0 });
  const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, { http2: true });
  const closed = once(ws, 'close');
  const stopping = server.close();
  assert.deepEqual(await closed, [1001, 'server shutting down']);
  await stopping;
});

test('rejections: no extended CONNECT from the server, a refused CONNECT, a bad subprotocol, not HTTP/2 at all', async () => {
  const plain = new App();
  plain.get('/', () => 'no websockets');
  await withServer(plain, async (server) => {
    await assert.rejects(
      WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, { http2: true }),
      (err: unknown) => err instanceof WsHandshakeError && err.code === 'AVX_WS_H2_NO_EXTENDED_CONNECT',
    );
  });
  await withServer(echoApp(), async (server) => {
    await assert.rejects(
      WebSocket.connect(`ws://127.0.0.1:${server.port}/nowhere`, { http2: true }),
      (err: unknown) =>
        err instanceof WsHandshakeError && err.code === 'AVX_WS_UNEXPECTED_STATUS' && err.status === 404,
    );
    // The connection survived the refusal.
    const ws = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, { http2: true });
    ws.close(1000);
    await once(ws, 'close');
  });
  const liar = new App();
  liar.ws('/echo', () => {}, { protocols: () => 'never-offered' });
  await withServer(liar, async (server) => {
    await assert.rejects(
      WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`, { http2: true, protocols: ['chat'] }),
      WsHandshakeError,
    );
  });
  // An HTTP/1.1-only peer does not speak h2c: the handshake fails, typed.
  const h1 = https.createServer();
  h1.listen(0, '127.0.0.1');
  await once(h1, 'listening');
  const port = (h1.address() as AddressInfo).port;
  await assert.rejects(
    WebSocket.connect(`ws://127.0.0.1:${port}/echo`, { http2: true, handshakeTimeout: 2000 }),
    WsHandshakeError,
  );
  h1.close();
});

test('frames sent before the 200 wait in the stream while an asynchronous Origin hook decides', async () => {
  const app = new App();
  app.ws(
    '/late',
    (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    },
    { checkOrigin: () => new Promise((r) => setTimeout(() => r(true), 50)) },
  );
  await withServer(app, async (server) => {
    const session = await h2session(`http://127.0.0.1:${server.port}`);
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'http',
        ':path': '/late',
        ':authority': 'localhost',
        'sec-websocket-version': '13',
      },
      { endStream: false },
    );
    const tunnel = new RawTunnel(stream);
    stream.write(frame({ opcode: 0x1, payload: 'early bird' }));
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    assert.equal(headers[':status'], 200);
    assert.equal((await tunnel.waitFrames(1))[0]!.payload.toString(), 'early bird');
    session.destroy();
  });
});

test('a handshake timeout or abort resets only its stream; the connection serves the next WebSocket', async () => {
  let held = 0;
  const seen: { protocol: string; port: number; close?: [number, string] }[] = [];
  const app = echoApp(seen);
  app.ws('/never', () => {}, {
    checkOrigin: () => {
      held++;
      return new Promise<boolean>(() => {});
    },
  });
  await withServer(app, async (server) => {
    const base = `ws://127.0.0.1:${server.port}`;
    const first = await WebSocket.connect(`${base}/echo`, { http2: true });
    await assert.rejects(
      WebSocket.connect(`${base}/never`, { http2: true, handshakeTimeout: 100 }),
      (err: unknown) => err instanceof WsHandshakeError && err.code === 'AVX_WS_HANDSHAKE_TIMEOUT',
    );
    const controller = new AbortController();
    const aborted = WebSocket.connect(`${base}/never`, { http2: true, signal: controller.signal });
    await waitFor(() => held === 2);
    controller.abort();
    await assert.rejects(
      aborted,
      (err: unknown) => err instanceof WsHandshakeError && err.code === 'AVX_WS_ABORTED',
    );
    // Same connection still carries the first WebSocket and a new one.
    const second = await WebSocket.connect(`${base}/echo`, { http2: true });
    for (const ws of [first, second]) {
      const reply = once(ws, 'message');
      ws.send('ok');
      assert.equal(String((await reply)[0]), 'ok');
    }
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.port, seen[1]!.port);
    first.close(1000);
    second.close(1000);
    await Promise.all([once(first, 'close'), once(second, 'close')]);
  });
});

test('wss:// with http2 falls back to RFC 6455 when ALPN picks HTTP/1.1 (the ws package as server)', async () => {
  const { cert, key } = testCertificate();
  const server = https.createServer({ cert, key });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    const ws = await WebSocket.connect(`wss://localhost:${port}/`, { http2: true, tls: { ca: cert } });
    ws.send('via http/1.1');
    assert.equal(String((await once(ws, 'message'))[0]), 'via http/1.1');
    ws.close(1000);
    await once(ws, 'close');
  } finally {
    wss.close();
    server.close();
  }
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
