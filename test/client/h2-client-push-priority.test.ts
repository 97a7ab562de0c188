/**
 * The HTTP/2 client and server push, priorities and connection housekeeping: the client refuses
 * push (SETTINGS_ENABLE_PUSH = 0, and a PUSH_PROMISE anyway is a connection error PROTOCOL_ERROR,
 * RFC 9113 §8.4) unless `http2Push` accepts it; RFC 9218 `priority` sent by the client orders
 * the server's DATA (the urgent response arrives first), and `res.setPriority` changes it later
 * with PRIORITY_UPDATE (§7.1); the core's tick runs on the client
 * (SETTINGS ACK timeout, §6.5.3); a request head over the server's SETTINGS_MAX_HEADER_LIST_SIZE
 * fails with a typed error.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Client } from '../../src/client/client.js';
import type { ClientPush } from '../../src/client/client-push.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import { H2FrameParser } from '../../src/h2/h2-frame-parser.js';
import { H2_CLIENT_PREFACE, H2FrameType, H2Setting } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { App } from '../../src/server/app.js';

/** A raw TCP server; `onSocket` scripts each connection. Resolves with its origin and a closer. */
async function rawServer(
  onSocket: (socket: net.Socket) => void,
): Promise<{ origin: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Frames a client sends, read after its 24-octet preface. */
class ClientFrames {
  readonly frames: { type: number; flags: number; streamId: number; payload: Buffer }[] = [];
  private prefaceLeft = H2_CLIENT_PREFACE.length;
  private readonly parser = new H2FrameParser(
    {
      onFrame: (type, flags, streamId, payload) => {
        this.frames.push({ type, flags, streamId, payload: Buffer.from(payload) });
        this.onFrame?.(type, flags, streamId, payload);
      },
    },
    { expectPreface: false, maxFrameSize: 1 << 24 },
  );
  onFrame: ((type: number, flags: number, streamId: number, payload: Buffer) => void) | undefined;

  feed(chunk: Buffer): void {
    if (this.prefaceLeft > 0) {
      const skip = Math.min(this.prefaceLeft, chunk.length);
      this.prefaceLeft -= skip;
      chunk = chunk.subarray(skip);
    }
    if (chunk.length > 0) this.parser.execute(chunk);
  }

  goaway(): number {
    const g = this.frames.find((f) => f.type === H2FrameType.GOAWAY);
    return g === undefined ? -1 : g.payload.readUInt32BE(4);
  }
}

test('the client announces SETTINGS_ENABLE_PUSH = 0, so node:http2 cannot push to it', async () => {
  const server = http2.createServer();
  let pushAllowed: boolean | undefined;
  let enablePush: boolean | undefined;
  server.on('stream', (stream) => {
    pushAllowed = stream.pushAllowed;
    enablePush = stream.session?.remoteSettings.enablePush;
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new Client({ http2: true });
  try {
    const res = await client.get(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'ok');
    assert.equal(enablePush, false);
    assert.equal(pushAllowed, false);
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a PUSH_PROMISE sent anyway is a connection error PROTOCOL_ERROR: GOAWAY, and the request fails', async () => {
  const seen: ClientFrames[] = [];
  const peer = await rawServer((socket) => {
    const frames = new ClientFrames();
    seen.push(frames);
    const w = new H2FrameWriter();
    w.settings([]);
    socket.write(Buffer.concat(w.take()));
    frames.onFrame = (type, flags, streamId) => {
      if (type === H2FrameType.SETTINGS && (flags & 1) === 0) w.settingsAck();
      if (type === H2FrameType.HEADERS) {
        // RFC 9113 §8.4: the client refused push; promising anyway breaks the protocol.
        const block = new HpackEncoder().encode([
          ':method',
          'GET',
          ':scheme',
          'http',
          ':authority',
          'x',
          ':path',
          '/pushed',
        ]);
        w.pushPromise(streamId, 2, block, 16384);
      }
      socket.write(Buffer.concat(w.take()));
    };
    socket.on('data', (chunk: Buffer) => frames.feed(chunk));
  });
  const client = new Client({ http2: true, retry: false });
  try {
    await assert.rejects(client.post(`${peer.origin}/`, { body: 'x' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'AVX_CLIENT_CONNECTION_CLOSED');
      assert.match(err.message, /PUSH_PROMISE/);
      return true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen[0]!.goaway(), H2ErrorCode.PROTOCOL_ERROR);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('http2Push: the client accepts pushes from our App and reads the pushed response', async () => {
  const app = new App();
  app.get('/page', (req) => {
    req.push('/style.css', { headers: { 'accept-encoding': 'identity' } })?.respond('body{}');
    req.push('/never.css'); // never answered: the server cancels it
    return 'page';
  });
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  const pushes: ClientPush[] = [];
  const client = new Client({ http2: true, http2Push: (push) => pushes.push(push) });
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    const res = await client.get(`${origin}/page`);
    assert.equal(await res.text(), 'page');
    assert.equal(pushes.length, 2);
    const [css, never] = pushes;
    assert.equal(css!.method, 'GET');
    assert.equal(css!.url.href, `${origin}/style.css`);
    assert.equal(css!.initiator.href, `${origin}/page`);
    assert.equal(css!.headers.get('accept-encoding'), 'identity');
    const pushed = await css!.response;
    assert.equal(pushed.status, 200);
    assert.equal(pushed.httpVersion, '2');
    assert.equal(await pushed.text(), 'body{}');
    await assert.rejects(never!.response, { code: 'AVX_CLIENT_CONNECTION_CLOSED' });
    // The connection is unharmed and was the only one.
    assert.equal(await (await client.get(`${origin}/page`)).text(), 'page');
    assert.equal(client.stats().created, 1);
  } finally {
    await client.close();
    await server.destroy();
  }
});

test('http2Push: a push for another authority is refused (RFC 9113 §8.4.1), the rest goes on', async () => {
  const server = http2.createServer();
  let pushError: unknown;
  let pushRst = -1;
  server.on('stream', (stream) => {
    stream.pushStream({ ':path': '/x', ':authority': 'evil.example' }, (err, pushed) => {
      if (err !== null) {
        pushError = err;
      } else {
        pushed.on('error', () => {});
        pushed.on('close', () => {
          pushRst = pushed.rstCode ?? -1;
        });
        // Left open, so that it is the client's RST_STREAM that closes it.
        pushed.respond({ ':status': 200 });
        pushed.write('evil');
      }
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const pushes: ClientPush[] = [];
  const client = new Client({ http2: true, http2Push: (push) => pushes.push(push) });
  try {
    const res = await client.get(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'ok');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pushError, undefined);
    assert.equal(pushes.length, 0);
    assert.equal(pushRst, http2.constants.NGHTTP2_PROTOCOL_ERROR);
    assert.equal(await (await client.get(`http://127.0.0.1:${port}/`)).text(), 'ok');
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('RFC 9218: the response of the urgent request (priority: u=0) arrives first', async () => {
  const urgencies = [7, 2, 1, 0];
  const waiting = new Map<number, () => void>();
  const app = new App();
  const body = Buffer.alloc(256 * 1024, 0x61);
  app.get('/r/:u', async (req) => {
    const u = Number(req.params.u);
    await new Promise<void>((resolve) => {
      waiting.set(u, resolve);
      // Once all four are in, release them least urgent first: without priorities the
      // first released (u=7) would get ahead and finish first.
      if (waiting.size === urgencies.length) for (const x of urgencies) waiting.get(x)!();
    });
    return body;
  });
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  // A small connection window and large stream windows: the connection window decides who sends.
  const client = new Client({
    http2: true,
    http2Options: { connectionWindowSize: 65535, initialWindowSize: 1 << 24 },
  });
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    const finished: number[] = [];
    await Promise.all(
      urgencies.map(async (u) => {
        const res = await client.get(`${origin}/r/${u}`, { headers: { priority: `u=${u}` } });
        const bytes = await res.bytes();
        assert.equal(bytes.length, body.length);
        finished.push(u);
      }),
    );
    assert.equal(client.stats().created, 1, 'one connection');
    assert.deepEqual(finished, [0, 1, 2, 7]);
  } finally {
    await client.close();
    await server.destroy();
  }
});

test('RFC 9218 §7.1: res.setPriority sends PRIORITY_UPDATE on stream 0, merged over the request field', async () => {
  const seen: ClientFrames[] = [];
  const w = new H2FrameWriter();
  let finish: (() => void) | undefined;
  const peer = await rawServer((socket) => {
    const frames = new ClientFrames();
    seen.push(frames);
    w.settings([]);
    socket.write(Buffer.concat(w.take()));
    frames.onFrame = (type, flags, streamId) => {
      if (type === H2FrameType.SETTINGS && (flags & 1) === 0) w.settingsAck();
      if (type === H2FrameType.HEADERS) {
        // A response head and part of a body; the rest waits for `finish`.
        w.headers(streamId, new HpackEncoder().encode([':status', '200']), false, 16384);
        w.data(streamId, Buffer.from('part '), false);
        finish = () => {
          w.data(streamId, Buffer.from('end'), true);
          socket.write(Buffer.concat(w.take()));
        };
      }
      socket.write(Buffer.concat(w.take()));
    };
    socket.on('data', (chunk: Buffer) => frames.feed(chunk));
  });
  const client = new Client({ http2: true, retry: false });
  const updates = () => seen[0]!.frames.filter((f) => f.type === H2FrameType.PRIORITY_UPDATE);
  const arrived = async (n: number) => {
    for (let i = 0; i < 200 && updates().length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };
  try {
    const res = await client.get(`${peer.origin}/`, { headers: { priority: 'u=5, i' } });
    assert.equal(res.setPriority({ urgency: 1 }), true);
    await arrived(1);
    // Only `u` changed: the request's `i` is kept.
    assert.equal(res.setPriority({ incremental: false }), true);
    await arrived(2);
    const [first, second] = updates();
    assert.equal(first!.streamId, 0, 'on stream 0');
    assert.equal(first!.flags, 0);
    assert.deepEqual(first!.payload, Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('u=1, i')]));
    assert.deepEqual(second!.payload, Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('u=1')]));
    assert.throws(() => res.setPriority({ urgency: 8 }), RangeError);
    finish!();
    assert.equal(await res.text(), 'part end');
    // The stream is closed: nothing more to prioritize.
    assert.equal(res.setPriority({ urgency: 0 }), false);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(updates().length, 2);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('RFC 9218 §7.1: setPriority on a response in flight makes our server send it first', async () => {
  const names = ['a', 'b', 'c'];
  const waiting: (() => void)[] = [];
  const app = new App();
  const body = Buffer.alloc(256 * 1024, 0x61);
  app.get('/r/:name', async () => {
    // Answer all three in one turn: `a` takes the connection window, `b` and `c` queue.
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === names.length) for (const release of waiting) release();
    });
    return body;
  });
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  // A small connection window the client credits only as bodies are read (highWaterMark 1024):
  // nothing more is sent until the reading below starts, after the update.
  const client = new Client({
    http2: true,
    highWaterMark: 1024,
    http2Options: { connectionWindowSize: 65535, initialWindowSize: 1 << 24 },
  });
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    const responses = await Promise.all(names.map((n) => client.get(`${origin}/r/${n}`)));
    assert.equal(client.stats().created, 1, 'one connection');
    assert.equal(responses[2]!.setPriority({ urgency: 0 }), true);
    const finished: string[] = [];
    await Promise.all(
      responses.map(async (res, i) => {
        assert.equal((await res.bytes()).length, body.length);
        finished.push(names[i]!);
      }),
    );
    // Without the update: a, b, c (default priority, stream-id order, RFC 9218 §4.2).
    assert.deepEqual(finished, ['c', 'a', 'b']);
  } finally {
    await client.close();
    await server.destroy();
  }
  // HTTP/1.1 has no such signal.
  const h1 = await new App().get('/', () => 'x').listen({ port: 0, host: '127.0.0.1' });
  const h1Client = new Client();
  try {
    const res = await h1Client.get(`http://127.0.0.1:${h1.port}/`);
    assert.equal(res.setPriority({ urgency: 0 }), false);
    assert.equal(await res.text(), 'x');
  } finally {
    await h1Client.close();
    await h1.destroy();
  }
});

test('regression: the client runs the core tick, so a server that never ACKs SETTINGS is SETTINGS_TIMEOUT', {
  timeout: 10000,
}, async () => {
  const seen: ClientFrames[] = [];
  // A server that sends its SETTINGS but never acknowledges the client's, and never answers.
  const peer = await rawServer((socket) => {
    const frames = new ClientFrames();
    seen.push(frames);
    const w = new H2FrameWriter();
    w.settings([H2Setting.MAX_CONCURRENT_STREAMS, 10]);
    socket.write(Buffer.concat(w.take()));
    socket.on('data', (chunk: Buffer) => frames.feed(chunk));
  });
  const client = new Client({ http2: true, retry: false, http2Options: { settingsTimeout: 300 } });
  try {
    const started = Date.now();
    await assert.rejects(client.post(`${peer.origin}/`, { body: 'x' }), (err: Error) => {
      assert.match(err.message, /SETTINGS/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen[0]!.goaway(), H2ErrorCode.SETTINGS_TIMEOUT);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('a request head over the server SETTINGS_MAX_HEADER_LIST_SIZE fails with RequestHeadersTooLargeError, unsent', async () => {
  let streams = 0;
  const server = http2.createServer({ settings: { maxHeaderListSize: 2000 } });
  server.on('stream', (stream) => {
    streams++;
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new Client({ http2: true, retry: false });
  try {
    const origin = `http://127.0.0.1:${port}`;
    assert.equal(await (await client.get(`${origin}/`)).text(), 'ok');
    await assert.rejects(client.get(`${origin}/`, { headers: { 'x-big': 'v'.repeat(5000) } }), {
      code: 'AVX_CLIENT_REQUEST_HEADERS_TOO_LARGE',
    });
    assert.equal(streams, 1, 'the server never saw it');
    assert.equal(await (await client.get(`${origin}/`)).text(), 'ok', 'the connection is fine');
    assert.equal(client.stats().created, 1);
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
