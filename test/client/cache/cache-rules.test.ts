/**
 * Unit tests of the cache's pure rules: Cache-Control parsing (RFC 9111 §5.2, §1.2.2), the
 * freshness lifetime (§4.2.1, §5.3, §4.2.2), the age calculation (§4.2.3), Vary matching (§4.1)
 * and the 304 header update (§3.2, §4.3.4).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { deltaSeconds, parseCacheControl } from '../../../src/client/cache/cache-control.js';
import { cacheKey } from '../../../src/client/cache/cache-policy.js';
import { currentAge, freshnessFacts } from '../../../src/client/cache/freshness.js';
import {
  matchesVary,
  type StoredResponse,
  updatedHeaderFields,
} from '../../../src/client/cache/stored-response.js';
import { Headers } from '../../../src/core/headers.js';
import { formatHttpDate } from '../../../src/runtime/http-date.js';

const T = Date.UTC(2025, 0, 1);

function stored(headers: Record<string, string>, changes: Partial<StoredResponse> = {}): StoredResponse {
  return {
    status: 200,
    statusText: 'OK',
    headers: Object.entries(headers).flat(),
    body: Buffer.alloc(0),
    url: 'http://x/',
    httpVersion: '1.1',
    requestTime: T,
    responseTime: T,
    vary: {},
    ...changes,
  };
}

test('parseCacheControl: names fold case, quoted arguments keep commas, first occurrence wins', () => {
  const d = parseCacheControl('Max-Age=60, no-cache="set-cookie, x-a" ,private, max-age=5,  must-revalidate');
  assert.equal(d.get('max-age'), '60');
  assert.equal(d.get('no-cache'), 'set-cookie, x-a');
  assert.equal(d.get('private'), null);
  assert.equal(d.get('must-revalidate'), null);
  assert.equal(d.size, 4);
  assert.equal(parseCacheControl('max-age="30"').get('max-age'), '30');
  assert.equal(parseCacheControl('').size, 0);
});

test('deltaSeconds: digits only, clamped to 2^31', () => {
  assert.equal(deltaSeconds('0'), 0);
  assert.equal(deltaSeconds('120'), 120);
  assert.equal(deltaSeconds('-1'), undefined);
  assert.equal(deltaSeconds('1.5'), undefined);
  assert.equal(deltaSeconds(null), undefined);
  assert.equal(deltaSeconds('99999999999'), 2_147_483_648);
});

test('freshness lifetime: max-age over Expires; Expires - Date; invalid Expires is stale', () => {
  const date = formatHttpDate(T);
  assert.equal(
    freshnessFacts(stored({ date, 'cache-control': 'max-age=60', expires: 'x' }), 0).lifetime,
    60_000,
  );
  assert.equal(freshnessFacts(stored({ date, expires: formatHttpDate(T + 90_000) }), 0).lifetime, 90_000);
  assert.equal(freshnessFacts(stored({ date, expires: '0' }), 1e9).lifetime, 0);
  assert.equal(freshnessFacts(stored({ 'cache-control': 'max-age=abc' }), 1e9).lifetime, 0);
  const heuristic = freshnessFacts(stored({ date, 'last-modified': formatHttpDate(T - 1000_000) }), 1e9);
  assert.equal(heuristic.lifetime, 100_000);
  assert.equal(heuristic.heuristic, true);
  assert.equal(
    freshnessFacts(stored({ date, 'last-modified': formatHttpDate(T - 1000_000) }), 5000).lifetime,
    5000,
  );
  const notCacheable = stored({ date, 'last-modified': formatHttpDate(T - 1000_000) }, { status: 403 });
  assert.equal(freshnessFacts(notCacheable, 1e9).lifetime, 0);
});

test('current age: apparent age vs Age + response delay, plus resident time (RFC 9111 §4.2.3)', () => {
  // Sent at T, answered at T+2s with Date T-5s (clock skew) and Age 1.
  const e = stored({ date: formatHttpDate(T - 5000), age: '1' }, { requestTime: T, responseTime: T + 2000 });
  const facts = freshnessFacts(e, 0);
  // apparent = 7 s, corrected = 1 + 2 = 3 s: 7 s initial, plus 10 s resident.
  assert.equal(currentAge(e, facts, T + 12_000), 17_000);
  const e2 = stored({ date: formatHttpDate(T), age: '30' }, { requestTime: T, responseTime: T + 2000 });
  assert.equal(currentAge(e2, freshnessFacts(e2, 0), T + 2000), 32_000);
});

test('Vary matching normalises list whitespace; absent only matches absent', () => {
  const e = stored({}, { vary: { 'accept-language': 'en,fr', 'x-absent': null } });
  assert.equal(matchesVary(e, new Headers({ 'accept-language': 'en, fr' })), true);
  assert.equal(matchesVary(e, new Headers({ 'accept-language': ['en', 'fr'] })), true);
  assert.equal(matchesVary(e, new Headers({ 'accept-language': 'fr, en' })), false);
  assert.equal(matchesVary(e, new Headers({ 'accept-language': 'en,fr', 'x-absent': '' })), false);
  assert.equal(matchesVary(stored({}, { vary: { '*': null } }), new Headers()), false);
});

test('304 update replaces fields by name but keeps Content-Length', () => {
  const merged = updatedHeaderFields(
    ['content-length', '4', 'x-a', '1', 'x-a', '2', 'etag', '"e"'],
    new Headers({ 'x-a': '3', 'content-length': '0', connection: 'keep-alive' }),
  );
  assert.deepEqual(merged, ['content-length', '4', 'etag', '"e"', 'x-a', '3']);
});

test('cacheKey drops the fragment', () => {
  assert.equal(cacheKey('GET', new URL('http://a.example/p?q=1#frag')), 'GET http://a.example/p?q=1');
});
