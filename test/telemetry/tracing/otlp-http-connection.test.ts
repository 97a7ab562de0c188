import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { OtlpExportError } from '../../../src/telemetry/tracing/otlp-export-error.js';
import { OtlpHttpConnection } from '../../../src/telemetry/tracing/otlp-http-connection.js';

type Action = 'ok-chunked' | '503' | 'drop' | 'ok-close' | 'ok' | 'silent';

/** A raw collector: answers each POST per the next action, and notes what it got. */
async function collector(actions: Action[]) {
  const received: { head: string; body: string; connection: number }[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = ++connections;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
        if (pending.length < end + 4 + length) return;
        received.push({ head, body: pending.toString('utf8', end + 4, end + 4 + length), connection });
        pending = pending.subarray(end + 4 + length);
        switch (actions.shift()) {
          case 'ok':
            socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
            break;
          case 'ok-chunked':
            socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
            break;
          case '503':
            socket.write(
              'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\ncontent-length: 4\r\n\r\nbusy',
            );
            break;
          case 'drop':
            socket.destroy();
            return;
          case 'ok-close':
            socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
            return;
          default:
            break; // silent
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/v1/traces`),
    received,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('the OTLP connection keeps one socket alive, reads chunked and sized answers, and reconnects after losses', async () => {
  const c = await collector(['ok-chunked', '503', 'drop', 'ok-close', 'ok', 'silent']);
  const conn = new OtlpHttpConnection(c.url, { authorization: 'Bearer t' }, 300);
  const outcome = (p: Promise<void>) =>
    p.then(
      () => 'ok',
      (e: OtlpExportError) => {
        assert.ok(e instanceof OtlpExportError);
        return `${e.status} ${e.retryable} ${e.retryAfter ?? '-'}`;
      },
    );
  try {
    // Queued together: sent one after another on the same connection.
    const first = [outcome(conn.post(Buffer.from('{"a":1}'))), outcome(conn.post(Buffer.from('{"b":"é"}')))];
    assert.deepEqual(await Promise.all(first), ['ok', '503 true 2000']);
    assert.equal(await outcome(conn.post(Buffer.from('{"c":3}'))), '0 true -');
    assert.equal(await outcome(conn.post(Buffer.from('{"d":4}'))), 'ok');
    assert.equal(await outcome(conn.post(Buffer.from('{"e":5}'))), 'ok');
    // No answer: the timeout fails the POST, retryable.
    assert.equal(await outcome(conn.post(Buffer.from('{"f":6}'))), '0 true -');
    assert.deepEqual(
      c.received.map((r) => [r.body, r.connection]),
      [
        ['{"a":1}', 1],
        ['{"b":"é"}', 1],
        ['{"c":3}', 1],
        ['{"d":4}', 2],
        ['{"e":5}', 3],
        ['{"f":6}', 3],
      ],
    );
    const head = c.received[0]!.head;
    assert.match(head, /^POST \/v1\/traces HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    assert.match(head, /\r\nauthorization: Bearer t\r\n/);
    assert.match(head, /\r\ncontent-type: application\/json\r\n/);
    assert.match(c.received[1]!.head, /\r\ncontent-length: 10$/);
  } finally {
    conn.close();
    await c.close();
  }
});

test('an unreachable collector fails the POST as retryable, and close() fails what waits', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const conn = new OtlpHttpConnection(new URL(`http://127.0.0.1:${port}/v1/traces`), {}, 1000);
  const err = await conn.post(Buffer.from('{}')).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof OtlpExportError);
  assert.equal(err.status, 0);
  assert.equal(err.retryable, true);
  conn.close();
});
