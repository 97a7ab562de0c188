import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../src/client/client.js';
import { freePort } from '../free-port.js';
import { hasPeer } from '../peers.js';
import { testCa } from '../test-ca.js';

const skip =
  hasPeer('nginx') || process.env.CI === 'true'
    ? false
    : 'nginx is not installed (scripts/install-peers.mjs installs it)';

describe('client against Debian nginx as the origin', { skip }, () => {
  let dir: string;
  let nginx: ChildProcess;
  let httpPort: number;
  let httpsPort: number;
  const big = 'The quick brown fox jumps over the lazy dog.\n'.repeat(2000);

  before(async () => {
    if (!hasPeer('nginx')) throw new Error('nginx is required under CI=true');
    dir = mkdtempSync(join(tmpdir(), 'avx-nginx-'));
    chmodSync(dir, 0o755); // nginx's workers run as an unprivileged user
    httpPort = await freePort();
    httpsPort = await freePort();
    const { cert, key } = testCa();
    writeFileSync(join(dir, 'server.pem'), cert);
    writeFileSync(join(dir, 'server.key'), key);
    writeFileSync(join(dir, 'hello.txt'), 'hello from nginx\n');
    writeFileSync(join(dir, 'big.txt'), big);
    const temp = (name: string) => `${name} ${join(dir, name)};`;
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')}
  ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}
  default_type text/plain;
  keepalive_timeout 30s;
  gzip on; gzip_types text/plain; gzip_min_length 1000;
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${join(dir, 'server.pem')};
    ssl_certificate_key ${join(dir, 'server.key')};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${dir};
    location = /redirect { return 301 /hello.txt; }
    location = /echo { client_max_body_size 1m; return 200 "posted\\n"; }
  }
}
`,
    );
    nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`http://127.0.0.1:${httpPort}/hello.txt`);
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('nginx did not start');
  });

  after(async () => {
    nginx?.kill('SIGTERM');
    await sleep(100);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('HTTP: GET, keep-alive reuse, redirect and gzip decompression', async () => {
    const client = new Client();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await client.request({ method: 'GET', url: `http://127.0.0.1:${httpPort}/hello.txt` });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('server')?.startsWith('nginx'), true);
        assert.equal(await res.text(), 'hello from nginx\n');
      }
      const redirected = await client.request({
        method: 'GET',
        url: `http://127.0.0.1:${httpPort}/redirect`,
      });
      assert.equal(await redirected.text(), 'hello from nginx\n');
      const gz = await client.request({ method: 'GET', url: `http://127.0.0.1:${httpPort}/big.txt` });
      assert.equal(await gz.text(), big);
      const posted = await client.request({
        method: 'POST',
        url: `http://127.0.0.1:${httpPort}/echo`,
        body: 'x'.repeat(5000),
      });
      assert.equal(await posted.text(), 'posted\n');
      assert.ok(client.stats().reused >= 3, `connections were reused: ${JSON.stringify(client.stats())}`);
    } finally {
      await client.close();
    }
  });

  test('HTTPS with a test CA: verified with the CA, refused without it', async () => {
    const { ca } = testCa();
    const trusted = new Client({ tls: { ca } });
    try {
      const res = await trusted.request({ method: 'GET', url: `https://localhost:${httpsPort}/hello.txt` });
      assert.equal(await res.text(), 'hello from nginx\n');
    } finally {
      await trusted.close();
    }
    const untrusted = new Client();
    try {
      await assert.rejects(
        untrusted.request({ method: 'GET', url: `https://localhost:${httpsPort}/hello.txt` }),
      );
    } finally {
      await untrusted.close();
    }
  });
});
