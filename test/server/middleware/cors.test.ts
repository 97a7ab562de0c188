/**
 * Tests of the CORS middleware (Fetch §3.2): simple requests, preflights, origin policies and
 * the headers each case must and must not carry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cors } from '../../../src/server/middleware/cors.js';
import { Response } from '../../../src/server/response.js';
import { headerObject, makeRequest, recordingNext } from './middleware-test-kit.js';

const ORIGIN = 'https://app.example';

function corsHeaderNames(res: Response): string[] {
  return Object.keys(headerObject(res)).filter((name) => name.startsWith('access-control-'));
}

describe('cors', () => {
  it('leaves requests without Origin alone (with "*", no Vary either)', async () => {
    const next = recordingNext();
    const res = await cors()(makeRequest(), next);
    assert.equal(next.calls, 1);
    assert.deepEqual(headerObject(res), { 'content-type': 'text/plain; charset=utf-8' });
  });

  it('answers any origin with "*" by default', async () => {
    const res = await cors()(makeRequest({ headers: { origin: ORIGIN } }), recordingNext());
    assert.deepEqual(headerObject(res), {
      'content-type': 'text/plain; charset=utf-8',
      'access-control-allow-origin': '*',
    });
  });

  it('reflects an allowed origin from a list, adds Vary: Origin and exposed headers', async () => {
    const mw = cors({ origin: ['https://other.example', ORIGIN], exposedHeaders: ['X-Total', 'ETag'] });
    const next = recordingNext(() => Response.text('ok', { headers: { vary: 'Accept-Encoding' } }));
    const res = await mw(makeRequest({ headers: { origin: ORIGIN } }), next);
    assert.deepEqual(headerObject(res), {
      vary: 'Accept-Encoding, Origin',
      'content-type': 'text/plain; charset=utf-8',
      'access-control-allow-origin': ORIGIN,
      'access-control-expose-headers': 'X-Total, ETag',
    });
  });

  it('gives a non-matching origin no CORS headers (only Vary)', async () => {
    const mw = cors({ origin: ORIGIN, credentials: true });
    const next = recordingNext();
    const res = await mw(makeRequest({ headers: { origin: 'https://evil.example' } }), next);
    assert.equal(next.calls, 1);
    assert.deepEqual(corsHeaderNames(res), []);
    assert.equal(res.headers.get('vary'), 'Origin');
    // Without Origin the answer still depends on it.
    const plain = await mw(makeRequest(), recordingNext());
    assert.equal(plain.headers.get('vary'), 'Origin');
    assert.deepEqual(corsHeaderNames(plain), []);
  });

  it('reflects the origin instead of "*" when credentials are allowed', async () => {
    const res = await cors({ credentials: true })(
      makeRequest({ headers: { origin: ORIGIN } }),
      recordingNext(),
    );
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(res.headers.get('vary'), 'Origin');
  });

  it('accepts a predicate', async () => {
    const mw = cors({ origin: (origin) => origin.endsWith('.example') });
    const yes = await mw(makeRequest({ headers: { origin: ORIGIN } }), recordingNext());
    const no = await mw(makeRequest({ headers: { origin: 'https://example.org' } }), recordingNext());
    assert.equal(yes.headers.get('access-control-allow-origin'), ORIGIN);
    assert.deepEqual(corsHeaderNames(no), []);
  });

  it('answers a preflight itself with 204 and the allow headers', async () => {
    const mw = cors({ origin: [ORIGIN], credentials: true, maxAge: 600 });
    const next = recordingNext();
    const req = makeRequest({
      method: 'OPTIONS',
      target: '/api/items',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type, x-token',
      },
    });
    const res = await mw(req, next);
    assert.equal(next.calls, 0);
    assert.equal(res.status, 204);
    assert.equal(res.body, null);
    assert.deepEqual(headerObject(res), {
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, PUT, PATCH, POST, DELETE',
      'access-control-allow-headers': 'content-type, x-token',
      vary: 'Access-Control-Request-Headers, Origin',
      'access-control-max-age': '600',
    });
  });

  it('uses the configured methods and allowed headers in a preflight', async () => {
    const mw = cors({ methods: ['GET', 'POST'], allowedHeaders: ['Content-Type'] });
    const res = await mw(
      makeRequest({
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-a',
        },
      }),
      recordingNext(),
    );
    assert.deepEqual(headerObject(res), {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Content-Type',
    });
  });

  it('passes a preflight from a disallowed origin on to the app, without CORS headers', async () => {
    const next = recordingNext(() => Response.empty(204, { headers: { allow: 'GET' } }));
    const res = await cors({ origin: ORIGIN })(
      makeRequest({
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      }),
      next,
    );
    assert.equal(next.calls, 1);
    assert.deepEqual(corsHeaderNames(res), []);
    assert.equal(res.headers.get('allow'), 'GET');
  });

  it('treats OPTIONS without Access-Control-Request-Method as an ordinary request', async () => {
    const next = recordingNext();
    const res = await cors()(makeRequest({ method: 'OPTIONS', headers: { origin: ORIGIN } }), next);
    assert.equal(next.calls, 1);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), undefined);
  });
});
