// Tests for src/h1/chunked-encoder.ts: chunk framing (RFC 9112 §7.1), the last-chunk and
// trailer section (RFC 9112 §7.1.2, RFC 9110 §6.5), and refusal of injection.
import assert from 'node:assert/strict';
import test from 'node:test';
import { AvxError, InvalidHeaderError } from '../../src/core/errors.js';
import { Headers } from '../../src/core/headers.js';
import { ChunkedEncoder } from '../../src/h1/chunked-encoder.js';

function joined(parts: Buffer[]): string {
  return Buffer.concat(parts).toString('latin1');
}

test('encode frames a Buffer without copying it', () => {
  const data = Buffer.from('hello');
  const parts = new ChunkedEncoder().encode(data);
  assert.equal(parts.length, 3);
  assert.equal(parts[0]!.toString('latin1'), '5\r\n');
  assert.equal(parts[1], data, 'the caller Buffer itself is returned');
  assert.equal(parts[2]!.toString('latin1'), '\r\n');
  assert.equal(joined(parts), '5\r\nhello\r\n');
});

test('a Uint8Array is wrapped over the same memory', () => {
  const backing = new Uint8Array([0x78, 0x61, 0x62, 0x63, 0x79]);
  const view = backing.subarray(1, 4);
  const parts = new ChunkedEncoder().encode(view);
  assert.equal(joined(parts), '3\r\nabc\r\n');
  backing[2] = 0x5a; // shared memory: the change shows through
  assert.equal(parts[1]!.toString('latin1'), 'aZc');
});

test('chunk sizes are lowercase hex of the byte length', () => {
  const enc = new ChunkedEncoder();
  const cases: Array<[number, string]> = [
    [1, '1'],
    [9, '9'],
    [10, 'a'],
    [15, 'f'],
    [16, '10'],
    [255, 'ff'],
    [256, '100'],
    [4096, '1000'],
    [65535, 'ffff'],
    [1048576, '100000'],
  ];
  for (const [size, hex] of cases) {
    const parts = enc.encode(Buffer.alloc(size, 0x61));
    assert.equal(parts[0]!.toString('latin1'), `${hex}\r\n`, `size ${size}`);
    assert.equal(parts[1]!.length, size);
  }
});

test('strings are encoded as UTF-8 and sized in bytes, not characters', () => {
  const parts = new ChunkedEncoder().encode('h\u00e9\u2603');
  // 'h' 1 byte + 'é' 2 bytes + '☃' 3 bytes = 6
  assert.equal(parts[0]!.toString('latin1'), '6\r\n');
  assert.deepEqual([...parts[1]!], [0x68, 0xc3, 0xa9, 0xe2, 0x98, 0x83]);
});

test('empty input produces nothing (a zero-size chunk would end the body)', () => {
  const enc = new ChunkedEncoder();
  assert.deepEqual(enc.encode(Buffer.alloc(0)), []);
  assert.deepEqual(enc.encode(''), []);
  assert.deepEqual(enc.encode(new Uint8Array(0)), []);
  assert.equal(enc.ended, false);
});

test('a full body: chunks then the last-chunk', () => {
  const enc = new ChunkedEncoder();
  const out = [
    ...enc.encode('Wiki'),
    ...enc.encode('pedia '),
    ...enc.encode('in \r\n\r\nchunks.'),
    enc.end(),
  ];
  assert.equal(joined(out), '4\r\nWiki\r\n6\r\npedia \r\ne\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n');
  assert.equal(enc.ended, true);
});

test('end without trailers, with empty trailers', () => {
  assert.equal(new ChunkedEncoder().end().toString('latin1'), '0\r\n\r\n');
  assert.equal(new ChunkedEncoder().end([]).toString('latin1'), '0\r\n\r\n');
  assert.equal(new ChunkedEncoder().end(new Headers()).toString('latin1'), '0\r\n\r\n');
});

test('end with trailers from a Headers instance and from a flat array', () => {
  const trailers = new Headers([
    ['Server-Timing', 'db;dur=53'],
    ['X-Checksum', 'abc123'],
  ]);
  assert.equal(
    new ChunkedEncoder().end(trailers).toString('latin1'),
    '0\r\nServer-Timing: db;dur=53\r\nX-Checksum: abc123\r\n\r\n',
  );
  assert.equal(
    new ChunkedEncoder().end(['Digest', ' sha-256=abc ', 'grpc-status', '0']).toString('latin1'),
    '0\r\nDigest: sha-256=abc\r\ngrpc-status: 0\r\n\r\n',
  );
});

test('trailer injection attempts are rejected', () => {
  const enc = new ChunkedEncoder();
  assert.throws(
    () => enc.end(['X', 'v\r\n\r\nHTTP/1.1 200 OK']),
    (err: unknown) => err instanceof InvalidHeaderError && err.code === 'AVX_INVALID_HEADER_VALUE',
  );
  assert.throws(
    () => enc.end(['X: y\r\nZ', 'v']),
    (err: unknown) => err instanceof InvalidHeaderError && err.code === 'AVX_INVALID_HEADER_NAME',
  );
  assert.throws(
    () => enc.end(['X', 'v', 'Y']),
    (err: unknown) => err instanceof AvxError && err.code === 'AVX_INVALID_HEADERS',
  );
  // Nothing ended: the encoder still works.
  assert.equal(enc.ended, false);
  assert.equal(joined(enc.encode('ok')), '2\r\nok\r\n');
  assert.equal(enc.end().toString('latin1'), '0\r\n\r\n');
});

test('fields that must not be trailers are rejected (RFC 9110 §6.5.1)', () => {
  for (const name of [
    'Content-Length',
    'transfer-encoding',
    'Trailer',
    'HOST',
    'Connection',
    'Content-Type',
    'Authorization',
  ]) {
    assert.throws(
      () => new ChunkedEncoder().end([name, 'x']),
      (err: unknown) =>
        err instanceof InvalidHeaderError && err.code === 'AVX_INVALID_HEADER_NAME' && err.header === name,
      name,
    );
    assert.throws(() => new ChunkedEncoder().end(new Headers([[name, 'x']])), InvalidHeaderError, name);
  }
});

test('nothing may follow the last-chunk', () => {
  const enc = new ChunkedEncoder();
  enc.end();
  const ended = (err: unknown) => err instanceof AvxError && err.code === 'AVX_CHUNKED_ENDED';
  assert.throws(() => enc.encode('late'), ended);
  assert.throws(() => enc.encode(''), ended);
  assert.throws(() => enc.end(), ended);
  assert.throws(() => enc.end(['X', 'v']), ended);
});
