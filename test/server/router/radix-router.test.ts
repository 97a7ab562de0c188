/**
 * Tests of RadixRouter: the shared Router contract, plus radix-specific cases (a ~300-route
 * GitHub-like table, insertion-order independence of node splitting, deep and wide trees).
 * The contract also runs against the naive LinearRegexRouter, which keeps it honest: the
 * suite describes the Router interface, not one implementation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RadixRouter } from '../../../src/server/router/radix-router.js';
import { GITHUB_ROUTES, sampleParams, samplePath } from './github-route-table.js';
import { LinearRegexRouter } from './linear-regex-router.js';
import { routerContract } from './router-contract.js';

routerContract('RadixRouter', () => new RadixRouter<string>());
routerContract('LinearRegexRouter (reference)', () => new LinearRegexRouter<string>());

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RadixRouter with a GitHub-like table', () => {
  const value = (name: string, index: number): string =>
    name === '*' ? `dir${index}/file.txt` : `v${index}`;

  it('has about 300 routes', () => {
    assert.ok(GITHUB_ROUTES.length >= 280, `only ${GITHUB_ROUTES.length} routes`);
  });

  it('finds every route with its parameters', () => {
    const router = new RadixRouter<string>();
    for (const { method, pattern } of GITHUB_ROUTES) router.add(method, pattern, `${method} ${pattern}`);
    for (const { method, pattern } of GITHUB_ROUTES) {
      const path = samplePath(pattern, value);
      const m = router.match(method, path);
      assert.ok(m, `${method} ${path} not found`);
      assert.equal(m.handler, `${method} ${pattern}`, path);
      assert.deepEqual(m.params, sampleParams(pattern, value), path);
    }
  });

  it('agrees with the linear reference router on matches, misses and allowed methods', () => {
    const radix = new RadixRouter<string>();
    const linear = new LinearRegexRouter<string>();
    for (const { method, pattern } of GITHUB_ROUTES) {
      radix.add(method, pattern, `${method} ${pattern}`);
      linear.add(method, pattern, `${method} ${pattern}`);
    }
    const rand = random(7);
    const words = [
      'repos',
      'users',
      'orgs',
      'gists',
      'public',
      'comments',
      'issues',
      'x',
      '',
      'pulls',
      'git',
      'refs',
    ];
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    const paths: string[] = GITHUB_ROUTES.map((r) => samplePath(r.pattern, value));
    // Mutations of real paths (truncated, extended, a segment swapped) and random word paths.
    for (const path of paths.slice()) {
      const segments = path.split('/');
      paths.push(segments.slice(0, -1).join('/'), `${path}/extra`, `${path}/`);
      const i = 1 + Math.floor(rand() * (segments.length - 1));
      segments[i] = words[Math.floor(rand() * words.length)]!;
      paths.push(segments.join('/'));
    }
    for (let i = 0; i < 2000; i++) {
      const n = 1 + Math.floor(rand() * 6);
      let path = '';
      for (let k = 0; k < n; k++) path += `/${words[Math.floor(rand() * words.length)]}`;
      paths.push(path);
    }
    for (const path of paths) {
      assert.deepEqual(radix.allowedMethods(path).sort(), linear.allowedMethods(path).sort(), path);
      for (const method of methods) {
        assert.deepEqual(radix.match(method, path), linear.match(method, path), `${method} ${path}`);
      }
    }
  });

  it('gives the same answers whatever the insertion order', () => {
    const rand = random(42);
    const reference = new RadixRouter<string>();
    for (const { method, pattern } of GITHUB_ROUTES) reference.add(method, pattern, `${method} ${pattern}`);
    for (let round = 0; round < 5; round++) {
      const shuffled = GITHUB_ROUTES.slice();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const router = new RadixRouter<string>();
      for (const { method, pattern } of shuffled) router.add(method, pattern, `${method} ${pattern}`);
      for (const { method, pattern } of GITHUB_ROUTES) {
        const path = samplePath(pattern, value);
        assert.deepEqual(router.match(method, path), reference.match(method, path), path);
        assert.deepEqual(router.allowedMethods(path).sort(), reference.allowedMethods(path).sort(), path);
      }
    }
  });

  it('reports 405 candidates for table paths', () => {
    const router = new RadixRouter<string>();
    for (const { method, pattern } of GITHUB_ROUTES) router.add(method, pattern, `${method} ${pattern}`);
    assert.equal(router.match('POST', '/repos/a/b/stargazers'), null);
    assert.deepEqual(router.allowedMethods('/repos/a/b/stargazers'), ['GET', 'HEAD']);
    assert.deepEqual(router.allowedMethods('/gists/public').sort(), ['DELETE', 'GET', 'HEAD', 'PATCH']);
  });
});

describe('RadixRouter specifics', () => {
  it('splits nodes so that a route added inside an existing prefix is found', () => {
    const r = new RadixRouter<string>();
    r.add('GET', '/abcdef', 'long');
    r.add('GET', '/abc', 'short');
    r.add('GET', '/ab/:x', 'param');
    r.add('GET', '/abcxyz', 'branch');
    assert.equal(r.match('GET', '/abcdef')?.handler, 'long');
    assert.equal(r.match('GET', '/abc')?.handler, 'short');
    assert.equal(r.match('GET', '/abcxyz')?.handler, 'branch');
    assert.deepEqual(r.match('GET', '/ab/q'), { handler: 'param', params: { x: 'q' }, pattern: '/ab/:x' });
    assert.equal(r.match('GET', '/abcd'), null);
    assert.equal(r.match('GET', '/ab'), null);
  });

  it('handles a thousand sibling routes and deep parameter chains', () => {
    const r = new RadixRouter<number>();
    for (let i = 0; i < 1000; i++) r.add('GET', `/item${i}/:id`, i);
    let deep = '';
    let path = '';
    const expected: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      deep += `/s${i}/:p${i}`;
      path += `/s${i}/${i}`;
      expected[`p${i}`] = String(i);
    }
    r.add('GET', deep, -1);
    for (let i = 0; i < 1000; i += 37)
      assert.deepEqual(r.match('GET', `/item${i}/z`), {
        handler: i,
        params: { id: 'z' },
        pattern: `/item${i}/:id`,
      });
    assert.equal(r.match('GET', '/item1000/z'), null);
    assert.deepEqual(r.match('GET', path), { handler: -1, params: expected, pattern: deep });
  });

  it('returns handlers of any type, including falsy ones', () => {
    const r = new RadixRouter<number | null>();
    r.add('GET', '/zero', 0);
    r.add('GET', '/null', null);
    assert.deepEqual(r.match('GET', '/zero'), { handler: 0, params: {}, pattern: '/zero' });
    assert.deepEqual(r.match('GET', '/null'), { handler: null, params: {}, pattern: '/null' });
  });

  it('is usable again after a match throws on a malformed escape', () => {
    const r = new RadixRouter<string>();
    r.add('GET', '/a/:x/:y', 'h');
    assert.throws(() => r.match('GET', '/a/%zz/b'));
    assert.deepEqual(r.match('GET', '/a/1/2'), {
      handler: 'h',
      params: { x: '1', y: '2' },
      pattern: '/a/:x/:y',
    });
  });
});
