// Tests for ServerSpanRecords (src/telemetry/tracing/server-span-records.ts): the ids of a
// batch come from one fill of random bytes and are written as their hex, both by the record
// written in full and by the records stamped over its copy; all-zero ids are made valid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Headers } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { Request } from '../../../src/server/request.js';
import {
  type ServerSpanFacts,
  ServerSpanFactsReader,
} from '../../../src/telemetry/tracing/server-span-facts.js';
import { ServerSpanRecords } from '../../../src/telemetry/tracing/server-span-records.js';
import { SpanHeaderFields } from '../../../src/telemetry/tracing/span-header-fields.js';

function request(): Request {
  return new Request({
    method: 'GET',
    target: '/hello?x=1',
    headers: new Headers({ host: 'api.example:8080', 'user-agent': 'tester/1' }),
    body: IncomingBody.empty(),
    protocol: 'http/1.1',
    connection: { remoteAddress: '127.0.0.1', remotePort: 1, secure: false },
  });
}

/** The facts of `request()` answered 200 on route `/hello`. */
function helloFacts(): ServerSpanFacts {
  const req = request();
  return new ServerSpanFactsReader().read(req, '/hello', 200, new SpanHeaderFields().read(req.headers));
}

/**
 * Draws the ids of the `n` records held, encodes them into `buf`, lets go of them, and returns
 * them parsed, with the number of records each `encodeFrom` call wrote.
 */
function encodeAll<T>(records: ServerSpanRecords, n: number, buf: Buffer): { spans: T[]; runs: number[] } {
  records.drawIds();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const spans: T[] = [];
  const runs: number[] = [];
  let at = 0;
  for (let i = 0; i < n; i = records.encodedTo) {
    const end = records.encodeFrom(i, buf, view, at, 0);
    assert.ok(end > at);
    spans.push(...JSON.parse(`[${buf.toString('latin1', at, end)}]`));
    runs.push(records.encodedTo - i);
    at = end;
  }
  records.clear();
  return { spans, runs };
}

test('record ids are the hex of the batch random bytes, written in full or stamped, zero ids fixed', () => {
  const ID_BYTES = 24;
  const zeroTrace = 2;
  const zeroSpan = 3;
  // Known bytes: every byte value appears, in an order a swapped byte or nibble would show.
  const fill = (buf: Buffer, offset: number, size: number) => {
    for (let k = 0; k < size; k++) buf[offset + k] = (k * 37 + 11) & 0xff;
    buf.fill(0, offset + zeroTrace * ID_BYTES, offset + zeroTrace * ID_BYTES + 16);
    buf.fill(0, offset + zeroSpan * ID_BYTES + 16, offset + zeroSpan * ID_BYTES + 24);
  };
  const records = new ServerSpanRecords(fill);
  const facts = helloFacts();
  const parent = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    traceState: undefined,
    remote: true,
  };
  const now = Date.now();
  const n = 40;
  for (let i = 0; i < n; i++) {
    records.add(facts, i === 5 ? parent : undefined, undefined, now + i, now + i + 0.25);
  }
  const expected = Buffer.alloc(n * ID_BYTES);
  fill(expected, 0, expected.length);
  const { spans, runs } = encodeAll<Record<string, unknown>>(records, n, Buffer.alloc(1 << 16));
  // The first record and the one with a parent are written in full; the others in runs of
  // copies: 1, then 4 copies, the parent's, then 34 (the template made for the records without
  // a parent is taken up again: ServerSpanRecords keeps templates by facts).
  assert.deepEqual(runs, [1, 4, 1, 34]);
  assert.equal(spans.length, n);
  for (let i = 0; i < n; i++) {
    const span = spans[i]!;
    const ids = expected.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
    let traceId = ids.toString('hex', 0, 16);
    let spanId = ids.toString('hex', 16, 24);
    // W3C Trace Context §3.2.2.3: all-zero ids are invalid; the last bit is set instead.
    if (i === zeroTrace) traceId = `${'0'.repeat(30)}01`;
    if (i === zeroSpan) spanId = `${'0'.repeat(14)}01`;
    if (i === 5) {
      traceId = parent.traceId;
      assert.equal(span.parentSpanId, parent.spanId);
    }
    assert.equal(span.traceId, traceId, `trace id of record ${i}`);
    assert.equal(span.spanId, spanId, `span id of record ${i}`);
    assert.equal(span.startTimeUnixNano, String(BigInt(now + i) * 1_000_000n));
    assert.equal(span.endTimeUnixNano, String(BigInt(now + i) * 1_000_000n + 250_000n));
  }
});

test('copies stamped across a second boundary, and in the batch after, carry exact times', () => {
  const records = new ServerSpanRecords();
  const facts = helloFacts();
  const buf = Buffer.alloc(1 << 16);
  // 0.9 s into a second: a batch of 40 spans 5 ms apart crosses into the next second in the
  // middle of a run of copies (the template's seconds digits are the first second's).
  const base = Math.floor(Date.now() / 1000) * 1000 + 900;
  for (const batch of [0, 1]) {
    const from = base + batch * 200;
    const n = 40;
    for (let i = 0; i < n; i++) records.add(facts, undefined, undefined, from + 5 * i, from + 5 * i + 1.5);
    const { spans } = encodeAll<{ startTimeUnixNano: string; endTimeUnixNano: string }>(records, n, buf);
    for (let i = 0; i < n; i++) {
      const ms = BigInt(from + 5 * i);
      assert.equal(spans[i]!.startTimeUnixNano, String(ms * 1_000_000n), `batch ${batch} start ${i}`);
      assert.equal(
        spans[i]!.endTimeUnixNano,
        String(ms * 1_000_000n + 1_500_000n),
        `batch ${batch} end ${i}`,
      );
    }
  }
});

test('batches draw their ids from one pool of random bytes, refilled when it runs out', () => {
  const fills: number[] = [];
  // Known bytes with no short period: xorshift32 from a seed per fill.
  const known = (seed: number, size: number): Buffer => {
    const out = Buffer.alloc(size);
    let x = seed;
    for (let k = 0; k < size; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[k] = x & 0xff;
    }
    return out;
  };
  const fill = (buf: Buffer, offset: number, size: number) => {
    fills.push(size);
    known(fills.length, size).copy(buf, offset);
  };
  const records = new ServerSpanRecords(fill);
  const facts = helloFacts();
  const buf = Buffer.alloc(1 << 22);
  const spanIds = (n: number): string[] => {
    const now = Date.now();
    for (let i = 0; i < n; i++) records.add(facts, undefined, undefined, now, now + 1);
    return encodeAll<{ spanId: string }>(records, n, buf).spans.map((span) => span.spanId);
  };
  const first = spanIds(40);
  const second = spanIds(40);
  assert.equal(fills.length, 1, 'both batches from the first fill');
  // The second batch's ids are the pool bytes after the first batch's.
  const pool = known(1, fills[0]!);
  assert.equal(first[0], pool.toString('hex', 16, 24));
  assert.equal(second[0], pool.toString('hex', 40 * 24 + 16, 40 * 24 + 24));
  assert.equal(new Set([...first, ...second]).size, 80);
  // A batch larger than what is left of the pool refills it, large enough for the batch.
  const big = spanIds(3000);
  assert.equal(fills.length, 2);
  assert.ok(fills[1]! >= 3000 * 24);
  assert.equal(big.length, 3000);
});
