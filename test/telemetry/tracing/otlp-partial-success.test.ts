import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';
import { partialSuccessOf } from '../../../src/telemetry/tracing/otlp-partial-success.js';
import { Span, SpanKind } from '../../../src/telemetry/tracing/span.js';
import { tracing } from '../../../src/telemetry/tracing/tracing-middleware.js';
import { exportTraceServiceResponseType, OtlpReceiver } from './otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

test('a JSON answer: partialSuccess or partial_success, the count as a string or a number', () => {
  assert.deepEqual(
    partialSuccessOf(
      json({ partialSuccess: { rejectedSpans: '3', errorMessage: 'too old' } }),
      'application/json',
    ),
    { rejectedSpans: 3, errorMessage: 'too old' },
  );
  assert.deepEqual(
    partialSuccessOf(json({ partial_success: { rejected_spans: 2 } }), 'application/json; charset=utf-8'),
    { rejectedSpans: 2, errorMessage: '' },
  );
  // A warning with nothing rejected is still reported; an empty partial success is none.
  assert.deepEqual(
    partialSuccessOf(json({ partialSuccess: { errorMessage: 'slow down' } }), 'application/json'),
    {
      rejectedSpans: 0,
      errorMessage: 'slow down',
    },
  );
  assert.equal(partialSuccessOf(json({ partialSuccess: {} }), 'application/json'), undefined);
  assert.equal(partialSuccessOf(json({}), 'application/json'), undefined);
  assert.equal(partialSuccessOf(Buffer.alloc(0), 'application/json'), undefined);
  // Not JSON, or nonsense counts: nothing rejected.
  assert.equal(partialSuccessOf(Buffer.from('{"partialSucc'), 'application/json'), undefined);
  assert.equal(
    partialSuccessOf(json({ partialSuccess: { rejectedSpans: '-4' } }), 'application/json'),
    undefined,
  );
  // No media type: the first byte tells.
  assert.deepEqual(partialSuccessOf(json({ partialSuccess: { rejectedSpans: 1 } }), undefined), {
    rejectedSpans: 1,
    errorMessage: '',
  });
});

test('a protobuf answer, as the official definitions encode it, and malformed ones', () => {
  const type = exportTraceServiceResponseType();
  const encoded = Buffer.from(
    type.encode({ partialSuccess: { rejectedSpans: 300, errorMessage: 'quota exceeded' } }).finish(),
  );
  assert.deepEqual(partialSuccessOf(encoded, 'application/x-protobuf'), {
    rejectedSpans: 300,
    errorMessage: 'quota exceeded',
  });
  assert.equal(partialSuccessOf(Buffer.from(type.encode({}).finish()), 'application/x-protobuf'), undefined);
  // Unknown fields around it (varint, fixed64, fixed32, bytes) are skipped.
  const withUnknown = Buffer.concat([
    Buffer.from([0x10, 0x96, 0x01, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4, 0x2a, 0x02, 0x61, 0x62]),
    encoded,
  ]);
  assert.equal(partialSuccessOf(withUnknown, 'application/x-protobuf')?.rejectedSpans, 300);
  // Cut short, or a length past the end: not read.
  assert.equal(
    partialSuccessOf(encoded.subarray(0, encoded.length - 3), 'application/x-protobuf'),
    undefined,
  );
  assert.equal(partialSuccessOf(Buffer.from([0x0a, 0x7f, 0x08, 0x01]), 'application/x-protobuf'), undefined);
  assert.equal(partialSuccessOf(Buffer.from([0x0a, 0x02, 0x08]), 'application/x-protobuf'), undefined);
  assert.equal(partialSuccessOf(Buffer.from([0x0f]), 'application/x-protobuf'), undefined);
});

for (const protocol of ['http/json', 'http/protobuf'] as const) {
  test(`spans a collector reports rejected (${protocol}) are counted apart from the exported ones, and not retried`, async () => {
    const receiver = await OtlpReceiver.start();
    const registry = new MetricsRegistry();
    const t = tracing({
      exporter: { url: receiver.url, protocol, scheduleDelay: 60_000, env: false },
      registry,
      env: false,
    });
    const exporter = t.exporter!;
    try {
      receiver.rejections.push({ rejectedSpans: 2, errorMessage: 'spans too old' });
      const end = (name: string) =>
        new Span(name, SpanKind.Internal, TRACE, '1111111111111111', undefined, true, exporter).end();
      for (let i = 0; i < 5; i++) end(`s${i}`);
      await exporter.flush();
      assert.equal(receiver.received.length, 1, 'a partial success is not retried');
      assert.equal(exporter.exportedSpans, 3);
      assert.equal(exporter.rejectedSpans, 2);
      assert.equal(exporter.lastRejection, 'spans too old');
      const text = registry.exposition();
      assert.match(text, /avx_tracing_spans_dropped_total\{reason="rejected"\} 2\n/);
      assert.match(text, /avx_tracing_spans_exported_total 3\n/);
      // The next answer reports nothing rejected.
      end('s5');
      await exporter.flush();
      assert.equal(exporter.exportedSpans, 4);
      assert.equal(exporter.rejectedSpans, 2);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
}
