/**
 * Tests of the client over HTTP/2 (RFC 9113): h2c with prior knowledge (§3.3) and h2 by ALPN
 * over TLS (§3.2) against our own App and node:http2 servers, one connection multiplexing many
 * streams (§5), streamed bodies under flow control (§5.2), redirect and decompression policies
 * unchanged over h2, abort as RST_STREAM CANCEL (§6.4), and safe retries of streams refused
 * (REFUSED_STREAM, §8.7) or above a GOAWAY's last-stream-id (§6.8), the latter two against a
 * scripted peer built on our own sans-I/O `H2Connection` in the server role. Loopback only.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Client } from '../../src/client/client.js';
import { H2Connection, type H2ConnectionHandler } from '../../src/h2/h2-connection.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import type { H2Stream } from '../../src/h2/h2-stream.js';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import type { Server } from '../../src/server/server.js';
import { testCertificate } from '../tls-certificate.js';

function makeApp(): App {
  const app = new App({ bodyLimit: 16 << 20 });
  app.get('/', (req) => `hello ${req.protocol}`);
  app.post('/echo', async (req) => {
    const body = await req.bytes();
    return new Response(body, { headers: { 'x-length': String(body.length) } });
  });
  app.get('/stream', () => Readable.from(['a', 'b', 'c'].map((s) => Buffer.from(s.repeat(100000)))));
  return app;
}

let h2c: Server;
let tlsServer: Server;

before(async () => {
  const { cert, key } = testCertificate();
  h2c = await makeApp().listen({ port: 0, host: '127.0.0.1' });
  tlsServer = await makeApp().listen({ port: 0, host: '127.0.0.1', tls: { cert, key } });
});

after(async () => {
  await h2c.destroy();
  await tlsServer.destroy();
});

/** A node:http2 cleartext server on loopback that counts its sessions. */
async function nodeH2(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  settings?: http2.Settings,
): Promise<{ origin: string; sessions: () => number; close: () => Promise<void> }> {
  const server = http2.createServer(settings === undefined ? {} : { settings });
  let sessions = 0;
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  server.on('stream', onStream);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    sessions: () => sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('h2c prior knowledge to our App: GET and POST with bodies on one connection', async () => {
  const client = new Client({ http2: true });
  try {
    const origin = `http://127.0.0.1:${h2c.port}`;
    const res = await client.get(`${origin}/`);
    assert.equal(res.status, 200);
    assert.equal(res.httpVersion, '2');
    assert.match(await res.text(), /hello/);
    const body = Buffer.alloc(300000, 7);
    const post = await client.post(`${origin}/echo`, { body });
    assert.equal(post.headers.get('x-length'), String(body.length));
    assert.deepEqual(await post.bytes(), body);
    const streamed = await client.post(`${origin}/echo`, {
      body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
    });
    assert.equal(await streamed.text(), 'abcd');
    assert.equal(client.stats().created, 1);
  } finally {
    await client.close();
  }
});

test('https to our App negotiates h2 by ALPN', async () => {
  const { cert } = testCertificate();
  const client = new Client({ tls: { ca: cert } });
  try {
    const res = await client.get(`https://127.0.0.1:${tlsServer.port}/`);
    assert.equal(res.httpVersion, '2');
    assert.match(await res.text(), /hello/);
    const post = await client.post(`https://127.0.0.1:${tlsServer.port}/echo`, { body: 'x'.repeat(70000) });
    assert.equal((await post.text()).length, 70000);
    assert.equal(client.stats().created, 1);
  } finally {
    await client.close();
  }
});

test('https falls back to HTTP/1.1 when the server picks it by ALPN', async () => {
  const { cert, key } = testCertificate();
  const server = https.createServer({ cert, key }, (_req, res) => res.end('one-one'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new Client({ tls: { ca: cert } });
  try {
    const res = await client.get(`https://127.0.0.1:${port}/`);
    assert.equal(res.httpVersion, '1.1');
    assert.equal(await res.text(), 'one-one');
    const again = await client.get(`https://127.0.0.1:${port}/`);
    assert.equal(await again.text(), 'one-one');
  } finally {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('node:http2 over TLS: ALPN h2', async () => {
  const { cert, key } = testCertificate();
  const server = http2.createSecureServer({ cert, key }, (req, res) => {
    res.end(`v${req.httpVersion}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new Client({ tls: { ca: cert } });
  try {
    const res = await client.get(`https://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'v2.0');
  } finally {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('100 concurrent requests are multiplexed on one connection', async () => {
  const peer = await nodeH2((stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(String(headers[':path']));
  });
  const client = new Client({ http2: true });
  try {
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.get(`${peer.origin}/${i}`).then((r) => r.text())),
    );
    assert.deepEqual(
      all,
      Array.from({ length: 100 }, (_, i) => `/${i}`),
    );
    assert.equal(peer.sessions(), 1);
    assert.equal(client.stats().created, 1);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('a streamed download with a slow reader arrives whole (flow control and backpressure)', async () => {
  const size = 4 << 20;
  const peer = await nodeH2((stream) => {
    stream.respond({ ':status': 200 });
    let sent = 0;
    const chunk = Buffer.alloc(65536, 1);
    const write = (): void => {
      while (sent < size) {
        sent += chunk.length;
        if (!stream.write(chunk)) {
          stream.once('drain', write);
          return;
        }
      }
      stream.end();
    };
    write();
  });
  const client = new Client({ http2: true, highWaterMark: 16384 });
  try {
    const res = await client.get(`${peer.origin}/big`);
    let total = 0;
    let n = 0;
    for await (const chunk of res) {
      total += chunk.length;
      if (++n % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(total, size);
    const res2 = await client.get(`${peer.origin}/again`);
    assert.equal((await res2.bytes()).length, size);
    assert.equal(peer.sessions(), 1);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('our App streams a download over h2c', async () => {
  const client = new Client({ http2: true });
  try {
    const res = await client.get(`http://127.0.0.1:${h2c.port}/stream`);
    const text = await res.text();
    assert.equal(text.length, 300000);
    assert.equal(text.slice(0, 3), 'aaa');
    assert.equal(text.slice(-3), 'ccc');
  } finally {
    await client.close();
  }
});

test('redirect and decompression policies work over h2', async () => {
  const peer = await nodeH2((stream, headers) => {
    if (headers[':path'] === '/from') {
      stream.respond({ ':status': 302, location: '/to' });
      stream.end();
      return;
    }
    assert.match(String(headers['accept-encoding']), /gzip/);
    stream.respond({ ':status': 200, 'content-encoding': 'gzip' });
    stream.end(gzipSync('decoded over h2'));
  });
  const client = new Client({ http2: true });
  try {
    const res = await client.get(`${peer.origin}/from`);
    assert.equal(res.redirected, true);
    assert.equal(await res.text(), 'decoded over h2');
    assert.equal(peer.sessions(), 1);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('abort resets the stream with CANCEL and the connection serves other requests', async () => {
  let cancelled!: (code: number) => void;
  const rst = new Promise<number>((resolve) => {
    cancelled = resolve;
  });
  let arrived!: () => void;
  const hanging = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const peer = await nodeH2((stream, headers) => {
    if (headers[':path'] === '/hang') {
      stream.on('close', () => cancelled(stream.rstCode));
      arrived();
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const client = new Client({ http2: true, retry: false });
  try {
    const controller = new AbortController();
    const pending = client.get(`${peer.origin}/hang`, { signal: controller.signal });
    await hanging;
    controller.abort();
    await assert.rejects(pending, { code: 'AVX_CLIENT_REQUEST_ABORTED' });
    assert.equal(await rst, http2.constants.NGHTTP2_CANCEL);
    const res = await client.get(`${peer.origin}/after`);
    assert.equal(await res.text(), 'ok');
    assert.equal(peer.sessions(), 1);
  } finally {
    await client.close();
    await peer.close();
  }
});

/**
 * A scripted HTTP/2 server built on our sans-I/O core: `onRequest` decides per request what to do
 * (answer, refuse with REFUSED_STREAM, or hold), with access to the connection.
 */
interface ScriptedConnection {
  core: H2Connection;
  socket: net.Socket;
  index: number;
  flush(): void;
  answer(stream: H2Stream, text: string): void;
}

async function scriptedServer(
  onRequest: (c: ScriptedConnection, stream: H2Stream, path: string, method: string) => void,
): Promise<{ origin: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const index = connections++;
    const handler: H2ConnectionHandler = {
      onHeaders(stream, fields) {
        let path = '';
        let method = '';
        for (let i = 0; i < fields.length; i += 2) {
          if (fields[i] === ':path') path = fields[i + 1]!;
          if (fields[i] === ':method') method = fields[i + 1]!;
        }
        onRequest(c, stream, path, method);
      },
      onData(stream, data) {
        c.core.consume(stream, data.length);
      },
      onStreamClosed() {},
      onStreamWritable() {},
      onGoaway() {},
      onConnectionError() {
        c.flush();
        socket.destroy();
      },
    };
    const core = new H2Connection('server', handler);
    const c: ScriptedConnection = {
      core,
      socket,
      index,
      flush() {
        for (const b of core.takeOutgoing()) if (!socket.destroyed) socket.write(b);
      },
      answer(stream, text) {
        core.sendHeaders(stream, [':status', '200'], false);
        core.sendData(stream, Buffer.from(text), true);
        c.flush();
      },
    };
    core.start(Date.now());
    c.flush();
    socket.on('data', (chunk: Buffer) => {
      core.receive(chunk, Date.now());
      c.flush();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('REFUSED_STREAM: the request is retried, even a POST, since it never reached the app', async () => {
  let refused = 0;
  const peer = await scriptedServer((c, stream, path, method) => {
    if (refused === 0) {
      refused++;
      c.core.resetStream(stream, H2ErrorCode.REFUSED_STREAM);
      c.flush();
      return;
    }
    c.answer(stream, `${method} ${path}`);
  });
  const client = new Client({ http2: true, retry: false });
  try {
    const res = await client.post(`${peer.origin}/create`, { body: 'payload' });
    assert.equal(await res.text(), 'POST /create');
    assert.equal(refused, 1);
    assert.equal(peer.connections(), 1, 'the connection survives a refused stream');
  } finally {
    await client.close();
    await peer.close();
  }
});

test('node:http2 with maxConcurrentStreams 2: its limit is honoured and every request completes', async () => {
  const active = new Map<http2.Http2Session, number>();
  let most = 0;
  const peer = await nodeH2(
    (stream, headers) => {
      const session = stream.session!;
      const n = (active.get(session) ?? 0) + 1;
      active.set(session, n);
      most = Math.max(most, n);
      stream.on('close', () => active.set(session, active.get(session)! - 1));
      setImmediate(() => {
        stream.respond({ ':status': 200 });
        stream.end(String(headers[':path']));
      });
    },
    { maxConcurrentStreams: 2 },
  );
  const client = new Client({ http2: true, retry: false });
  try {
    // The first exchange lets the client learn the server's SETTINGS.
    assert.equal(await (await client.get(`${peer.origin}/warm`)).text(), '/warm');
    most = 0;
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.get(`${peer.origin}/${i}`).then((r) => r.text())),
    );
    assert.deepEqual(
      all,
      Array.from({ length: 20 }, (_, i) => `/${i}`),
    );
    assert.ok(most <= 2, `a session saw ${most} concurrent streams`);
    assert.ok(most >= 1);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('GOAWAY: streams above last-stream-id are retried on a new connection', async () => {
  const held: { c: ScriptedConnection; stream: H2Stream }[] = [];
  const peer = await scriptedServer((c, stream, path) => {
    if (c.index > 0) {
      c.answer(stream, `second ${path}`);
      return;
    }
    held.push({ c, stream });
    if (held.length < 3) return;
    // RFC 9113 §6.8: only the first stream will be processed.
    const first = held[0]!;
    const frame = Buffer.alloc(17);
    frame.writeUIntBE(8, 0, 3);
    frame[3] = 0x7;
    frame.writeUInt32BE(first.stream.id, 9);
    frame.writeUInt32BE(0, 13);
    c.socket.write(frame);
    first.c.answer(first.stream, `first ${path}`);
  });
  const client = new Client({ http2: true, retry: false });
  try {
    const all = await Promise.all(
      ['/a', '/b', '/c'].map((p) => client.post(`${peer.origin}${p}`, { body: p }).then((r) => r.text())),
    );
    assert.equal(all.filter((t) => t.startsWith('first')).length, 1);
    assert.equal(all.filter((t) => t.startsWith('second')).length, 2);
    assert.equal(peer.connections(), 2);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('a server that keeps refusing a stream fails the request after one retry', async () => {
  let refused = 0;
  const peer = await scriptedServer((c, stream) => {
    refused++;
    c.core.resetStream(stream, H2ErrorCode.REFUSED_STREAM);
    c.flush();
  });
  const client = new Client({ http2: true, retry: false });
  try {
    await assert.rejects(client.get(`${peer.origin}/x`), { code: 'AVX_CLIENT_CONNECTION_CLOSED' });
    assert.equal(refused, 2);
  } finally {
    await client.close();
    await peer.close();
  }
});

test('a headers timeout fails only its stream; the connection serves the next request', async () => {
  const peer = await scriptedServer((c, stream, path) => {
    if (path === '/slow') return;
    c.answer(stream, 'fast');
  });
  const client = new Client({ http2: true, retry: false, headersTimeout: 50 });
  try {
    await assert.rejects(client.get(`${peer.origin}/slow`), { code: 'AVX_CLIENT_HEADERS_TIMEOUT' });
    assert.equal(await (await client.get(`${peer.origin}/fast`)).text(), 'fast');
    assert.equal(peer.connections(), 1);
  } finally {
    await client.close();
    await peer.close();
  }
});
