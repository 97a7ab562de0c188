import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { App } from '../../src/server/app.js';
import { testCa } from '../test-ca.js';

const AVX = fileURLToPath(new URL('../../src/cli/avx.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `avx get ...args`, with `input` on stdin. */
function avxGet(args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [AVX, 'get', ...args],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin!.end(input);
  });
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A node:http origin (a peer, not ours) with a few routes; records every request. */
async function origin() {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url === '/hello') {
        res.setHeader('x-origin', 'node');
        res.end('hello from node');
      } else if (req.url === '/gzip') {
        res.setHeader('content-encoding', 'gzip');
        res.end(gzipSync('decoded text'));
      } else if (req.url === '/moved') {
        res.statusCode = 302;
        res.setHeader('location', '/hello');
        res.end('moved');
      } else if (req.url === '/hold') {
        // Never answers: the client's timeout must end it.
      } else if (req.url!.startsWith('/echo')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString() }));
      } else {
        res.statusCode = 404;
        res.end('no such thing');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('avx get prints the body; -i adds the status line and fields; -I sends HEAD', async () => {
  const o = await origin();
  try {
    const plain = await avxGet([`${o.url}/hello`]);
    assert.deepEqual([plain.code, plain.stdout], [0, 'hello from node']);
    const included = await avxGet(['-i', `${o.url}/hello`]);
    assert.equal(included.code, 0);
    assert.match(included.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(included.stdout, /\nx-origin: node\n/i);
    assert.ok(included.stdout.endsWith('\n\nhello from node'));
    const head = await avxGet(['-I', `${o.url}/hello`]);
    assert.equal(head.code, 0);
    assert.match(head.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.ok(!head.stdout.includes('hello from node'));
    assert.equal(o.seen.at(-1)!.method, 'HEAD');
  } finally {
    await o.close();
  }
});

test('avx get sends -X, -H and -d (text, @file, @-), and --json with its fields', async () => {
  const o = await origin();
  const dir = mkdtempSync(join(tmpdir(), 'avx-get-'));
  const file = join(dir, 'body.txt');
  writeFileSync(file, 'from a file');
  try {
    const put = await avxGet(['-X', 'PUT', '-H', 'X-Trace:  abc ', '-d', 'a=1&b=2', `${o.url}/echo`]);
    assert.equal(put.code, 0);
    assert.deepEqual(JSON.parse(put.stdout), { method: 'PUT', body: 'a=1&b=2' });
    assert.equal(o.seen.at(-1)!.headers['x-trace'], 'abc');
    assert.equal(o.seen.at(-1)!.headers['content-type'], 'application/x-www-form-urlencoded');
    await avxGet(['-d', `@${file}`, `${o.url}/echo`]);
    assert.deepEqual([o.seen.at(-1)!.method, o.seen.at(-1)!.body], ['POST', 'from a file']);
    await avxGet(['-d', '@-', `${o.url}/echo`], 'from stdin');
    assert.equal(o.seen.at(-1)!.body, 'from stdin');
    const json = await avxGet(['--json', '{"city":"Lima"}', `${o.url}/echo`]);
    assert.equal(json.code, 0);
    const seen = o.seen.at(-1)!;
    assert.deepEqual(
      [seen.method, seen.body, seen.headers['content-type'], seen.headers.accept],
      ['POST', '{"city":"Lima"}', 'application/json', 'application/json'],
    );
  } finally {
    await o.close();
  }
});

test('avx get exit statuses: 22 with --fail on 404, 7 when refused, 28 on timeout, 2 on bad usage', async () => {
  const o = await origin();
  try {
    const notFound = await avxGet([`${o.url}/missing`]);
    assert.deepEqual(
      [notFound.code, notFound.stdout],
      [0, 'no such thing'],
      'without --fail a 404 is a response',
    );
    const failed = await avxGet(['-f', `${o.url}/missing`]);
    assert.equal(failed.code, 22);
    assert.equal(failed.stdout, '');
    const timedOut = await avxGet(['--timeout', '300', `${o.url}/hold`]);
    assert.equal(timedOut.code, 28);
    assert.match(timedOut.stderr, /^avx: AVX_CLIENT_[A-Z_]*TIMEOUT: /);
  } finally {
    await o.close();
  }
  const refused = await avxGet([o.url]);
  assert.equal(refused.code, 7);
  assert.match(refused.stderr, /AVX_CLIENT_CONNECT_FAILED/);
  for (const args of [
    [],
    ['not a url'],
    ['ftp://x/'],
    ['--nope', 'http://x/'],
    ['-H', 'novalue', 'http://x/'],
    ['--timeout', '-1', 'http://x/'],
  ]) {
    const bad = await avxGet(args);
    assert.equal(bad.code, 2, `usage error for ${JSON.stringify(args)}`);
    assert.match(bad.stderr, /avx get <url> \[options\]/);
  }
});

test('avx get follows redirects unless --no-location, decodes gzip unless --raw, and -o writes a file', async () => {
  const o = await origin();
  const out = join(mkdtempSync(join(tmpdir(), 'avx-get-')), 'out.bin');
  try {
    assert.equal((await avxGet([`${o.url}/moved`])).stdout, 'hello from node');
    const manual = await avxGet(['-i', '--no-location', `${o.url}/moved`]);
    assert.match(manual.stdout, /^HTTP\/1\.1 302 Found\n/);
    assert.ok(manual.stdout.endsWith('moved'));
    assert.equal((await avxGet([`${o.url}/gzip`])).stdout, 'decoded text');
    const raw = await avxGet(['--raw', '-o', out, `${o.url}/gzip`]);
    assert.equal(raw.code, 0);
    assert.deepEqual(readFileSync(out), gzipSync('decoded text'));
  } finally {
    await o.close();
  }
});

test('avx get --http2 talks h2c (prior knowledge) to a node:http2 server', async () => {
  const server = http2.createServer((req, res) => res.end(`h2 ${req.httpVersion}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const run = await avxGet([
      '-i',
      '--http2',
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    ]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^HTTP\/2 200\n/);
    assert.ok(run.stdout.endsWith('h2 2.0'));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('avx get --aws-sigv4 signs with the AWS_* credentials of the environment', async () => {
  const o = await origin();
  try {
    const run = await avxGet(['--aws-sigv4', 'sa-east-1:s3', `${o.url}/hello`], '', {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    assert.equal(run.code, 0);
    const h = o.seen.at(-1)!.headers;
    assert.match(
      h.authorization!,
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/sa-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    const missing = await avxGet(['--aws-sigv4', 'sa-east-1:s3', `${o.url}/hello`], '', {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /AVX_SIGV4_NO_CREDENTIALS/);
  } finally {
    await o.close();
  }
});

test('avx get --http3 --cacert talks HTTP/3 to our server; --http3 refuses -k and http: URLs', async () => {
  const ca = testCa();
  const caFile = join(mkdtempSync(join(tmpdir(), 'avx-get-')), 'ca.pem');
  writeFileSync(caFile, ca.ca);
  const app = new App();
  app.get('/hello', (req) => `hello over ${req.protocol}`);
  const server = await app.listen({
    port: 0,
    host: '127.0.0.1',
    tls: { cert: ca.cert, key: ca.key },
    http3: true,
  });
  try {
    const run = await avxGet(['-i', '--http3', '--cacert', caFile, `${server.url}/hello`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^HTTP\/3 200\n/);
    assert.ok(run.stdout.endsWith('hello over h3'));
    const tcp = await avxGet(['--cacert', caFile, `${server.url}/hello`]);
    assert.equal(tcp.stdout, 'hello over h2', 'without --http3: TCP, h2 by ALPN');
    assert.equal((await avxGet(['--http3', '-k', `${server.url}/hello`])).code, 2);
    assert.equal((await avxGet(['--http3', 'http://127.0.0.1:1/'])).code, 2);
  } finally {
    await server.close();
  }
});

test('avx serve --http3 --workers 1 serves the demo over HTTP/3 to avx get --http3; --http3 alone is a usage error', async () => {
  const ca = testCa();
  const dir = mkdtempSync(join(tmpdir(), 'avx-serve-h3-'));
  for (const [name, data] of [
    ['cert.pem', ca.cert],
    ['key.pem', ca.key],
    ['ca.pem', ca.ca],
  ] as const) {
    writeFileSync(join(dir, name), data);
  }
  const serveArgs = [
    'serve',
    '--workers',
    '1',
    '--port',
    '0',
    '--tls-cert',
    join(dir, 'cert.pem'),
    '--tls-key',
    join(dir, 'key.pem'),
    '--http3',
  ];
  const child = spawn(process.execPath, [AVX, ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /serving the demo on (https:\/\/\S+) \(HTTP\/3 too/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`avx serve exited with ${code}`)));
    });
    const run = await avxGet(['-i', '--http3', '--cacert', join(dir, 'ca.pem'), `${url}/health`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^HTTP\/3 200\n/);
    assert.equal((JSON.parse(run.stdout.slice(run.stdout.indexOf('\n\n') + 2)) as { ok: boolean }).ok, true);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const noTls = await new Promise<number | null>((resolve) => {
    const c = spawn(process.execPath, [AVX, 'serve', '--workers', '1', '--http3'], { stdio: 'ignore' });
    c.once('exit', resolve);
  });
  assert.equal(noTls, 2);
});
