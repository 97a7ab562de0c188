/**
 * The shared test suite every Router implementation must pass (the rules are in
 * src/server/router/router.ts). Call `routerContract('MyRouter', () => new MyRouter())` from a
 * test file; each case builds a fresh router from the factory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AvxError } from '../../../src/core/errors.js';
import { HttpError } from '../../../src/server/http-error.js';
import type { Router } from '../../../src/server/router/router.js';

/** Makes an empty router of the implementation under test. */
export type RouterFactory = () => Router<string>;

/** Builds a router from `[method, pattern]` pairs; each handler is the string `"METHOD pattern"`. */
function build(factory: RouterFactory, routes: readonly (readonly [string, string])[]): Router<string> {
  const router = factory();
  for (const [method, pattern] of routes) router.add(method, pattern, `${method} ${pattern}`);
  return router;
}

/** The handler `method path` resolves to, or null. */
function handlerOf(router: Router<string>, method: string, path: string): string | null {
  return router.match(method, path)?.handler ?? null;
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AvxError, `expected an AvxError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** Runs the Router contract against routers made by `factory`. */
export function routerContract(name: string, factory: RouterFactory): void {
  describe(`Router contract: ${name}`, () => {
    describe('static routes', () => {
      it('matches the root and nested static paths exactly', () => {
        const r = build(factory, [
          ['GET', '/'],
          ['GET', '/users'],
          ['GET', '/users/all'],
          ['GET', '/about/team'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/'), 'GET /');
        assert.equal(handlerOf(r, 'GET', '/users'), 'GET /users');
        assert.equal(handlerOf(r, 'GET', '/users/all'), 'GET /users/all');
        assert.equal(handlerOf(r, 'GET', '/about/team'), 'GET /about/team');
        assert.equal(handlerOf(r, 'GET', '/user'), null);
        assert.equal(handlerOf(r, 'GET', '/usersx'), null);
        assert.equal(handlerOf(r, 'GET', '/users/al'), null);
        assert.equal(handlerOf(r, 'GET', '/about'), null);
        assert.equal(handlerOf(r, 'GET', ''), null);
      });

      it('keeps routes that share prefixes apart', () => {
        const routes = [
          '/u',
          '/user',
          '/users',
          '/uploads',
          '/up',
          '/us/x',
          '/usage',
          '/a/b/c',
          '/a/bc',
          '/ab',
        ];
        const r = build(
          factory,
          routes.map((p) => ['GET', p] as const),
        );
        for (const p of routes) assert.equal(handlerOf(r, 'GET', p), `GET ${p}`, p);
        for (const p of ['/us', '/use', '/upl', '/a/b', '/a', '/a/bcd', '/usag']) {
          assert.equal(handlerOf(r, 'GET', p), null, p);
        }
      });

      it('treats a trailing slash as significant (strict)', () => {
        const r = build(factory, [
          ['GET', '/a'],
          ['GET', '/b/'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/a'), 'GET /a');
        assert.equal(handlerOf(r, 'GET', '/a/'), null);
        assert.equal(handlerOf(r, 'GET', '/b/'), 'GET /b/');
        assert.equal(handlerOf(r, 'GET', '/b'), null);
      });

      it('gives an empty params object for a static route', () => {
        const r = build(factory, [['GET', '/x']]);
        const m = r.match('GET', '/x');
        assert.ok(m);
        assert.deepEqual(m.params, {});
        assert.ok(Object.isFrozen(m.params));
      });

      it('matches static text against the raw (percent-encoded) path', () => {
        const r = build(factory, [['GET', '/caf%C3%A9']]);
        assert.equal(handlerOf(r, 'GET', '/caf%C3%A9'), 'GET /caf%C3%A9');
        assert.equal(handlerOf(r, 'GET', '/café'), null);
      });

      it('treats a colon inside a segment as literal text', () => {
        const r = build(factory, [['POST', '/v1/items:batch']]);
        assert.equal(handlerOf(r, 'POST', '/v1/items:batch'), 'POST /v1/items:batch');
        assert.equal(handlerOf(r, 'POST', '/v1/items'), null);
        assert.deepEqual(r.match('POST', '/v1/items:batch')?.params, {});
      });
    });

    describe('parameters', () => {
      it('captures one segment per parameter', () => {
        const r = build(factory, [
          ['GET', '/users/:id'],
          ['GET', '/users/:id/posts/:postId'],
        ]);
        assert.deepEqual(r.match('GET', '/users/42'), {
          handler: 'GET /users/:id',
          pattern: '/users/:id',
          params: { id: '42' },
        });
        assert.deepEqual(r.match('GET', '/users/42/posts/7'), {
          handler: 'GET /users/:id/posts/:postId',
          pattern: '/users/:id/posts/:postId',
          params: { id: '42', postId: '7' },
        });
      });

      it('does not match an empty segment or more than one segment', () => {
        const r = build(factory, [['GET', '/users/:id']]);
        assert.equal(handlerOf(r, 'GET', '/users/'), null);
        assert.equal(handlerOf(r, 'GET', '/users'), null);
        assert.equal(handlerOf(r, 'GET', '/users/1/2'), null);
        assert.equal(handlerOf(r, 'GET', '/users//'), null);
      });

      it('can be the first segment and followed by a trailing slash', () => {
        const r = build(factory, [
          ['GET', '/:lang'],
          ['GET', '/:lang/'],
        ]);
        assert.deepEqual(r.match('GET', '/en'), {
          handler: 'GET /:lang',
          pattern: '/:lang',
          params: { lang: 'en' },
        });
        assert.deepEqual(r.match('GET', '/en/'), {
          handler: 'GET /:lang/',
          pattern: '/:lang/',
          params: { lang: 'en' },
        });
        assert.equal(handlerOf(r, 'GET', '/'), null);
      });

      it('percent-decodes values', () => {
        const r = build(factory, [['GET', '/files/:name']]);
        assert.deepEqual(r.match('GET', '/files/a%20b')?.params, { name: 'a b' });
        assert.deepEqual(r.match('GET', '/files/caf%C3%A9')?.params, { name: 'café' });
        // An encoded slash stays inside the one segment it was sent in.
        assert.deepEqual(r.match('GET', '/files/a%2Fb')?.params, { name: 'a/b' });
        assert.deepEqual(r.match('GET', '/files/100%25')?.params, { name: '100%' });
        assert.deepEqual(r.match('GET', '/files/plain+text')?.params, { name: 'plain+text' });
      });

      it('rejects a malformed percent-escape with HttpError 400', () => {
        const r = build(factory, [['GET', '/files/:name']]);
        for (const bad of ['/files/%zz', '/files/%E2%82', '/files/%', '/files/%C0%AF']) {
          assert.throws(
            () => r.match('GET', bad),
            (err: unknown) => err instanceof HttpError && err.status === 400,
            bad,
          );
        }
      });
    });

    describe('wildcards', () => {
      it('captures the rest of the path, possibly empty, as "*"', () => {
        const r = build(factory, [['GET', '/files/*']]);
        assert.deepEqual(r.match('GET', '/files/a/b/c.txt'), {
          handler: 'GET /files/*',
          pattern: '/files/*',
          params: { '*': 'a/b/c.txt' },
        });
        assert.deepEqual(r.match('GET', '/files/x'), {
          handler: 'GET /files/*',
          pattern: '/files/*',
          params: { '*': 'x' },
        });
        assert.deepEqual(r.match('GET', '/files/'), {
          handler: 'GET /files/*',
          pattern: '/files/*',
          params: { '*': '' },
        });
        assert.deepEqual(r.match('GET', '/files//x'), {
          handler: 'GET /files/*',
          pattern: '/files/*',
          params: { '*': '/x' },
        });
        assert.equal(handlerOf(r, 'GET', '/files'), null);
        assert.equal(handlerOf(r, 'GET', '/filesx'), null);
      });

      it('combines with parameters and decodes its value', () => {
        const r = build(factory, [['GET', '/repos/:owner/contents/*']]);
        assert.deepEqual(r.match('GET', '/repos/me/contents/src/a%20b.ts')?.params, {
          owner: 'me',
          '*': 'src/a b.ts',
        });
      });

      it('a root wildcard catches everything', () => {
        const r = build(factory, [
          ['GET', '/*'],
          ['GET', '/api'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/api'), 'GET /api');
        assert.deepEqual(r.match('GET', '/'), { handler: 'GET /*', pattern: '/*', params: { '*': '' } });
        assert.deepEqual(r.match('GET', '/api/x'), {
          handler: 'GET /*',
          pattern: '/*',
          params: { '*': 'api/x' },
        });
      });
    });

    describe('priority and backtracking', () => {
      it('prefers static over parameter over wildcard', () => {
        const r = build(factory, [
          ['GET', '/users/*'],
          ['GET', '/users/:id'],
          ['GET', '/users/me'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/users/me'), 'GET /users/me');
        assert.equal(handlerOf(r, 'GET', '/users/mee'), 'GET /users/:id');
        assert.equal(handlerOf(r, 'GET', '/users/m'), 'GET /users/:id');
        assert.equal(handlerOf(r, 'GET', '/users/me/x'), 'GET /users/*');
        assert.equal(handlerOf(r, 'GET', '/users/'), 'GET /users/*');
      });

      it('backtracks from a static branch that cannot finish to a parameter', () => {
        const r = build(factory, [
          ['GET', '/a/b/c'],
          ['GET', '/a/:x/d'],
          ['GET', '/a/:x/:y/e'],
        ]);
        assert.deepEqual(r.match('GET', '/a/b/d'), {
          handler: 'GET /a/:x/d',
          pattern: '/a/:x/d',
          params: { x: 'b' },
        });
        assert.equal(handlerOf(r, 'GET', '/a/b/c'), 'GET /a/b/c');
        assert.deepEqual(r.match('GET', '/a/b/c/e'), {
          handler: 'GET /a/:x/:y/e',
          pattern: '/a/:x/:y/e',
          params: { x: 'b', y: 'c' },
        });
        assert.equal(handlerOf(r, 'GET', '/a/b/c/f'), null);
      });

      it('backtracks from a parameter branch that cannot finish to a wildcard', () => {
        const r = build(factory, [
          ['GET', '/a/:x/end'],
          ['GET', '/a/*'],
        ]);
        assert.deepEqual(r.match('GET', '/a/1/end'), {
          handler: 'GET /a/:x/end',
          pattern: '/a/:x/end',
          params: { x: '1' },
        });
        assert.deepEqual(r.match('GET', '/a/1/other'), {
          handler: 'GET /a/*',
          pattern: '/a/*',
          params: { '*': '1/other' },
        });
      });

      it('backtracks when the more specific route lacks the method', () => {
        const r = build(factory, [
          ['GET', '/users/me'],
          ['DELETE', '/users/:id'],
          ['POST', '/users/*'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/users/me'), 'GET /users/me');
        assert.deepEqual(r.match('DELETE', '/users/me'), {
          handler: 'DELETE /users/:id',
          pattern: '/users/:id',
          params: { id: 'me' },
        });
        assert.deepEqual(r.match('POST', '/users/me'), {
          handler: 'POST /users/*',
          pattern: '/users/*',
          params: { '*': 'me' },
        });
        assert.equal(handlerOf(r, 'PUT', '/users/me'), null);
      });

      it('does not leak captures from an abandoned branch', () => {
        const r = build(factory, [
          ['GET', '/:a/:b/x'],
          ['GET', '/:a/*'],
        ]);
        assert.deepEqual(r.match('GET', '/1/2/y'), {
          handler: 'GET /:a/*',
          pattern: '/:a/*',
          params: { a: '1', '*': '2/y' },
        });
      });
    });

    describe('methods', () => {
      it('keeps a method table per route', () => {
        const r = build(factory, [
          ['GET', '/items'],
          ['POST', '/items'],
          ['PUT', '/items/:id'],
          ['PATCH', '/items/:id'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/items'), 'GET /items');
        assert.equal(handlerOf(r, 'POST', '/items'), 'POST /items');
        assert.equal(handlerOf(r, 'PUT', '/items/1'), 'PUT /items/:id');
        assert.equal(handlerOf(r, 'PATCH', '/items/1'), 'PATCH /items/:id');
        assert.equal(handlerOf(r, 'DELETE', '/items'), null);
        assert.equal(handlerOf(r, 'GET', '/items/1'), null);
      });

      it('is case-sensitive about methods (RFC 9110 §9.1)', () => {
        const r = build(factory, [['GET', '/x']]);
        assert.equal(handlerOf(r, 'get', '/x'), null);
      });

      it('answers HEAD with the GET route unless a HEAD route exists', () => {
        const r = build(factory, [
          ['GET', '/a'],
          ['GET', '/b'],
          ['HEAD', '/b'],
          ['POST', '/c'],
        ]);
        assert.equal(handlerOf(r, 'HEAD', '/a'), 'GET /a');
        assert.equal(handlerOf(r, 'HEAD', '/b'), 'HEAD /b');
        assert.equal(handlerOf(r, 'HEAD', '/c'), null);
      });

      it('ALL answers any method, after an exact method and after GET for HEAD', () => {
        const r = build(factory, [
          ['ALL', '/any'],
          ['GET', '/any'],
          ['ALL', '/only'],
        ]);
        assert.equal(handlerOf(r, 'GET', '/any'), 'GET /any');
        assert.equal(handlerOf(r, 'HEAD', '/any'), 'GET /any');
        assert.equal(handlerOf(r, 'DELETE', '/any'), 'ALL /any');
        assert.equal(handlerOf(r, 'PROPFIND', '/only'), 'ALL /only');
        assert.equal(handlerOf(r, 'HEAD', '/only'), 'ALL /only');
      });

      it('allowedMethods lists the methods of every route matching the path', () => {
        const r = build(factory, [
          ['GET', '/users/me'],
          ['DELETE', '/users/:id'],
          ['PUT', '/users/:id'],
          ['POST', '/users/*'],
          ['POST', '/other'],
          ['ALL', '/every'],
        ]);
        assert.deepEqual(r.allowedMethods('/users/me').sort(), ['DELETE', 'GET', 'HEAD', 'POST', 'PUT']);
        assert.deepEqual(r.allowedMethods('/users/7').sort(), ['DELETE', 'POST', 'PUT']);
        assert.deepEqual(r.allowedMethods('/users/7/x'), ['POST']);
        assert.deepEqual(r.allowedMethods('/other'), ['POST']);
        assert.deepEqual(r.allowedMethods('/nothing'), []);
        assert.deepEqual(r.allowedMethods('/every'), []);
      });

      it('allowedMethods does not repeat HEAD when it is registered', () => {
        const r = build(factory, [
          ['GET', '/x'],
          ['HEAD', '/x'],
        ]);
        assert.deepEqual(r.allowedMethods('/x').sort(), ['GET', 'HEAD']);
      });
    });

    describe('registration errors', () => {
      it('rejects the same method and pattern twice', () => {
        const r = build(factory, [['GET', '/a/:id']]);
        assertCode(() => r.add('GET', '/a/:id', 'again'), 'AVX_ROUTE_DUPLICATE');
        r.add('POST', '/a/:id', 'POST ok');
        assert.equal(handlerOf(r, 'POST', '/a/1'), 'POST ok');
        assert.equal(handlerOf(r, 'GET', '/a/1'), 'GET /a/:id');
        assertCode(() => r.add('GET', '/w/*', 'x') ?? r.add('GET', '/w/*', 'y'), 'AVX_ROUTE_DUPLICATE');
        assertCode(() => r.add('ALL', '/a/:id', 'x') ?? r.add('ALL', '/a/:id', 'y'), 'AVX_ROUTE_DUPLICATE');
      });

      it('rejects two parameter names at the same position', () => {
        const r = build(factory, [['GET', '/users/:id']]);
        assertCode(() => r.add('GET', '/users/:name/posts', 'x'), 'AVX_ROUTE_PARAM_CONFLICT');
        assertCode(() => r.add('POST', '/users/:userId', 'x'), 'AVX_ROUTE_PARAM_CONFLICT');
        r.add('GET', '/users/:id/posts', 'ok');
        assert.equal(handlerOf(r, 'GET', '/users/1/posts'), 'ok');
      });

      it('rejects malformed patterns', () => {
        const r = factory();
        for (const bad of [
          '',
          'users',
          '/users/:',
          '/users/:id-x',
          '/users/:a/:a',
          '/a/*/b',
          '/a*',
          '/a/**',
          '/a?b',
          '/a#b',
          '/a b',
          '/café',
          '/:__proto__',
        ]) {
          assertCode(() => r.add('GET', bad, 'x'), 'AVX_ROUTE_INVALID_PATTERN');
        }
      });

      it('rejects a method that is not a token', () => {
        const r = factory();
        for (const bad of ['', 'GE T', 'GET\r\n', '(GET)']) {
          assertCode(() => r.add(bad, '/x', 'x'), 'AVX_ROUTE_INVALID_METHOD');
        }
      });

      it('a failed registration leaves the router unchanged', () => {
        const r = build(factory, [['GET', '/users/:id']]);
        assert.throws(() => r.add('GET', '/users/:name/x', 'bad'));
        assert.equal(handlerOf(r, 'GET', '/users/1/x'), null);
        assert.deepEqual(r.allowedMethods('/users/1/x'), []);
      });
    });
  });
}
