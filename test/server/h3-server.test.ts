/**
 * `app.listen({ tls, http3: true })` serves the same app over HTTP/3 (RFC 9114), against a real
 * client: ngtcp2's `gtlsclient` (Debian ngtcp2-client). Also: Alt-Svc on the TCP responses
 * (RFC 7838, RFC 9114 §3.1.1), metrics of h3 requests, graceful close of QUIC connections, and
 * the typed error for http3 without TLS.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import type { Server } from '../../src/server/server.js';
import { Http3ConfigError } from '../../src/server/server-config.js';
import { metrics } from '../../src/telemetry/metrics/metrics-middleware.js';
import { requirePeer } from '../peers.js';
import { testCertificate } from '../tls-certificate.js';

const PEER_MS = 30_000;

interface ClientRun {
  code: number | null;
  output: string;
  /** Files gtlsclient saved with --download, by name. */
  files: Map<string, Buffer>;
}

/** Runs gtlsclient against `port` with `urls` (paths); resolves once it exits. */
function gtlsclient(port: number, paths: string[], extra: string[] = []): Promise<ClientRun> {
  const dir = mkdtempSync(join(tmpdir(), 'avx-h3-'));
  const child = spawn(
    'gtlsclient',
    [
      '--exit-on-all-streams-close',
      '--no-quic-dump',
      `--download=${dir}`,
      ...extra,
      '127.0.0.1',
      String(port),
      ...paths.map((p) => `https://127.0.0.1:${port}${p}`),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    output += b.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`gtlsclient did not finish in ${PEER_MS} ms:\n${output}`));
    }, PEER_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const files = new Map<string, Buffer>();
      for (const name of readdirSync(dir)) files.set(name, readFileSync(join(dir, name)));
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output, files });
    });
  });
}

async function waitFor(ok: () => boolean, what: string, log: () => string, ms = PEER_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET over HTTPS/1.1 with node:https, trusting the test certificate. */
function httpsGet(
  port: number,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, ca: testCertificate().cert, servername: 'localhost', agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function makeApp(seen: { protocol: string; remotePort: number; path: string }[]): App {
  const app = new App();
  app.get('/users/:id', (req) => {
    seen.push({ protocol: req.protocol, remotePort: req.remotePort, path: req.path });
    return `user ${req.params.id} over ${req.protocol}\n`;
  });
  app.post('/echo', async (req) => {
    const body = await req.bytes();
    return `${body.length} ${createHash('sha256').update(body).digest('hex')}\n`;
  });
  app.get('/stream', () => {
    async function* chunks(): AsyncGenerator<string> {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setImmediate(r));
        yield `chunk ${i};`;
      }
    }
    return new Response(chunks(), { headers: { 'content-type': 'text/plain' } });
  });
  return app;
}

describe('HTTP/3 server (gtlsclient)', () => {
  const seen: { protocol: string; remotePort: number; path: string }[] = [];
  const app = makeApp(seen);
  let server: Server;

  before(async () => {
    server = await app.listen({ port: 0, tls: testCertificate(), http3: true });
  });
  after(() => server.destroy());

  test('GET a route with params', { timeout: PEER_MS * 2 }, async (t) => {
    if (!requirePeer(t, 'gtlsclient')) return;
    const run = await gtlsclient(server.port, ['/users/42']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Negotiated ALPN is h3/);
    assert.match(run.output, /http: stream 0x0 \[:status: 200\]/);
    assert.equal(run.files.get('42')?.toString(), 'user 42 over h3\n', run.output);
  });

  test('POST a body that the handler hashes', { timeout: PEER_MS * 2 }, async (t) => {
    if (!requirePeer(t, 'gtlsclient')) return;
    const dir = mkdtempSync(join(tmpdir(), 'avx-h3-post-'));
    try {
      const data = Buffer.alloc(50_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
      const file = join(dir, 'body.bin');
      writeFileSync(file, data);
      const run = await gtlsclient(server.port, ['/echo'], ['-m', 'POST', '-d', file]);
      assert.equal(run.code, 0, run.output);
      const expected = `${data.length} ${createHash('sha256').update(data).digest('hex')}\n`;
      assert.equal(run.files.get('echo')?.toString(), expected, run.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown path is a 404', { timeout: PEER_MS * 2 }, async (t) => {
    if (!requirePeer(t, 'gtlsclient')) return;
    const run = await gtlsclient(server.port, ['/nope']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /http: stream 0x0 \[:status: 404\]/);
  });

  test('a response streamed in several chunks', { timeout: PEER_MS * 2 }, async (t) => {
    if (!requirePeer(t, 'gtlsclient')) return;
    const run = await gtlsclient(server.port, ['/stream']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /http: stream 0x0 \[:status: 200\]/);
    assert.equal(run.files.get('stream')?.toString(), 'chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;');
  });

  test('two requests on one connection', { timeout: PEER_MS * 2 }, async (t) => {
    if (!requirePeer(t, 'gtlsclient')) return;
    seen.length = 0;
    const run = await gtlsclient(server.port, ['/users/1', '/users/2']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /http: stream 0x0 \[:status: 200\]/);
    assert.match(run.output, /http: stream 0x4 \[:status: 200\]/);
    assert.equal(run.files.get('1')?.toString(), 'user 1 over h3\n');
    assert.equal(run.files.get('2')?.toString(), 'user 2 over h3\n');
    assert.deepEqual(seen.map((s) => s.path).sort(), ['/users/1', '/users/2']);
    assert.ok(seen.every((s) => s.protocol === 'h3'));
    assert.equal(new Set(seen.map((s) => s.remotePort)).size, 1, 'one QUIC connection (one client port)');
  });

  test('HTTPS/1.1 responses of the same app advertise h3 with Alt-Svc', async () => {
    const res = await httpsGet(server.port, '/users/5');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'user 5 over http/1.1\n');
    assert.equal(res.headers['alt-svc'], `h3=":${server.port}"; ma=86400`);
    const missing = await httpsGet(server.port, '/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['alt-svc'], `h3=":${server.port}"; ma=86400`);
  });
});

test('without http3 there is no Alt-Svc', async () => {
  const server = await makeApp([]).listen({ port: 0, tls: testCertificate() });
  try {
    const res = await httpsGet(server.port, '/users/5');
    assert.equal(res.status, 200);
    assert.equal(res.headers['alt-svc'], undefined);
  } finally {
    await server.close();
  }
});

test('metrics() counts the h3 requests', { timeout: PEER_MS * 2 }, async (t) => {
  if (!requirePeer(t, 'gtlsclient')) return;
  const app = makeApp([]);
  const m = metrics({ process: false, client: false });
  app.use(m);
  const server = await app.listen({ port: 0, tls: testCertificate(), http3: true });
  try {
    const run = await gtlsclient(server.port, ['/users/7', '/users/8']);
    assert.equal(run.code, 0, run.output);
    const scrape = await httpsGet(server.port, '/metrics');
    assert.equal(scrape.status, 200);
    const line = scrape.body
      .split('\n')
      .find((l) => l.startsWith('http_server_requests_total{') && l.includes('route="/users/:id"'));
    assert.ok(line !== undefined, scrape.body);
    assert.equal(Number(line.split(' ').at(-1)), 2, line);
    const streams = scrape.body
      .split('\n')
      .find((l) => l.startsWith('http_server_streams_total{protocol="h3"}'));
    assert.ok(streams !== undefined, scrape.body);
    assert.equal(Number(streams.split(' ').at(-1)), 2, streams);
  } finally {
    m.close();
    await server.close();
  }
});

test('server.close() sends GOAWAY and ends the QUIC connections', { timeout: PEER_MS * 2 }, async (t) => {
  if (!requirePeer(t, 'gtlsclient')) return;
  const server = await makeApp([]).listen({ port: 0, tls: testCertificate(), http3: true });
  let closed = false;
  try {
    // Without --exit-on-all-streams-close the client keeps the connection open after its response.
    const dir = mkdtempSync(join(tmpdir(), 'avx-h3-close-'));
    const child = spawn(
      'gtlsclient',
      ['--no-quic-dump', '127.0.0.1', String(server.port), `https://127.0.0.1:${server.port}/users/9`],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      output += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => /http: stream 0x0 \[:status: 200\]/.test(output),
        'the response',
        () => output,
      );
      assert.equal(server.http3ConnectionCount, 1);
      await server.close();
      closed = true;
      assert.equal(server.http3ConnectionCount, 0);
      const code = await Promise.race([
        exited,
        new Promise<'running'>((r) => setTimeout(() => r('running'), PEER_MS).unref()),
      ]);
      assert.notEqual(code, 'running', `gtlsclient is still connected:\n${output}`);
      // GOAWAY (RFC 9114 §5.2): a 3-byte frame on our control stream (0x3) after its SETTINGS;
      // then CONNECTION_CLOSE, an application close with H3_NO_ERROR (0x100).
      assert.match(output, /frm rx \d+ 1RTT STREAM\(0x0[ae]\) id=0x3 fin=0 offset=[1-9]\d* len=3 /, 'GOAWAY');
      assert.match(output, /CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\)/, 'H3_NO_ERROR');
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    if (!closed) await server.destroy();
  }
});

test('http3 without tls is a typed error', async () => {
  await assert.rejects(new App().listen({ port: 0, http3: true }), (err: unknown) => {
    assert.ok(err instanceof Http3ConfigError);
    assert.equal(err.code, 'AVX_HTTP3_CONFIG');
    return true;
  });
});
