/**
 * Tests of the request id middleware: generated ids, reuse of safe incoming ids, rejection of
 * unsafe ones, and the response header.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSafeRequestId, requestId } from '../../../src/server/middleware/request-id.js';
import { Response } from '../../../src/server/response.js';
import { makeRequest, recordingNext } from './middleware-test-kit.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestId', () => {
  it('generates a UUID, stores it in locals and echoes it in the response', async () => {
    const req = makeRequest();
    let during: unknown;
    const res = await requestId()(req, async () => {
      during = req.locals.requestId;
      return Response.text('ok');
    });
    assert.match(String(during), UUID);
    assert.equal(req.locals.requestId, during);
    assert.equal(res.headers.get('x-request-id'), during);
  });

  it('gives different requests different ids', async () => {
    const a = makeRequest();
    const b = makeRequest();
    await requestId()(a, recordingNext());
    await requestId()(b, recordingNext());
    assert.notEqual(a.locals.requestId, b.locals.requestId);
  });

  it('reuses a safe incoming id', async () => {
    const req = makeRequest({ headers: { 'x-request-id': 'edge-7f3a:42/AB+c=@x.y_z' } });
    const res = await requestId()(req, recordingNext());
    assert.equal(req.locals.requestId, 'edge-7f3a:42/AB+c=@x.y_z');
    assert.equal(res.headers.get('x-request-id'), 'edge-7f3a:42/AB+c=@x.y_z');
  });

  it('replaces unsafe or oversized incoming ids', async () => {
    for (const bad of ['has space', 'semi;colon', '<script>', 'é', 'x'.repeat(129), 'a"b']) {
      const req = makeRequest({ headers: { 'x-request-id': bad } });
      await requestId()(req, recordingNext());
      assert.match(String(req.locals.requestId), UUID, bad);
    }
    // Two fields joined by the Headers class contain ", ": not reused either.
    const twice = makeRequest({
      headers: [
        ['x-request-id', 'a'],
        ['x-request-id', 'b'],
      ],
    });
    await requestId()(twice, recordingNext());
    assert.match(String(twice.locals.requestId), UUID);
  });

  it('honours header, trustIncoming, maxLength and generate', async () => {
    let n = 0;
    const mw = requestId({ header: 'X-Correlation-Id', generate: () => `gen-${++n}`, maxLength: 4 });
    const short = makeRequest({ headers: { 'x-correlation-id': 'abcd' } });
    const long = makeRequest({ headers: { 'x-correlation-id': 'abcde' } });
    const resShort = await mw(short, recordingNext());
    const resLong = await mw(long, recordingNext());
    assert.equal(resShort.headers.get('x-correlation-id'), 'abcd');
    assert.equal(resLong.headers.get('x-correlation-id'), 'gen-1');
    const untrusting = requestId({ trustIncoming: false, generate: () => 'fresh' });
    const req = makeRequest({ headers: { 'x-request-id': 'client-chosen' } });
    const res = await untrusting(req, recordingNext());
    assert.equal(res.headers.get('x-request-id'), 'fresh');
  });

  it('isSafeRequestId checks length and characters', () => {
    assert.equal(isSafeRequestId('', 10), false);
    assert.equal(isSafeRequestId('abc', 3), true);
    assert.equal(isSafeRequestId('abcd', 3), false);
    assert.equal(isSafeRequestId('a\nb', 10), false);
    assert.equal(isSafeRequestId('a\u0000b', 10), false);
  });
});
