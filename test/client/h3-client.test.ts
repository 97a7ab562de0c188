/**
 * The client over HTTP/3 (RFC 9114) against a real server: ngtcp2's `gtlsserver` (Debian
 * ngtcp2-server) serving files from a temporary folder with a certificate signed by the test CA,
 * which the client trusts through `tls.ca`. Covers `http3: 'only'` (bytes exact, one QUIC
 * connection for concurrent requests, 404, a wrong CA, abort of one stream) and `http3: true`
 * with Alt-Svc discovery from a TLS HTTP/1.1 server, including the fallback to TCP (RFC 7838 §2.4).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '../../src/client/client.js';
import {
  ClientError,
  ConnectError,
  ConnectTimeoutError,
  RequestAbortedError,
} from '../../src/client/client-errors.js';
import { hasPeer, requirePeer } from '../peers.js';
import { testCa } from '../test-ca.js';
import { testCertificate } from '../tls-certificate.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const small = Buffer.from(`hello over HTTP/3 ${randomBytes(8).toString('hex')}\n`);
const large = randomBytes(1024 * 1024 + 17);
const huge = randomBytes(8 * 1024 * 1024);

/** A UDP port nobody listens on right now. */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** True once something listens on UDP `port` (Linux /proc; elsewhere, after a pause). */
function udpListening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  if (!existsSync('/proc/net/udp')) return true;
  return readFileSync('/proc/net/udp', 'latin1').includes(hex);
}

async function waitFor(ok: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Peer {
  port: number;
  child: ChildProcess;
  output: () => string;
}

let dir = '';
let peer: Peer | undefined;

async function startGtlsserver(): Promise<Peer> {
  const { cert, key } = testCa();
  writeFileSync(join(dir, 'cert.pem'), cert);
  writeFileSync(join(dir, 'key.pem'), key);
  const port = await freeUdpPort();
  const child = spawn(
    'gtlsserver',
    [
      `--htdocs=${join(dir, 'www')}`,
      '-q',
      '127.0.0.1',
      String(port),
      join(dir, 'key.pem'),
      join(dir, 'cert.pem'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  });
  child.stderr!.on('data', (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  });
  await waitFor(() => udpListening(port) || child.exitCode !== null, 'gtlsserver to listen');
  if (child.exitCode !== null) throw new Error(`gtlsserver exited: ${output}`);
  return { port, child, output: () => output };
}

before(async () => {
  if (!hasPeer('gtlsserver')) return;
  dir = mkdtempSync(join(tmpdir(), 'avx-h3-'));
  const www = join(dir, 'www');
  await import('node:fs/promises').then((fs) => fs.mkdir(www));
  writeFileSync(join(www, 'small.txt'), small);
  writeFileSync(join(www, 'large.bin'), large);
  writeFileSync(join(www, 'huge.bin'), huge);
  peer = await startGtlsserver();
});

after(() => {
  peer?.child.kill();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function h3Client(extra: ConstructorParameters<typeof Client>[0] = {}): Client {
  return new Client({ http3: 'only', tls: { ca: testCa().ca }, retry: false, ...extra });
}

test("http3: 'only' GETs a small and a ~1 MB file with their exact bytes", { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const client = h3Client();
  try {
    const res = await client.get(`https://127.0.0.1:${peer!.port}/small.txt`);
    assert.equal(res.httpVersion, '3');
    assert.equal(res.status, 200);
    assert.equal(sha(await res.bytes()), sha(small));
    const big = await client.get(`https://127.0.0.1:${peer!.port}/large.bin`);
    assert.equal(big.httpVersion, '3');
    assert.equal(big.status, 200);
    const body = await big.bytes();
    assert.equal(body.length, large.length);
    assert.equal(sha(body), sha(large));
  } finally {
    await client.close();
  }
});

test('concurrent GETs share one QUIC connection', { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const client = h3Client();
  try {
    const paths = ['small.txt', 'large.bin', 'small.txt', 'large.bin', 'small.txt', 'small.txt'];
    const bodies = await Promise.all(
      paths.map(async (p) => {
        const res = await client.get(`https://127.0.0.1:${peer!.port}/${p}`);
        assert.equal(res.httpVersion, '3');
        return sha(await res.bytes());
      }),
    );
    assert.deepEqual(
      bodies,
      paths.map((p) => sha(p === 'small.txt' ? small : large)),
    );
    const stats = client.stats();
    assert.equal(stats.created, 1, 'one QUIC connection');
    assert.equal(stats.requests, paths.length);
  } finally {
    await client.close();
  }
});

test('a missing file is a 404 over HTTP/3', { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const client = h3Client();
  try {
    const res = await client.get(`https://127.0.0.1:${peer!.port}/no-such-file.txt`);
    assert.equal(res.httpVersion, '3');
    assert.equal(res.status, 404);
    await res.dump();
  } finally {
    await client.close();
  }
});

test('a certificate from a CA the client does not trust fails with a typed ConnectError', {
  timeout: 60_000,
}, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const client = h3Client({ tls: { ca: testCertificate().cert } });
  try {
    await assert.rejects(client.get(`https://127.0.0.1:${peer!.port}/small.txt`), (err: unknown) => {
      assert.ok(err instanceof ConnectError, String(err));
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, 'AVX_CLIENT_CONNECT_FAILED');
      assert.match(err.message, /QUIC handshake failed/);
      return true;
    });
  } finally {
    client.destroy();
  }
});

test('an AbortSignal cancels one stream while another on the same connection completes', {
  timeout: 60_000,
}, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const client = h3Client();
  try {
    const base = `https://127.0.0.1:${peer!.port}`;
    // Bring the connection up first, so that both requests below ride on it.
    await (await client.get(`${base}/small.txt`)).dump();
    const controller = new AbortController();
    const aborted = client.get(`${base}/huge.bin`, { signal: controller.signal });
    const other = client.get(`${base}/large.bin`);
    const res = await aborted;
    assert.equal(res.httpVersion, '3');
    controller.abort();
    await assert.rejects(res.bytes(), (err: unknown) => err instanceof RequestAbortedError);
    const body = await (await other).bytes();
    assert.equal(sha(body), sha(large));
    // The connection survived the reset: another request goes over it.
    const again = await client.get(`${base}/small.txt`);
    assert.equal(sha(await again.bytes()), sha(small));
    assert.equal(client.stats().created, 1, 'one QUIC connection throughout');
  } finally {
    await client.close();
  }
});

/** A TLS HTTP/1.1 server with the test CA's certificate whose responses advertise `altSvc`. */
async function altSvcServer(altSvc: string): Promise<{ server: https.Server; port: number }> {
  const { cert, key } = testCa();
  const server = https.createServer({ cert, key }, (req, res) => {
    res.setHeader('alt-svc', altSvc);
    res.end(`tcp ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

test('http3: true uses the h3 alternative an origin advertised in Alt-Svc', {
  timeout: 60_000,
}, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const { server, port } = await altSvcServer(`h3=":${peer!.port}"; ma=600`);
  const client = new Client({ http3: true, tls: { ca: testCa().ca }, retry: false });
  try {
    const url = `https://127.0.0.1:${port}/small.txt`;
    const first = await client.get(url);
    assert.notEqual(first.httpVersion, '3');
    assert.equal(await first.text(), 'tcp /small.txt');
    const second = await client.get(url);
    assert.equal(second.httpVersion, '3');
    assert.equal(second.status, 200);
    assert.equal(sha(await second.bytes()), sha(small), 'served by gtlsserver');
  } finally {
    await client.close();
    server.close();
  }
});

test('http3: true falls back to TCP when the h3 alternative fails, and forgets it', {
  timeout: 60_000,
}, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  const dead = await freeUdpPort();
  const { server, port } = await altSvcServer(`h3=":${dead}"; ma=600`);
  const client = new Client({ http3: true, tls: { ca: testCa().ca }, retry: false, connectTimeout: 5000 });
  try {
    const url = `https://127.0.0.1:${port}/x`;
    const first = await client.get(url);
    assert.equal(await first.text(), 'tcp /x');
    const second = await client.get(url);
    assert.notEqual(second.httpVersion, '3');
    assert.equal(await second.text(), 'tcp /x');
    assert.equal(client.stats().created, 2, 'an h3 connection was attempted besides the TCP one');
    // RFC 7838 §2.4: the alternative was forgotten, so no new attempt.
    const third = await client.get(url);
    assert.notEqual(third.httpVersion, '3');
    await third.dump();
    assert.equal(client.stats().created, 2, 'no second h3 attempt');
  } finally {
    await client.close();
    server.close();
  }
});

test('a server that never answers the handshake fails with ConnectTimeoutError', {
  timeout: 60_000,
}, async (t) => {
  if (!requirePeer(t, 'gtlsserver')) return;
  // A UDP socket that swallows every datagram: no ICMP error, no QUIC answer.
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  const client = h3Client({ connectTimeout: 500 });
  try {
    await assert.rejects(
      client.get(`https://127.0.0.1:${sink.address().port}/small.txt`),
      (err: unknown) => err instanceof ConnectTimeoutError,
    );
  } finally {
    client.destroy();
    sink.close();
  }
});
