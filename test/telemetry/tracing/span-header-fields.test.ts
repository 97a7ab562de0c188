// Tests for SpanHeaderFields (src/telemetry/tracing/span-header-fields.ts): the four fields a
// server span reads, found in one scan, read as `Headers.get` reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Headers } from '../../../src/core/headers.js';
import { SpanHeaderFields } from '../../../src/telemetry/tracing/span-header-fields.js';

const NAMES = ['host', 'user-agent', 'traceparent', 'tracestate'] as const;
const FIELDS = ['host', 'userAgent', 'traceparent', 'tracestate'] as const;

function expectLikeGet(headers: Headers, fields: SpanHeaderFields): void {
  for (let k = 0; k < NAMES.length; k++) {
    assert.equal(fields[FIELDS[k]], headers.get(NAMES[k]), NAMES[k]);
  }
}

test('span header fields read as Headers.get: any spelling, repeated lines joined, absent ones undefined', () => {
  const fields = new SpanHeaderFields();
  const full = Headers.fromFlat([
    'HOST',
    'api.example:8080',
    'Accept',
    '*/*',
    'User-Agent',
    'tester/1',
    'traceParent',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'tracestate',
    'a=1',
    'TraceState',
    'b=2',
  ]);
  expectLikeGet(full, fields.read(full));
  assert.equal(fields.tracestate, 'a=1, b=2');
  // The same object, read again for a request without those fields: nothing left over.
  const bare = Headers.fromFlat(['Accept', '*/*']);
  expectLikeGet(bare, fields.read(bare));
  assert.equal(fields.host, undefined);
  assert.equal(fields.userAgent, undefined);
});
