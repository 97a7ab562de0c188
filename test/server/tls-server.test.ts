import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { App } from '../../src/server/app.js';
import type { Server } from '../../src/server/server.js';
import { testCertificate } from '../tls-certificate.js';
import { curl } from './server-test-kit.js';

describe('HTTPS', () => {
  let server: Server;
  const app = new App();
  app.get('/', (req) => ({ secure: req.secure, url: req.fullUrl.href }));

  before(async () => {
    server = await app.listen({ port: 0, tls: testCertificate() });
  });
  after(() => server.close());

  test('curl over TLS 1.3 with ALPN http/1.1', async () => {
    const out = await curl([
      '-k',
      '--tlsv1.3',
      '--http1.1',
      '-w',
      '\\n%{http_version} %{ssl_verify_result}',
      `https://127.0.0.1:${server.port}/`,
    ]);
    const [body, version] = out.split('\n');
    assert.deepEqual(JSON.parse(body), { secure: true, url: `https://127.0.0.1:${server.port}/` });
    assert.match(version, /^1\.1 /);
  });

  test('TLS 1.3 is the default minimum: a TLS 1.2 client is refused', async () => {
    await assert.rejects(curl(['-k', '--tls-max', '1.2', `https://127.0.0.1:${server.port}/`]));
  });

  test('TLS 1.2 is opt-in', async () => {
    const legacy = await app.listen({ port: 0, tls: { ...testCertificate(), minVersion: 'TLSv1.2' } });
    try {
      const out = await curl(['-k', '--tls-max', '1.2', `https://127.0.0.1:${legacy.port}/`]);
      assert.equal(JSON.parse(out).secure, true);
    } finally {
      await legacy.close();
    }
  });

  test('ALPN offers h2 and http/1.1 (h2 preferred)', async () => {
    const protocol = await new Promise<string | false>((resolve, reject) => {
      const socket = connect(
        {
          host: '127.0.0.1',
          port: server.port,
          rejectUnauthorized: false,
          ALPNProtocols: ['h2', 'http/1.1'],
        },
        () => {
          resolve(socket.alpnProtocol ?? false);
          socket.destroy();
        },
      );
      socket.on('error', reject);
    });
    assert.equal(protocol, 'h2');
  });

  test('a failed handshake does not disturb the server', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: true }, () =>
        resolve(),
      );
      socket.on('error', () => resolve());
    });
    const out = await curl(['-k', `https://127.0.0.1:${server.port}/`]);
    assert.equal(JSON.parse(out).secure, true);
  });
});
