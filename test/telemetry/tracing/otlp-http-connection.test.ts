import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { type ChunkedBody, ChunkedBodyWriter } from '../../../src/h1/chunked-body-writer.js';
import { OtlpExportError } from '../../../src/telemetry/tracing/otlp-export-error.js';
import { type OtlpAnswer, OtlpHttpConnection } from '../../../src/telemetry/tracing/otlp-http-connection.js';

type Action = 'ok-chunked' | '503' | 'drop' | 'ok-close' | 'ok' | 'silent';

/**
 * The chunked body (RFC 9112 §7.1) starting at `at` of `bytes`, without extensions or trailers,
 * and where it ends; undefined while incomplete.
 */
function dechunk(bytes: Buffer, at: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(bytes.toString('latin1', at, lineEnd), 16);
    assert.ok(Number.isInteger(size), 'a chunk-size line');
    if (size === 0) {
      if (bytes.length < lineEnd + 4) return undefined;
      assert.equal(bytes.toString('latin1', lineEnd + 2, lineEnd + 4), '\r\n');
      return { body: Buffer.concat(parts), end: lineEnd + 4 };
    }
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    assert.equal(bytes.toString('latin1', lineEnd + 2 + size, lineEnd + 4 + size), '\r\n');
    at = lineEnd + 4 + size;
  }
}

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
        let body: Buffer;
        if (/\r\ntransfer-encoding: chunked/i.test(head)) {
          const decoded = dechunk(pending, end + 4);
          if (decoded === undefined) return;
          body = decoded.body;
          pending = pending.subarray(decoded.end);
        } else {
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
          if (pending.length < end + 4 + length) return;
          body = pending.subarray(end + 4, end + 4 + length);
          pending = pending.subarray(end + 4 + length);
        }
        received.push({ head, body: body.toString('utf8'), connection });
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
  const outcome = (p: Promise<OtlpAnswer>) =>
    p.then(
      (answer) => `ok ${answer.contentType ?? '-'} ${answer.body.toString()}`,
      (e: OtlpExportError) => {
        assert.ok(e instanceof OtlpExportError);
        return `${e.status} ${e.retryable} ${e.retryAfter ?? '-'}`;
      },
    );
  try {
    // Queued together: sent one after another on the same connection.
    const first = [outcome(conn.post(Buffer.from('{"a":1}'))), outcome(conn.post(Buffer.from('{"b":"é"}')))];
    // Each answer's body and media type come back with it (a partial success is read there).
    assert.deepEqual(await Promise.all(first), ['ok - {}', '503 true 2000']);
    assert.equal(await outcome(conn.post(Buffer.from('{"c":3}'))), '0 true -');
    assert.equal(await outcome(conn.post(Buffer.from('{"d":4}'))), 'ok - ');
    assert.equal(await outcome(conn.post(Buffer.from('{"e":5}'))), 'ok application/json {}');
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

/** A body of `pieces`, each its own chunk; throws instead of piece `failAt`, if given. */
function piecesBody(pieces: string[], failAt = -1): ChunkedBody {
  const { DATA_START } = ChunkedBodyWriter;
  return {
    writeTo(w) {
      for (let i = 0; i < pieces.length; i++) {
        if (i === failAt) throw new Error('encoder bug');
        w.send(DATA_START + w.buf.write(pieces[i]!, DATA_START));
      }
      w.end(DATA_START);
    },
  };
}

test('a body produced as it is sent goes out chunked, from a small reused buffer, and arrives whole', async () => {
  const c = await collector(['ok', 'ok']);
  const conn = new OtlpHttpConnection(c.url, {}, 1000, 'application/json', 64);
  try {
    const pieces = Array.from({ length: 40 }, (_, i) => `{"piece":${i},"text":"${'é'.repeat(i % 7)}"}`);
    await conn.post(piecesBody(pieces));
    // The same body object again (as a retry sends it): produced again, the same bytes.
    const body = piecesBody(['[1,', '2]']);
    await conn.post(body);
    assert.equal(c.received[0]!.body, pieces.join(''));
    assert.equal(c.received[1]!.body, '[1,2]');
    const head = c.received[0]!.head;
    assert.match(head, /\r\ntransfer-encoding: chunked$/);
    assert.doesNotMatch(head, /content-length/i);
    assert.match(head, /\r\ncontent-type: application\/json\r\n/);
    assert.equal(c.connections(), 1);
  } finally {
    conn.close();
    await c.close();
  }
});

test('a body that fails part way fails its POST, not retryable, and the next POST goes on a new connection', async () => {
  const c = await collector(['ok']);
  const conn = new OtlpHttpConnection(c.url, {}, 1000);
  try {
    const err = await conn.post(piecesBody(['{"a":', '1}'], 1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OtlpExportError);
    assert.equal(err.code, 'AVX_OTLP_EXPORT_FAILED');
    assert.equal(err.retryable, false);
    assert.equal((err.cause as Error).message, 'encoder bug');
    // The half-sent message is abandoned with its socket: the collector never sees it.
    await conn.post(piecesBody(['{"b":', '2}']));
    assert.deepEqual(
      c.received.map((r) => [r.body, r.connection]),
      [['{"b":2}', 2]],
    );
  } finally {
    conn.close();
    await c.close();
  }
});
