/**
 * Tests of the request logger middleware: the JSON line's fields, failures, and the
 * disabled pass-through.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { HttpError } from '../../../src/server/http-error.js';
import { logger } from '../../../src/server/middleware/logger.js';
import { Response } from '../../../src/server/response.js';
import { makeRequest, recordingNext } from './middleware-test-kit.js';

/** A clock that advances by `step` ms on every reading. */
function steppingClock(step: number): () => number {
  let now = 1000;
  return () => {
    const t = now;
    now += step;
    return t;
  };
}

describe('logger', () => {
  it('writes one JSON line with method, path, status, duration, bytes and request id', async () => {
    const lines: string[] = [];
    const log = logger({ sink: (line) => lines.push(line), clock: steppingClock(2.5) });
    const req = makeRequest({ method: 'POST', target: '/users/7?token=secret' });
    const next = recordingNext(() => {
      req.locals.requestId = 'abc-123';
      return Response.text('héllo', { status: 201 });
    });
    const res = await log(req, next);
    assert.equal(res.status, 201);
    assert.equal(next.calls, 1);
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes('\n'));
    const record = JSON.parse(lines[0]!);
    assert.equal(typeof record.time, 'string');
    assert.ok(!Number.isNaN(Date.parse(record.time)));
    delete record.time;
    assert.deepEqual(record, {
      method: 'POST',
      path: '/users/7',
      status: 201,
      durationMs: 2.5,
      bytes: 6,
      requestId: 'abc-123',
    });
  });

  it('reports bytes from Content-Length for streams and leaves them out when unknown', async () => {
    const lines: string[] = [];
    const log = logger({ sink: (line) => lines.push(line) });
    await log(
      makeRequest(),
      recordingNext(() => new Response(Readable.from(['abc']), { headers: { 'content-length': '3' } })),
    );
    await log(
      makeRequest(),
      recordingNext(() => new Response(Readable.from(['abc']))),
    );
    await log(
      makeRequest(),
      recordingNext(() => new Response(new Uint8Array(10))),
    );
    await log(
      makeRequest(),
      recordingNext(() => Response.empty(204)),
    );
    const records = lines.map((l) => JSON.parse(l));
    assert.equal(records[0].bytes, 3);
    assert.equal('bytes' in records[1], false);
    assert.equal(records[2].bytes, 10);
    assert.equal(records[3].bytes, 0);
    assert.equal('requestId' in records[0], false);
  });

  it('logs a failed request with the status the error maps to, then rethrows it', async () => {
    const lines: string[] = [];
    const log = logger({ sink: (line) => lines.push(line) });
    const notFound = new HttpError(404, 'no such user');
    await assert.rejects(
      async () =>
        log(makeRequest({ target: '/u' }), async () => {
          throw notFound;
        }),
      (err: unknown) => err === notFound,
    );
    const boom = new Error('boom');
    await assert.rejects(
      async () =>
        log(makeRequest({ target: '/v' }), async () => {
          throw boom;
        }),
      (err: unknown) => err === boom,
    );
    const [first, second] = lines.map((l) => JSON.parse(l));
    assert.equal(first.status, 404);
    assert.equal(first.error, 'AVX_HTTP_ERROR');
    assert.equal(first.path, '/u');
    assert.equal(second.status, 500);
    assert.equal(second.error, 'Error');
  });

  it('does not fail the request when the sink throws', async () => {
    const log = logger({
      sink: () => {
        throw new Error('disk full');
      },
    });
    const res = await log(makeRequest(), recordingNext());
    assert.equal(res.status, 200);
  });

  it('is a pass-through when disabled', async () => {
    let written = 0;
    const log = logger({ enabled: false, sink: () => written++ });
    const expected = Response.text('x');
    const res = await log(makeRequest(), async () => expected);
    assert.equal(res, expected);
    assert.equal(written, 0);
  });
});
