// End to end, the exporter's `compression` (otlp-http-exporter.ts, otlp-json-gzip-body.ts): with
// `compression: 'gzip'` export requests carry `content-encoding: gzip` and a gzip body, which a receiving
// node:http server inflates (node:zlib checks the CRC-32 and the size) into OTLP JSON that the
// official opentelemetry-proto definitions accept, and that says what the uncompressed export
// of the same requests says. By default (`'none'`) the JSON goes as it is; protobuf bodies
// are compressed too; an unknown compression is refused with a typed error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../../src/client/client.js';
import { AvxError } from '../../../src/core/errors.js';
import { App } from '../../../src/server/app.js';
import { OtlpHttpExporter } from '../../../src/telemetry/tracing/otlp-http-exporter.js';
import type { OtlpCompression, OtlpProtocol } from '../../../src/telemetry/tracing/otlp-protocol.js';
import { tracing } from '../../../src/telemetry/tracing/tracing-middleware.js';
import {
  type OtlpJsonSpan,
  OtlpReceiver,
  type ReceivedExport,
  validateExportTraceServiceRequest,
} from './otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
/** Enough alike requests for runs of one template, with callers and other routes between. */
const PATHS = Array.from({ length: 300 }, (_, i) => (i % 13 === 12 ? `/users/${i}` : '/hello'));

async function exportRequests(
  compression: OtlpCompression | undefined,
  protocol: OtlpProtocol = 'http/json',
): Promise<{ received: ReceivedExport[]; spans: OtlpJsonSpan[] }> {
  const receiver = await OtlpReceiver.start();
  const tracer = tracing({
    exporter: { url: receiver.url, scheduleDelay: 60_000, maxBatchSize: 16, protocol, compression },
  });
  const app = new App().use(tracer);
  app.get('/hello', () => 'hello');
  app.get('/users/:id', (req) => `user ${req.params.id}`);
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    for (const [i, path] of PATHS.entries()) {
      const headers: Record<string, string> = { 'user-agent': 'avx-test' };
      if (i % 9 === 4) headers.traceparent = `00-${TRACE}-${SPAN}-01`;
      const res = await client.get(`http://127.0.0.1:${server.port}${path}`, { headers });
      await res.dump();
    }
    await tracer.flush();
    assert.equal(tracer.exporter!.exportedSpans, PATHS.length);
    return { received: receiver.received, spans: receiver.spans() as unknown as OtlpJsonSpan[] };
  } finally {
    await client.close();
    await server.close();
    await tracer.close();
    await receiver.close();
  }
}

/** A span without what differs between two runs: ids of new traces, times, the port. */
function comparable(span: OtlpJsonSpan): Record<string, unknown> {
  const { spanId: _s, startTimeUnixNano: _a, endTimeUnixNano: _b, traceId, attributes, ...rest } = span;
  return {
    ...rest,
    traceId: span.parentSpanId === undefined ? 'new' : traceId,
    attributes: attributes.map((a) => (a.key === 'server.port' ? { key: a.key, value: 'port' } : a)),
  };
}

test('gzip-compressed export requests say what uncompressed ones (the default) say', async () => {
  const gzip = await exportRequests('gzip');
  const plain = await exportRequests(undefined);
  assert.ok(gzip.received.length >= 3, 'several batches');
  for (const r of gzip.received) {
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.contentType, 'application/json');
    assert.deepEqual([...r.wire.subarray(0, 2)], [0x1f, 0x8b]);
    validateExportTraceServiceRequest(r.body);
  }
  for (const r of plain.received) {
    assert.equal(r.headers['content-encoding'], undefined);
    assert.deepEqual(r.wire, r.raw);
    validateExportTraceServiceRequest(r.body);
  }
  assert.equal(gzip.spans.length, PATHS.length);
  assert.deepEqual(gzip.spans.map(comparable), plain.spans.map(comparable));
  const wire = (rs: ReceivedExport[]) => rs.reduce((n, r) => n + r.wire.length, 0);
  assert.ok(
    wire(gzip.received) < wire(plain.received) * 0.75,
    `fewer bytes on the wire: ${wire(gzip.received)} of ${wire(plain.received)}`,
  );
  // Every span its own ids.
  assert.equal(new Set(gzip.spans.map((s) => s.spanId)).size, PATHS.length);
  for (const s of gzip.spans) assert.match(s.spanId, /^[0-9a-f]{16}$/);
});

test('protobuf export requests are gzip-compressed too', async () => {
  const { received, spans } = await exportRequests('gzip', 'http/protobuf');
  for (const r of received) {
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.contentType, 'application/x-protobuf');
    assert.deepEqual([...r.wire.subarray(0, 2)], [0x1f, 0x8b]);
  }
  assert.equal(spans.length, PATHS.length);
});

test('an unknown compression is refused with AVX_OTLP_UNSUPPORTED_COMPRESSION', () => {
  assert.throws(
    () => new OtlpHttpExporter({ compression: 'br' as OtlpCompression }),
    (err: unknown) => err instanceof AvxError && err.code === 'AVX_OTLP_UNSUPPORTED_COMPRESSION',
  );
  assert.doesNotThrow(() => new OtlpHttpExporter({ compression: 'none' }));
});
