/**
 * Tests of basicAuth (RFC 7617) and bearerAuth (RFC 6750): challenges, accepted and refused
 * credentials, parsing edge cases, and that refused requests never reach the handler.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuth, bearerAuth } from '../../../src/server/middleware/auth.js';
import { makeRequest, recordingNext } from './middleware-test-kit.js';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

describe('basicAuth', () => {
  const mw = basicAuth({ users: { alice: 'wonderland', jürgen: 'pässword', bob: 'a:b:c' } });
  const CHALLENGE = 'Basic realm="Restricted", charset="UTF-8"';

  it('challenges a request without credentials and does not call next', async () => {
    const next = recordingNext();
    const res = await mw(makeRequest(), next);
    assert.equal(next.calls, 0);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), CHALLENGE);
    assert.equal(res.body, 'Unauthorized');
  });

  it('lets valid credentials through and records the user', async () => {
    for (const [user, password] of [
      ['alice', 'wonderland'],
      ['jürgen', 'pässword'],
      ['bob', 'a:b:c'],
    ] as const) {
      const next = recordingNext();
      const req = makeRequest({ headers: { authorization: basic(user, password) } });
      const res = await mw(req, next);
      assert.equal(res.status, 200, user);
      assert.equal(next.calls, 1);
      assert.equal(req.locals.user, user);
    }
  });

  it('accepts the scheme name in any case', async () => {
    const token = Buffer.from('alice:wonderland').toString('base64');
    const res = await mw(makeRequest({ headers: { authorization: `bAsIc ${token}` } }), recordingNext());
    assert.equal(res.status, 200);
  });

  it('refuses wrong passwords, unknown users and malformed credentials', async () => {
    for (const authorization of [
      basic('alice', 'wrong'),
      basic('alice', 'wonderland2'),
      basic('alice', ''),
      basic('mallory', 'wonderland'),
      basic('', ''),
      `Basic ${Buffer.from('alicewonderland').toString('base64')}`,
      'Basic',
      'Basic ',
      'Basic !!!!',
      'Basic a b',
      `Bearer ${Buffer.from('alice:wonderland').toString('base64')}`,
      'Basicx YWxpY2U6d29uZGVybGFuZA==',
    ]) {
      const next = recordingNext();
      const req = makeRequest({ headers: { authorization } });
      const res = await mw(req, next);
      assert.equal(res.status, 401, authorization);
      assert.equal(res.headers.get('www-authenticate'), CHALLENGE);
      assert.equal(next.calls, 0, authorization);
      assert.equal(req.locals.user, undefined);
    }
  });

  it('uses verify (sync or async) and quotes the realm', async () => {
    const seen: string[] = [];
    const withVerify = basicAuth({
      realm: 'Team "A" \\ admins',
      verify: async (user, password, req) => {
        seen.push(`${user}/${password}/${req.path}`);
        return password === 'ok';
      },
    });
    const good = await withVerify(
      makeRequest({ target: '/x', headers: { authorization: basic('u', 'ok') } }),
      recordingNext(),
    );
    const bad = await withVerify(
      makeRequest({ target: '/y', headers: { authorization: basic('u', 'no') } }),
      recordingNext(),
    );
    assert.equal(good.status, 200);
    assert.equal(bad.status, 401);
    assert.equal(
      bad.headers.get('www-authenticate'),
      'Basic realm="Team \\"A\\" \\\\ admins", charset="UTF-8"',
    );
    assert.deepEqual(seen, ['u/ok//x', 'u/no//y']);
  });

  it('needs users or verify', () => {
    assert.throws(() => basicAuth({}), TypeError);
  });
});

describe('bearerAuth', () => {
  const mw = bearerAuth({ token: ['s3cr3t-token', 'other.token~+/=='], realm: 'api' });

  it('challenges a request without credentials (no error code, RFC 6750 §3.1)', async () => {
    const next = recordingNext();
    const res = await mw(makeRequest(), next);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"');
    assert.equal(next.calls, 0);
  });

  it('lets a known token through and records it', async () => {
    for (const token of ['s3cr3t-token', 'other.token~+/==']) {
      const req = makeRequest({ headers: { authorization: `Bearer ${token}` } });
      const next = recordingNext();
      const res = await mw(req, next);
      assert.equal(res.status, 200);
      assert.equal(next.calls, 1);
      assert.equal(req.locals.token, token);
    }
    const lower = await mw(
      makeRequest({ headers: { authorization: 'bearer s3cr3t-token' } }),
      recordingNext(),
    );
    assert.equal(lower.status, 200);
  });

  it('answers an unknown token with invalid_token', async () => {
    for (const token of ['s3cr3t-tokeN', 's3cr3t-token2', 's3cr3t', 'x']) {
      const next = recordingNext();
      const res = await mw(makeRequest({ headers: { authorization: `Bearer ${token}` } }), next);
      assert.equal(res.status, 401, token);
      assert.equal(
        res.headers.get('www-authenticate'),
        'Bearer realm="api", error="invalid_token", error_description="the access token is not valid"',
      );
      assert.equal(next.calls, 0);
    }
  });

  it('answers a malformed field with 400 invalid_request', async () => {
    for (const authorization of ['Bearer two words', 'Bearer =abc', 'Bearer tok"en', 'Bearer é']) {
      const res = await mw(makeRequest({ headers: { authorization } }), recordingNext());
      assert.equal(res.status, 400, authorization);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
    }
  });

  it('challenges another scheme without an error code', async () => {
    const res = await mw(makeRequest({ headers: { authorization: 'Basic YTpi' } }), recordingNext());
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"');
  });

  it('uses verify and needs token or verify', async () => {
    const withVerify = bearerAuth({ verify: (token) => token.startsWith('ok') });
    assert.equal(
      (await withVerify(makeRequest({ headers: { authorization: 'Bearer ok1' } }), recordingNext())).status,
      200,
    );
    assert.equal(
      (await withVerify(makeRequest({ headers: { authorization: 'Bearer no1' } }), recordingNext())).status,
      401,
    );
    assert.throws(() => bearerAuth({}), TypeError);
  });
});
