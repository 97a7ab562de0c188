// Tests for src/h1/h1-serializer.ts: exact bytes of request and response heads
// (RFC 9112 §3, §4, §5) and refusal of every input that could inject a line.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  AvxError,
  InvalidHeaderError,
  InvalidMethodError,
  InvalidStatusError,
} from '../../src/core/errors.js';
import { Headers } from '../../src/core/headers.js';
import { REGISTERED_STATUS_CODES, reasonPhrase } from '../../src/core/status.js';
import {
  serializeFieldLines,
  serializeRequestHead,
  serializeResponseHead,
} from '../../src/h1/h1-serializer.js';

function text(buf: Buffer): string {
  return buf.toString('latin1');
}

function assertCode(fn: () => unknown, errorClass: new (...args: never[]) => AvxError, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

test('request head from a Headers instance: exact bytes', () => {
  const h = new Headers([
    ['Host', 'example.com'],
    ['Accept', '*/*'],
    ['accept', 'text/plain'],
  ]);
  const buf = serializeRequestHead('GET', '/index.html?q=1', h);
  assert.ok(Buffer.isBuffer(buf));
  assert.equal(
    text(buf),
    'GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\naccept: text/plain\r\n\r\n',
  );
});

test('request head from a flat array, with every target form (RFC 9112 §3.2)', () => {
  assert.equal(
    text(serializeRequestHead('POST', '/submit', ['Host', 'a', 'Content-Length', '3'])),
    'POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n',
  );
  assert.equal(text(serializeRequestHead('OPTIONS', '*', [])), 'OPTIONS * HTTP/1.1\r\n\r\n');
  assert.equal(
    text(serializeRequestHead('CONNECT', 'example.com:443', ['Host', 'example.com:443'])),
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
  );
  assert.equal(
    text(serializeRequestHead('GET', 'http://example.com/a%20b', [])),
    'GET http://example.com/a%20b HTTP/1.1\r\n\r\n',
  );
});

test('flat values are trimmed like Headers values', () => {
  assert.equal(text(serializeRequestHead('GET', '/', ['X-A', '  v \t'])), 'GET / HTTP/1.1\r\nX-A: v\r\n\r\n');
});

test('obs-text in values is written as single Latin-1 bytes', () => {
  const buf = serializeResponseHead(200, ['X-Name', 'caf\u00e9']);
  assert.deepEqual([...buf.subarray(buf.length - 7, buf.length - 4)], [0x61, 0x66, 0xe9]);
});

test('invalid methods are rejected', () => {
  for (const method of ['', 'GET /evil HTTP/1.1\r\n', 'G ET', 'GET\0', 'G\u00c9T']) {
    assertCode(() => serializeRequestHead(method, '/', []), InvalidMethodError, 'AVX_INVALID_METHOD');
  }
  // Any token is accepted, case kept (methods are case-sensitive, RFC 9110 §9.1).
  assert.equal(text(serializeRequestHead('brew', '/pot', [])), 'brew /pot HTTP/1.1\r\n\r\n');
});

test('invalid request-targets are rejected', () => {
  const bad = [
    '',
    '/a b',
    '/a\tb',
    '/\r\nX-Injected: 1',
    '/ HTTP/1.1\r\nHost: evil\r\n\r\nGET /',
    '/a\nb',
    '/a\0',
    '/a\x7f',
    '/\u2603',
  ];
  for (const target of bad) {
    assertCode(() => serializeRequestHead('GET', target, []), AvxError, 'AVX_INVALID_TARGET');
  }
});

test('header injection through a flat array is rejected', () => {
  assertCode(
    () => serializeRequestHead('GET', '/', ['X', 'a\r\nInjected: 1']),
    InvalidHeaderError,
    'AVX_INVALID_HEADER_VALUE',
  );
  assertCode(
    () => serializeRequestHead('GET', '/', ['X-Evil: 1\r\nX', 'v']),
    InvalidHeaderError,
    'AVX_INVALID_HEADER_NAME',
  );
  assertCode(() => serializeResponseHead(200, ['X', 'v\0']), InvalidHeaderError, 'AVX_INVALID_HEADER_VALUE');
  assertCode(
    () => serializeResponseHead(200, ['Bad Name', 'v']),
    InvalidHeaderError,
    'AVX_INVALID_HEADER_NAME',
  );
  assertCode(() => serializeResponseHead(200, ['', 'v']), InvalidHeaderError, 'AVX_INVALID_HEADER_NAME');
  assertCode(() => serializeResponseHead(200, ['Name:', 'v']), InvalidHeaderError, 'AVX_INVALID_HEADER_NAME');
  assertCode(
    () => serializeResponseHead(200, ['X', '\u0100']),
    InvalidHeaderError,
    'AVX_INVALID_HEADER_VALUE',
  );
});

test('malformed field lists are rejected', () => {
  assertCode(() => serializeResponseHead(200, ['X', 'v', 'Y']), AvxError, 'AVX_INVALID_HEADERS');
  assertCode(
    () => serializeResponseHead(200, { X: 'v' } as unknown as string[]),
    AvxError,
    'AVX_INVALID_HEADERS',
  );
});

test('response head: exact bytes with the registry phrase', () => {
  const h = new Headers([
    ['Content-Type', 'text/plain'],
    ['Content-Length', '2'],
  ]);
  assert.equal(
    text(serializeResponseHead(200, h)),
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n',
  );
  assert.equal(text(serializeResponseHead(404, [])), 'HTTP/1.1 404 Not Found\r\n\r\n');
  assert.equal(text(serializeResponseHead(100, [])), 'HTTP/1.1 100 Continue\r\n\r\n');
  assert.equal(
    text(serializeResponseHead(101, ['Upgrade', 'websocket', 'Connection', 'Upgrade'])),
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  );
});

test('every registered code gets its status line', () => {
  for (const code of REGISTERED_STATUS_CODES) {
    assert.equal(text(serializeResponseHead(code, [])), `HTTP/1.1 ${code} ${reasonPhrase(code)}\r\n\r\n`);
  }
  assert.equal(text(serializeResponseHead(413, [])), 'HTTP/1.1 413 Content Too Large\r\n\r\n');
});

test('unregistered codes keep the SP before an empty reason (RFC 9112 §4)', () => {
  assert.equal(text(serializeResponseHead(299, [])), 'HTTP/1.1 299 \r\n\r\n');
  assert.equal(text(serializeResponseHead(418, [])), 'HTTP/1.1 418 \r\n\r\n');
  assert.equal(text(serializeResponseHead(999, [])), 'HTTP/1.1 999 \r\n\r\n');
});

test('a custom reason phrase replaces the registry phrase; empty is allowed', () => {
  assert.equal(text(serializeResponseHead(200, [], 'Fine')), 'HTTP/1.1 200 Fine\r\n\r\n');
  assert.equal(text(serializeResponseHead(200, [], '')), 'HTTP/1.1 200 \r\n\r\n');
  assert.equal(text(serializeResponseHead(418, [], "I'm a teapot")), "HTTP/1.1 418 I'm a teapot\r\n\r\n");
  assert.equal(
    text(serializeResponseHead(503, [], 'Back\tsoon \u00e9')),
    'HTTP/1.1 503 Back\tsoon \u00e9\r\n\r\n',
  );
});

test('reason phrases that could inject lines are rejected', () => {
  for (const reason of ['OK\r\nSet-Cookie: evil=1', 'OK\r', 'OK\n', 'O\0K', 'O\x01K', 'O\x7fK', '\u2603']) {
    assertCode(() => serializeResponseHead(200, [], reason), AvxError, 'AVX_INVALID_REASON');
  }
});

test('status codes outside 100..999 or non-integers are rejected', () => {
  for (const status of [0, 99, 1000, -200, 200.5, Number.NaN]) {
    assertCode(() => serializeResponseHead(status, []), InvalidStatusError, 'AVX_INVALID_STATUS');
    assertCode(() => serializeResponseHead(status, [], 'OK'), InvalidStatusError, 'AVX_INVALID_STATUS');
  }
});

test('a failed serialization produces no partial output and does not disturb later calls', () => {
  assert.throws(() => serializeResponseHead(200, ['X', 'a\nb']));
  assert.equal(text(serializeResponseHead(200, ['X', 'ok'])), 'HTTP/1.1 200 OK\r\nX: ok\r\n\r\n');
});

test('serializeFieldLines', () => {
  assert.equal(serializeFieldLines([]), '');
  assert.equal(serializeFieldLines(new Headers()), '');
  assert.equal(serializeFieldLines(['A', '1', 'a', '2']), 'A: 1\r\na: 2\r\n');
  assert.equal(
    serializeFieldLines(new Headers({ 'Set-Cookie': ['x=1', 'y=2'] })),
    'Set-Cookie: x=1\r\nSet-Cookie: y=2\r\n',
  );
});
