/**
 * Unit tests of the client's request-head encoding (RFC 9112 §3, RFC 9110 §7.2 Host first,
 * §8.6 Content-Length, RFC 9112 §6.1 chunked) and of the `Keep-Alive: timeout` hint parser.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import test from 'node:test';
import { keepAliveTimeoutHint } from '../../src/client/h1-client-connection.js';
import { encodeRequestHead, HeadFlags, type RequestHeadInfo } from '../../src/client/h1-request-head.js';
import { normalizeRequestBody, RequestBody } from '../../src/client/request-body.js';
import { Headers } from '../../src/core/headers.js';

const info: RequestHeadInfo = { flags: 0 };

test('GET without body: request line, host first, no framing fields', () => {
  const head = encodeRequestHead(
    'GET',
    '/a?b',
    'example.com:8080',
    new Headers({ Accept: '*/*' }),
    null,
    '',
    info,
  );
  assert.equal(head, 'GET /a?b HTTP/1.1\r\nhost: example.com:8080\r\nAccept: */*\r\n\r\n');
  assert.equal(info.flags, 0);
});

test('bodies: content-length for known lengths, chunked for streams, content-length: 0 for bodiless POST', () => {
  const known = encodeRequestHead('POST', '/', 'h', new Headers(), normalizeRequestBody('héllo'), '', info);
  assert.equal(
    known,
    'POST / HTTP/1.1\r\nhost: h\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: 6\r\n\r\n',
  );
  const stream = encodeRequestHead(
    'PUT',
    '/',
    'h',
    new Headers(),
    normalizeRequestBody(Readable.from(['x'])),
    '',
    info,
  );
  assert.equal(stream, 'PUT / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n');
  assert.equal(
    encodeRequestHead('POST', '/', 'h', new Headers(), null, '', info),
    'POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n',
  );
  assert.equal(
    encodeRequestHead('DELETE', '/', 'h', new Headers(), null, '', info),
    'DELETE / HTTP/1.1\r\nhost: h\r\n\r\n',
  );
});

test('caller framing fields are dropped, Host and Content-Type kept, Connection: close noticed', () => {
  const headers = new Headers([
    ['HOST', 'other'],
    ['Content-Length', '99'],
    ['Transfer-Encoding', 'chunked'],
    ['Content-Type', 'text/x'],
    ['Connection', 'Close'],
  ]);
  const head = encodeRequestHead(
    'POST',
    '/',
    'h',
    headers,
    RequestBody.fromBytes(Buffer.from('ab'), 'text/plain'),
    'proxy-authorization: Basic x\r\n',
    info,
  );
  assert.equal(
    head,
    'POST / HTTP/1.1\r\nHOST: other\r\nContent-Type: text/x\r\nConnection: Close\r\ncontent-length: 2\r\nproxy-authorization: Basic x\r\n\r\n',
  );
  assert.equal(info.flags & HeadFlags.ConnectionClose, HeadFlags.ConnectionClose);
});

test('one-shot bodies refuse a second open; bytes and FormData replay', async () => {
  const once = normalizeRequestBody(Readable.from(['a']))!;
  assert.equal(once.reusable, false);
  once.open();
  assert.equal(once.replayable, false);
  assert.throws(() => once.open(), { code: 'AVX_CLIENT_INVALID_REQUEST' });
  const fd = new FormData();
  fd.append('k', 'v');
  const form = normalizeRequestBody(fd)!;
  const read = async () => {
    const parts: Buffer[] = [];
    for await (const p of form.open()) parts.push(Buffer.from(p as Uint8Array));
    return Buffer.concat(parts);
  };
  const a = await read();
  const b = await read();
  assert.equal(a.length, form.length);
  assert.deepEqual(a, b);
});

test('keepAliveTimeoutHint', () => {
  assert.equal(keepAliveTimeoutHint('timeout=5'), 5000);
  assert.equal(keepAliveTimeoutHint('max=100, Timeout=30'), 30_000);
  assert.equal(keepAliveTimeoutHint('max=100'), -1);
  assert.equal(keepAliveTimeoutHint('timeout=abc'), -1);
  assert.equal(keepAliveTimeoutHint('timeout=99999999999'), -1);
});
