/**
 * The HTTP/1.1 server's Host rules, RFC 9112 §3.2: "A server MUST respond with a 400 (Bad
 * Request) status code to any HTTP/1.1 request message that lacks a Host header field and to
 * any request message that contains more than one Host header field line or a Host header
 * field with an invalid field value." Regression tests: the server used to answer 200.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { App } from '../../src/server/app.js';
import type { Server } from '../../src/server/server.js';
import { rawExchange, statusCodes } from './server-test-kit.js';

describe('HTTP/1.1 server Host field (RFC 9112 §3.2)', () => {
  let server: Server;
  let lenient: Server;
  /** Requests that reached the handler, by path. */
  const served: string[] = [];
  const app = new App();
  app.get('/', (req) => {
    served.push(req.path);
    return `host=${req.host}`;
  });
  app.get('/next', (req) => {
    served.push(req.path);
    return 'next';
  });

  before(async () => {
    server = await app.listen({ port: 0 });
    lenient = await app.listen({ port: 0, requireHostHeader: false });
  });
  after(async () => {
    await server.close();
    await lenient.close();
  });

  /** The status codes of the responses to `input`, which must end with the connection closed. */
  async function statuses(port: number, input: string): Promise<{ codes: number[]; raw: string }> {
    const raw = await rawExchange(port, input);
    return { codes: statusCodes(raw), raw };
  }

  test('an HTTP/1.1 request without Host gets 400 and the connection closes', async () => {
    served.length = 0;
    // The request pipelined behind it is not served: the connection stops at the bad head.
    const { codes, raw } = await statuses(
      server.port,
      'GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.deepEqual(codes, [400]);
    assert.match(raw, /Connection: close\r\n/i);
    assert.match(raw, /must have a Host header field/);
    assert.deepEqual(served, []);
  });

  test('a request with two Host field lines gets 400, over HTTP/1.1 and HTTP/1.0', async () => {
    served.length = 0;
    for (const input of [
      'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n',
      'GET / HTTP/1.0\r\nhost: a\r\nHOST: b\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nHost: b\r\n\r\nok',
    ]) {
      const { codes, raw } = await statuses(server.port, input);
      assert.deepEqual(codes, [400], JSON.stringify(input));
      assert.match(raw, /Connection: close\r\n/i);
    }
    // Turning off the missing-Host check does not admit duplicates.
    assert.deepEqual(
      (await statuses(lenient.port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')).codes,
      [400],
    );
    assert.deepEqual(served, []);
  });

  test('a Host value that is not uri-host [ ":" port ] gets 400 (RFC 9110 §7.2)', async () => {
    for (const value of ['a b', 'a/b', 'a?b', 'a#b', 'user@a', 'a\\b', '"a"', 'h\u00e9.example']) {
      const input = Buffer.concat([
        Buffer.from('GET / HTTP/1.1\r\nHost: '),
        Buffer.from(value, 'latin1'),
        Buffer.from('\r\n\r\n'),
      ]);
      const raw = await rawExchange(server.port, input);
      assert.deepEqual(statusCodes(raw), [400], JSON.stringify(value));
    }
  });

  test('one Host field line is served, in any spelling and any valid form', async () => {
    for (const [line, host] of [
      ['Host: x', 'x'],
      ['host: a.example:8080', 'a.example:8080'],
      ['hOsT: 127.0.0.1', '127.0.0.1'],
      ['HOST: [::1]:443', '[::1]:443'],
      ['Host: xn--h-9fa.example', 'xn--h-9fa.example'],
      ['Host: a%2Db.example', 'a%2Db.example'],
      // RFC 9112 §3.2: a target without an authority is sent with an empty Host.
      ['Host:', ''],
    ]) {
      const raw = await rawExchange(server.port, `GET / HTTP/1.1\r\n${line}\r\nConnection: close\r\n\r\n`);
      assert.deepEqual(statusCodes(raw), [200], line);
      assert.ok(raw.endsWith(`host=${host}`), raw);
    }
  });

  test('an HTTP/1.0 request without Host is served', async () => {
    const { codes, raw } = await statuses(server.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.deepEqual(codes, [200]);
    assert.ok(raw.endsWith('host='), raw);
  });

  test('requireHostHeader: false serves an HTTP/1.1 request without Host', async () => {
    const { codes } = await statuses(
      lenient.port,
      'GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(codes, [200, 200]);
  });
});
