/**
 * Tests of the rate-limit middleware: the limit boundary, the sliding window and Retry-After
 * against an injected clock, the draft-ietf-httpapi-ratelimit-headers fields, keys, skip, the
 * in-memory store's bounds and sweep, fail-open, and the fields on the wire of a real server.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { Headers } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { TimerWheel, type TimerWheelTimers } from '../../../src/runtime/timer-wheel.js';
import { App } from '../../../src/server/app.js';
import { clientAddressKey } from '../../../src/server/middleware/client-address-key.js';
import { MemoryRateLimitStore } from '../../../src/server/middleware/memory-rate-limit-store.js';
import { type RateLimitOptions, rateLimit } from '../../../src/server/middleware/rate-limit.js';
import {
  type RateLimitCounters,
  RateLimitError,
  type RateLimitStore,
} from '../../../src/server/middleware/rate-limit-store.js';
import { Request } from '../../../src/server/request.js';
import { Response } from '../../../src/server/response.js';
import { bodyBytes, makeRequest, recordingNext } from './middleware-test-kit.js';

/** A clock the test moves by hand, in ms. */
function manualClock(start = 1_000_000): { now: () => number; set: (t: number) => void } {
  let t = start;
  return {
    now: () => t,
    set: (value: number) => {
      t = start + value;
    },
  };
}

/** A middleware whose store reads a manual clock (at 0 to start with). */
function clocked(options: RateLimitOptions): { set: (t: number) => void; mw: ReturnType<typeof rateLimit> } {
  const clock = manualClock();
  const store = new MemoryRateLimitStore({ now: clock.now });
  return { set: clock.set, mw: rateLimit({ ...options, store }) };
}

const ok = () => recordingNext();

function requestFrom(remoteAddress: string): Request {
  return new Request({
    method: 'GET',
    target: '/',
    headers: new Headers(),
    body: IncomingBody.empty(),
    protocol: 'http/1.1',
    connection: { remoteAddress, remotePort: 1234, secure: false },
  });
}

describe('rateLimit', () => {
  it('allows exactly `limit` requests per window and refuses the next one without calling next', async () => {
    const { mw } = clocked({ limit: 5, windowMs: 60_000 });
    const next = recordingNext();
    for (let i = 1; i <= 5; i++) {
      const res = await mw(makeRequest(), next);
      assert.equal(res.status, 200, `request ${i}`);
      assert.equal(res.headers.get('ratelimit'), `"default";r=${5 - i};t=60`);
    }
    assert.equal(next.calls, 5);
    const refused = await mw(makeRequest(), next);
    assert.equal(refused.status, 429);
    assert.equal(next.calls, 5, 'the refused request did not reach the handler');
  });

  it('sends RateLimit-Policy, RateLimit and Retry-After as the draft and RFC 6585 describe', async () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ now: clock.now });
    const mw = rateLimit({ limit: 2, windowMs: 30_000, store });
    const ok = await mw(makeRequest(), recordingNext());
    assert.equal(ok.headers.get('ratelimit-policy'), '"default";q=2;w=30');
    assert.equal(ok.headers.get('ratelimit'), '"default";r=1;t=30');
    assert.equal(ok.headers.get('retry-after'), undefined);
    clock.set(10_500);
    const second = await mw(makeRequest(), recordingNext());
    assert.equal(
      second.headers.get('ratelimit'),
      '"default";r=0;t=20',
      't: seconds left in the window, rounded up',
    );
    const refused = await mw(makeRequest(), recordingNext());
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal((await bodyBytes(refused.body)).toString(), 'Too Many Requests\n');
    assert.equal(refused.headers.get('ratelimit-policy'), '"default";q=2;w=30');
    // Count 3: the next hit needs floor(3 * (30 - e) / 30) + 1 <= 2, so e > 10 s into the next
    // window, 19.5 s + 10 s = 29.5 s from now: the first whole second after that is 30.
    assert.equal(refused.headers.get('retry-after'), '30');
    assert.equal(refused.headers.get('ratelimit'), '"default";r=0;t=30', 't equals Retry-After on a refusal');
  });

  it('slides: the previous window counts in proportion, and Retry-After is exact for the counter', async () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ now: clock.now });
    const mw = rateLimit({ limit: 10, windowMs: 10_000, store });
    for (let i = 0; i < 10; i++) assert.equal((await mw(makeRequest(), recordingNext())).status, 200);
    // The next window begins: all 10 earlier hits are still inside the last 10 s.
    clock.set(10_000);
    const refused = await mw(makeRequest(), recordingNext());
    assert.equal(refused.status, 429);
    // floor(10 * (10 - d) / 10) + 2 <= 10 once d > 1 s.
    assert.equal(refused.headers.get('retry-after'), '2');
    clock.set(12_000);
    const allowed = await mw(makeRequest(), recordingNext());
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('ratelimit'), '"default";r=0;t=8');
  });

  it('the sliding boundary is exact to the millisecond', async () => {
    // 10 hits, then a refused one as the next window begins, then one more at `at`.
    async function hitAt(at: number): Promise<number> {
      const { set, mw } = clocked({ limit: 10, windowMs: 10_000 });
      for (let i = 0; i < 10; i++) await mw(makeRequest(), ok());
      set(10_000);
      assert.equal((await mw(makeRequest(), ok())).status, 429);
      set(at);
      return (await mw(makeRequest(), ok())).status;
    }
    assert.equal(await hitAt(11_000), 429, 'floor(10 * 0.9) + 2 = 11');
    assert.equal(await hitAt(11_001), 200, 'floor(10 * 0.8999) + 2 = 10');
  });

  it('computes Retry-After into the next window when this window alone is over the limit', async () => {
    async function scenario(at: number): Promise<{ retryAfter: string | undefined; status: number }> {
      const { set, mw } = clocked({ limit: 3, windowMs: 60_000 });
      for (let i = 0; i < 3; i++) await mw(makeRequest(), ok());
      set(1_000);
      const refused = await mw(makeRequest(), ok());
      set(at);
      return {
        retryAfter: refused.headers.get('retry-after'),
        status: (await mw(makeRequest(), ok())).status,
      };
    }
    // Count 4: 59 s to the window's end, then floor(4 * (60 - e) / 60) + 1 <= 3 once e > 15 s.
    const early = await scenario(75_000);
    assert.equal(early.retryAfter, '75');
    assert.equal(early.status, 429, 'exactly 74 s later: not yet');
    assert.equal((await scenario(75_001)).status, 200, 'one ms later');
    assert.equal((await scenario(76_000)).status, 200, 'at Retry-After');
  });

  it('starts afresh after two idle windows', async () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ now: clock.now });
    const mw = rateLimit({ limit: 2, windowMs: 1_000, store });
    for (let i = 0; i < 3; i++) await mw(makeRequest(), recordingNext());
    clock.set(2_000);
    const res = await mw(makeRequest(), recordingNext());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('ratelimit'), '"default";r=1;t=1');
  });

  it('does not count skipped requests and gives them no rate-limit fields', async () => {
    const mw = rateLimit({ limit: 1, skip: (req) => req.path === '/health' });
    for (let i = 0; i < 3; i++) {
      const res = await mw(makeRequest({ target: '/health' }), recordingNext());
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit'), undefined);
    }
    assert.equal((await mw(makeRequest(), recordingNext())).status, 200);
    assert.equal((await mw(makeRequest(), recordingNext())).status, 429);
    const asyncSkip = rateLimit({ limit: 1, skip: async () => true });
    for (let i = 0; i < 2; i++) assert.equal((await asyncSkip(makeRequest(), recordingNext())).status, 200);
  });

  it('counts each custom key separately, sync or async', async () => {
    const mw = rateLimit({ limit: 1, key: (req) => req.headers.get('x-api-key') ?? 'anonymous' });
    const a = { headers: { 'x-api-key': 'a' } };
    const b = { headers: { 'x-api-key': 'b' } };
    assert.equal((await mw(makeRequest(a), recordingNext())).status, 200);
    assert.equal((await mw(makeRequest(b), recordingNext())).status, 200);
    assert.equal((await mw(makeRequest(a), recordingNext())).status, 429);
    const seen: string[] = [];
    const asyncKey = rateLimit({
      limit: 1,
      key: async (req) => `user:${req.headers.get('x-user')}`,
      limitedResponse: (_req, info) => {
        seen.push(info.key);
        return Response.text('no');
      },
    });
    await asyncKey(makeRequest({ headers: { 'x-user': '7' } }), recordingNext());
    await asyncKey(makeRequest({ headers: { 'x-user': '7' } }), recordingNext());
    assert.deepEqual(seen, ['user:7']);
  });

  it('keys peers by address by default: IPv6 by /56, IPv4-mapped IPv6 as IPv4', async () => {
    const mw = rateLimit({ limit: 1 });
    assert.equal((await mw(requestFrom('2001:db8:0:1a00::1'), recordingNext())).status, 200);
    assert.equal((await mw(requestFrom('2001:db8:0:1aff:5::9'), recordingNext())).status, 429, 'same /56');
    assert.equal((await mw(requestFrom('2001:db8:0:1b00::1'), recordingNext())).status, 200, 'another /56');
    assert.equal((await mw(requestFrom('10.0.0.1'), recordingNext())).status, 200);
    assert.equal((await mw(requestFrom('::ffff:10.0.0.1'), recordingNext())).status, 429, 'mapped = IPv4');
    assert.equal((await mw(requestFrom('10.0.0.2'), recordingNext())).status, 200);
    const exact = rateLimit({ limit: 1, ipv6Subnet: 128 });
    assert.equal((await exact(requestFrom('2001:db8::1'), recordingNext())).status, 200);
    assert.equal((await exact(requestFrom('2001:db8::2'), recordingNext())).status, 200);
  });

  it('clientAddressKey: prefixes, compressed forms, embedded IPv4 and junk', () => {
    assert.equal(clientAddressKey('2001:db8:1:2ff::1'), '2001:db8:1:200::/56');
    assert.equal(clientAddressKey('2001:DB8:1:2FF:0:0:0:1', 64), '2001:db8:1:2ff::/64');
    assert.equal(clientAddressKey('::1'), '0:0:0:0::/56');
    assert.equal(clientAddressKey('fe80::1%eth0', 16), 'fe80::/16');
    assert.equal(clientAddressKey('64:ff9b::192.0.2.33', 127), '64:ff9b:0:0:0:0:c000:220/127');
    assert.equal(clientAddressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(clientAddressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(clientAddressKey('2001:db8::1', 128), '2001:db8::1');
    assert.equal(clientAddressKey('2001:db8::1', 0), '::/0');
    assert.equal(clientAddressKey(''), '');
    assert.equal(clientAddressKey('1::2::3'), '1::2::3');
    assert.equal(clientAddressKey('1:2:3:4:5:6:7'), '1:2:3:4:5:6:7');
    assert.equal(clientAddressKey('g::1'), 'g::1');
    assert.equal(clientAddressKey('1:\u0011::1'), '1:\u0011::1');
  });

  it('without header fields: no RateLimit fields, but Retry-After on a refusal', async () => {
    const { mw } = clocked({ limit: 1, headers: false });
    const ok = await mw(makeRequest(), recordingNext());
    assert.equal(ok.headers.get('ratelimit'), undefined);
    assert.equal(ok.headers.get('ratelimit-policy'), undefined);
    const refused = await mw(makeRequest(), recordingNext());
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('ratelimit'), undefined);
    // Count 2 at 0 ms: 60 s, then floor(2 * (60 - e) / 60) + 1 <= 1 once e > 30 s.
    assert.equal(refused.headers.get('retry-after'), '91');
  });

  it('custom status, message, policy name (escaped) and refusal builder', async () => {
    const plain = rateLimit({ limit: 1, statusCode: 503, message: 'slow down', policyName: 'per"min\\' });
    await plain(makeRequest(), recordingNext());
    const refused = await plain(makeRequest(), recordingNext());
    assert.equal(refused.status, 503);
    assert.equal((await bodyBytes(refused.body)).toString(), 'slow down');
    assert.equal(refused.headers.get('ratelimit-policy'), '"per\\"min\\\\";q=1;w=60');
    const { mw: problem } = clocked({
      limit: 1,
      limitedResponse: (_req, info) =>
        Response.json(
          { type: 'https://iana.org/assignments/http-problem-types#quota-exceeded', limit: info.limit },
          { status: 429, headers: { 'content-type': 'application/problem+json' } },
        ),
    });
    await problem(makeRequest(), recordingNext());
    const res = await problem(makeRequest(), recordingNext());
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(res.headers.get('retry-after'), '91');
    assert.equal(res.headers.get('ratelimit'), '"default";r=0;t=91');
    assert.match((await bodyBytes(res.body)).toString(), /"limit":1/);
  });

  it('stacked limiters append their policies as one list each field', async () => {
    const perSecond = rateLimit({ limit: 5, windowMs: 1_000, policyName: 'burst' });
    const perHour = rateLimit({ limit: 100, windowMs: 3_600_000, policyName: 'hourly' });
    const res = await perSecond(makeRequest(), () =>
      Promise.resolve(perHour(makeRequest(), recordingNext())),
    );
    assert.deepEqual(res.headers.getAll('ratelimit-policy'), ['"hourly";q=100;w=3600', '"burst";q=5;w=1']);
    assert.deepEqual(res.headers.getAll('ratelimit'), ['"hourly";r=99;t=3600', '"burst";r=4;t=1']);
  });

  it('rejects out-of-range options with RateLimitError', () => {
    const bad = [
      { limit: 0 },
      { limit: 1.5 },
      { windowMs: 0 },
      { maxKeys: -1 },
      { ipv6Subnet: 129 },
      { statusCode: 42 },
      { policyName: 'caf\u00e9' },
    ];
    for (const options of bad) {
      assert.throws(
        () => rateLimit(options),
        (e: unknown) => e instanceof RateLimitError && e.code === 'AVX_RATE_LIMIT_INVALID_OPTION',
        JSON.stringify(options),
      );
    }
  });
});

describe('MemoryRateLimitStore', () => {
  it('stays within maxKeys under a flood of distinct keys, evicting the oldest and counting it', () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ maxKeys: 100, now: clock.now });
    for (let i = 0; i < 10_000; i++) {
      store.increment(`flood-${i}`, 60_000);
      assert.ok(store.size <= 100);
    }
    assert.equal(store.size, 100);
    assert.equal(store.evictions, 9_900);
    // The newest keys are the ones kept.
    assert.equal(store.increment('flood-9999', 60_000).count, 2);
    assert.equal(store.increment('flood-0', 60_000).count, 1);
    store.close();
  });

  it('does not count keys whose windows had expired as evictions', () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ maxKeys: 2, now: clock.now });
    store.increment('a', 1_000);
    store.increment('b', 1_000);
    clock.set(5_000);
    store.increment('c', 1_000);
    store.increment('d', 1_000);
    assert.equal(store.size, 2);
    assert.equal(store.evictions, 0);
    store.increment('e', 1_000);
    assert.equal(store.evictions, 1);
    store.close();
  });

  it('moves a key whose window moves on to the back, so live keys outlast idle ones', () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ maxKeys: 2, now: clock.now });
    store.increment('old-but-active', 1_000);
    clock.set(500);
    store.increment('idle', 1_000);
    clock.set(1_200);
    store.increment('old-but-active', 1_000); // its window moves on: now the newest entry
    store.increment('new', 1_000);
    assert.equal(store.increment('old-but-active', 1_000).count, 2);
    assert.equal(store.increment('idle', 1_000).count, 1, 'idle was the one evicted');
    store.close();
  });

  it('returns counters: count, previous count, and ms into the window', () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ now: clock.now });
    assert.deepEqual({ ...store.increment('k', 1_000) }, { count: 1, previousCount: 0, elapsedMs: 0 });
    clock.set(400);
    assert.deepEqual({ ...store.increment('k', 1_000) }, { count: 2, previousCount: 0, elapsedMs: 400 });
    clock.set(1_300);
    assert.deepEqual({ ...store.increment('k', 1_000) }, { count: 1, previousCount: 2, elapsedMs: 300 });
    clock.set(3_100);
    assert.deepEqual({ ...store.increment('k', 1_000) }, { count: 1, previousCount: 0, elapsedMs: 0 });
    store.reset('k');
    assert.equal(store.size, 0);
    store.close();
  });

  it('sweeps expired windows on its TimerWheel, and holds no timer once empty', () => {
    const clock = manualClock(0);
    const armed: unknown[] = [];
    const timers: TimerWheelTimers = {
      set: (_callback, delayMs) => {
        armed.push(delayMs);
        return armed.length;
      },
      clear: () => {},
    };
    const wheel = new TimerWheel({ clock: clock.now, timers });
    const store = new MemoryRateLimitStore({ now: clock.now, timerWheel: wheel, sweepIntervalMs: 5_000 });
    store.increment('a', 1_000);
    store.increment('b', 10_000);
    assert.equal(wheel.size, 1, 'one sweep timer for the whole store');
    clock.set(5_000);
    wheel.runDue();
    assert.equal(store.size, 1, "a's windows expired; b's did not");
    assert.equal(wheel.size, 1, 're-armed while keys remain');
    clock.set(20_000);
    wheel.runDue();
    assert.equal(store.size, 0);
    assert.equal(wheel.size, 0, 'an empty store holds no timer');
    store.increment('c', 1_000);
    assert.equal(wheel.size, 1);
    store.close();
    assert.equal(wheel.size, 0);
    wheel.close();
  });
});

describe('rateLimit store failures', () => {
  class FailingStore implements RateLimitStore {
    calls = 0;
    constructor(private readonly how: 'throw' | 'reject' | 'garbage') {}
    increment(): RateLimitCounters | Promise<RateLimitCounters> {
      this.calls++;
      if (this.how === 'throw') throw new Error('store down');
      if (this.how === 'reject') return Promise.reject(new Error('store down'));
      return { count: Number.NaN, previousCount: 0, elapsedMs: 0 };
    }
  }

  for (const how of ['throw', 'reject', 'garbage'] as const) {
    it(`fails open when the store ${how === 'garbage' ? 'returns invalid counters' : `${how}s`}`, async () => {
      const errors: unknown[] = [];
      const store = new FailingStore(how);
      const mw = rateLimit({ limit: 1, store, onStoreError: (e) => errors.push(e) });
      const next = recordingNext();
      for (let i = 0; i < 3; i++) {
        const res = await mw(makeRequest(), next);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('ratelimit'), undefined);
      }
      assert.equal(next.calls, 3);
      assert.equal(errors.length, 3);
      assert.ok(errors[0] instanceof Error);
    });
  }

  it('fails closed with RateLimitError when failOpen is false', async () => {
    const cause = new Error('store down');
    const mw = rateLimit({
      failOpen: false,
      onStoreError: () => {},
      store: {
        increment() {
          throw cause;
        },
      },
    });
    const next = recordingNext();
    await assert.rejects(
      () => Promise.resolve(mw(makeRequest(), next)),
      (e: unknown) =>
        e instanceof RateLimitError && e.code === 'AVX_RATE_LIMIT_STORE_FAILED' && e.cause === cause,
    );
    assert.equal(next.calls, 0);
  });

  it('warns once per run of failures by default', async () => {
    let failing = true;
    const counters: RateLimitCounters = { count: 1, previousCount: 0, elapsedMs: 0 };
    const mw = rateLimit({
      store: {
        increment() {
          if (failing) throw new Error('store down');
          return counters;
        },
      },
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'AvxRateLimitWarning') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 3; i++) await mw(makeRequest(), recordingNext());
      failing = false;
      await mw(makeRequest(), recordingNext());
      failing = true;
      await mw(makeRequest(), recordingNext());
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!.message, /store down/);
  });
});

describe('rateLimit over a real connection', () => {
  function get(
    port: number,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 429 with Retry-After and the RateLimit fields on the wire (node:http client)', async () => {
    const app = new App();
    // A frozen clock keeps the values exact however slow the machine is.
    app.use(rateLimit({ limit: 2, windowMs: 60_000, store: new MemoryRateLimitStore({ now: () => 0 }) }));
    app.get('/', () => 'hello');
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const first = await get(server.port);
      assert.equal(first.status, 200);
      assert.equal(first.headers['ratelimit-policy'], '"default";q=2;w=60');
      assert.equal(first.headers.ratelimit, '"default";r=1;t=60');
      const second = await get(server.port);
      assert.equal(second.headers.ratelimit, '"default";r=0;t=60');
      const third = await get(server.port);
      assert.equal(third.status, 429);
      // Count 3 at 0 ms: 60 s, then floor(3 * (60 - e) / 60) + 1 <= 2 once e > 20 s.
      assert.equal(third.headers['retry-after'], '81');
      assert.equal(third.headers['ratelimit-policy'], '"default";q=2;w=60');
      assert.equal(third.headers.ratelimit, '"default";r=0;t=81');
      assert.equal(third.headers['content-type'], 'text/plain; charset=utf-8');
    } finally {
      await server.close();
    }
  });
});
