import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parentBasedSampler, ratioSampler } from '../../../src/telemetry/tracing/sampler.js';
import { newSpanId, newTraceId } from '../../../src/telemetry/tracing/trace-ids.js';
import {
  formatTraceparent,
  parseTraceparent,
  validTracestate,
} from '../../../src/telemetry/tracing/w3c-trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('a valid traceparent is parsed (W3C Trace Context §3.2)', () => {
  const ctx = parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'congo=t61rcWkgMzE, rojo=00f067aa0ba902b7');
  assert.deepEqual(ctx, {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 1,
    traceState: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    remote: true,
  });
  assert.equal(formatTraceparent(ctx!), `00-${TRACE}-${SPAN}-01`);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags, 0);
});

test('invalid traceparent values are rejected', () => {
  const bad = [
    undefined,
    '',
    `00-${TRACE}-${SPAN}`, // too short
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase hex (§3.2.2.3)
    `ff-${TRACE}-${SPAN}-01`, // version ff is invalid (§3.2.2.1)
    `0g-${TRACE}-${SPAN}-01`,
    `00-00000000000000000000000000000000-${SPAN}-01`, // all-zero trace-id
    `00-${TRACE}-0000000000000000-01`, // all-zero parent-id
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 is exactly 55 characters
    `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-1x`,
    `01-${TRACE}-${SPAN}-01extra`, // a future version continues only after a dash
  ];
  for (const value of bad) assert.equal(parseTraceparent(value), undefined, String(value));
  // A future version with more fields: the first four are read (§4.3).
  assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)?.traceId, TRACE);
});

test('tracestate is validated per §3.3 and dropped whole when invalid', () => {
  assert.equal(validTracestate('a=1'), 'a=1');
  assert.equal(validTracestate('tenant@vendor=x ,  b=2'), 'tenant@vendor=x,b=2');
  assert.equal(validTracestate(undefined), undefined);
  assert.equal(validTracestate('A=1'), undefined); // uppercase key
  assert.equal(validTracestate('a=1,a=2'), undefined); // duplicate key
  assert.equal(validTracestate('a=b=c'), undefined); // '=' in value
  assert.equal(validTracestate('a'), undefined);
  const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',');
  assert.equal(validTracestate(many), undefined); // more than 32 members
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'BAD=1')?.traceState, undefined);
});

test('ids are random lowercase hex of 128 and 64 bits, never all zero', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const t = newTraceId();
    const s = newSpanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    assert.notEqual(t, '0'.repeat(32));
    seen.add(t);
  }
  assert.equal(seen.size, 2000);
});

test('head sampling: ratio and parent-based', () => {
  const none = ratioSampler(0);
  const all = ratioSampler(1);
  const quarter = ratioSampler(0.25);
  let sampled = 0;
  for (let i = 0; i < 4000; i++) {
    const id = newTraceId();
    assert.equal(none.shouldSample(undefined, id), false);
    assert.equal(all.shouldSample(undefined, id), true);
    if (quarter.shouldSample(undefined, id)) sampled++;
  }
  assert.ok(sampled > 800 && sampled < 1200, `sampled ${sampled} of 4000 at 0.25`);
  // The decision depends on the trace id only: the same id gets the same answer.
  assert.equal(quarter.shouldSample(undefined, `${'0'.repeat(19)}0000000000001`), true);
  assert.equal(quarter.shouldSample(undefined, `${'f'.repeat(32)}`), false);
  const parentBased = parentBasedSampler(none);
  const parent = parseTraceparent(`00-${TRACE}-${SPAN}-01`)!;
  assert.equal(parentBased.shouldSample(parent, TRACE), true);
  assert.equal(parentBased.shouldSample({ ...parent, traceFlags: 0 }, TRACE), false);
  assert.equal(parentBased.shouldSample(undefined, TRACE), false);
});
