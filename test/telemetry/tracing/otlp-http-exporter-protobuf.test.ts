// End to end, `tracing({ exporter: { protocol: 'http/protobuf' } })` (otlp-http-exporter.ts,
// otlp-protobuf-request.ts): a real server app exports to a receiving server on 127.0.0.1,
// which checks the content type and decodes the body with the official opentelemetry-proto
// definitions. The spans must say what the JSON export of the same requests says, and the
// retries and counters must work as they do for JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../../src/client/client.js';
import { App } from '../../../src/server/app.js';
import { OtlpHttpExporter } from '../../../src/telemetry/tracing/otlp-http-exporter.js';
import { type OtlpProtocol, OtlpProtocolError } from '../../../src/telemetry/tracing/otlp-protocol.js';
import { Span, SpanKind } from '../../../src/telemetry/tracing/span.js';
import {
  isActiveSpanCarried,
  setActiveSpanCarried,
} from '../../../src/telemetry/tracing/trace-context-storage.js';
import { tracing } from '../../../src/telemetry/tracing/tracing-middleware.js';
import {
  exportTraceServiceRequestType,
  type OtlpJsonSpan,
  OtlpReceiver,
  type ReceivedExport,
} from './otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** Requests: a run of alike ones, a caller's context with tracestate, a route, an error. */
const CALLS: { path: string; headers?: Record<string, string> }[] = [
  { path: '/hello' },
  { path: '/hello' },
  { path: '/hello' },
  { path: '/hello' },
  { path: '/hello', headers: { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=abc' } },
  { path: '/hello', headers: { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=abc' } },
  { path: '/users/7?full=1' },
  { path: '/boom' },
  { path: '/hello' },
];

/**
 * Serves CALLS from an app traced with `protocol` (the server spans kept as records unless
 * `carried`), and returns what the receiver got.
 */
async function exportCalls(
  protocol: OtlpProtocol,
  carried: boolean,
): Promise<{ received: ReceivedExport[]; spans: OtlpJsonSpan[] }> {
  setActiveSpanCarried(carried);
  const receiver = await OtlpReceiver.start();
  const tracer = tracing({ exporter: { url: receiver.url, scheduleDelay: 60_000, protocol } });
  const app = new App().use(tracer);
  app.get('/hello', () => 'hello');
  app.get('/users/:id', (req) => `user ${req.params.id}`);
  app.get('/boom', () => {
    throw new Error('boom');
  });
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    for (const call of CALLS) {
      const res = await client.get(`http://127.0.0.1:${server.port}${call.path}`, {
        headers: { 'user-agent': 'avx-test', ...call.headers },
      });
      await res.dump();
    }
    assert.equal(isActiveSpanCarried(), carried);
    await tracer.flush();
    assert.equal(tracer.exporter!.exportedSpans, CALLS.length);
    return { received: receiver.received, spans: receiver.spans() as unknown as OtlpJsonSpan[] };
  } finally {
    await client.close();
    await server.close();
    await tracer.close();
    await receiver.close();
    setActiveSpanCarried(true);
  }
}

/** A span without what differs between two runs: ids of new traces, times, the port. */
function comparable(span: OtlpJsonSpan): Record<string, unknown> {
  const {
    spanId: _s,
    startTimeUnixNano: _a,
    endTimeUnixNano: _b,
    traceId,
    attributes,
    status,
    ...rest
  } = span;
  return {
    ...rest,
    // An unset status is `{"code":0}` in our JSON, left out (the default) in protobuf.
    status: status?.code ?? 0,
    traceId: span.parentSpanId === undefined ? 'new' : traceId,
    attributes: attributes.map((a) => (a.key === 'server.port' ? { key: a.key, value: 'port' } : a)),
  };
}

function attr(span: OtlpJsonSpan, key: string): unknown {
  const kv = span.attributes.find((a) => a.key === key);
  return kv === undefined ? undefined : Object.values(kv.value)[0];
}

for (const carried of [false, true]) {
  const how = carried ? 'spans made as requests start' : 'server spans kept as records';
  test(`an app exports ${how} as OTLP protobuf that says what its JSON says`, async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const protobuf = await exportCalls('http/protobuf', carried);
    const after = BigInt(Date.now()) * 1_000_000n;
    const json = await exportCalls('http/json', carried);
    assert.ok(protobuf.received.length > 0);
    const type = exportTraceServiceRequestType();
    for (const r of protobuf.received) {
      assert.equal(r.contentType, 'application/x-protobuf');
      // The bytes are the official message: re-encoding what was decoded gives them back.
      assert.deepEqual(Buffer.from(type.encode(type.decode(r.raw)).finish()), r.raw);
    }
    for (const r of json.received) assert.equal(r.contentType, 'application/json');
    const spans = protobuf.spans;
    assert.equal(spans.length, CALLS.length);
    assert.deepEqual(spans.map(comparable), json.spans.map(comparable));
    // From the calls themselves, in case both encodings shared a mistake.
    CALLS.forEach((call, i) => {
      const span = spans[i]!;
      const [path, query] = call.path.split('?');
      assert.equal(span.kind, 2, `span ${i} is SERVER`);
      assert.equal(attr(span, 'url.path'), path);
      assert.equal(attr(span, 'url.query'), query);
      assert.equal(attr(span, 'user_agent.original'), 'avx-test');
      assert.equal(attr(span, 'server.address'), '127.0.0.1');
      assert.match(String(attr(span, 'server.port')), /^[1-9]\d*$/);
      assert.equal(span.parentSpanId, call.headers === undefined ? undefined : SPAN);
      assert.equal(span.traceState, call.headers?.tracestate);
      if (call.headers !== undefined) assert.equal(span.traceId, TRACE);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      const start = BigInt(span.startTimeUnixNano);
      const end = BigInt(span.endTimeUnixNano);
      assert.ok(before <= start && start <= end && end <= after + 1_000_000n, `${start} ${end}`);
    });
    assert.equal(spans[0]!.name, 'GET /hello');
    assert.equal(spans[6]!.name, 'GET /users/:id');
    assert.equal(attr(spans[7]!, 'http.response.status_code'), '500');
    assert.equal(attr(spans[7]!, 'error.type'), '500');
    assert.deepEqual(spans[7]!.status, { code: 2 });
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'span ids are distinct');
  });
}

test('server and client spans of one trace link up in the protobuf export', async () => {
  const receiver = await OtlpReceiver.start();
  const tracer = tracing({ exporter: { url: receiver.url, scheduleDelay: 20, protocol: 'http/protobuf' } });
  const client = new Client({ tracing: true, retry: false });
  const app = new App().use(tracer);
  app.get('/down', () => 'down');
  app.get('/up', async (req) => {
    const res = await client.get(`http://127.0.0.1:${req.headers.get('x-port')}/down`);
    return `up:${await res.text()}`;
  });
  const server = await app.listen({ port: 0 });
  const plain = new Client({ retry: false });
  try {
    const res = await plain.get(`http://127.0.0.1:${server.port}/up`, {
      headers: { traceparent: `00-${TRACE}-${SPAN}-01`, 'x-port': String(server.port) },
    });
    assert.equal(await res.text(), 'up:down');
    await tracer.flush();
    await client.close();
    const spans = (await receiver.waitForSpans(3)) as unknown as OtlpJsonSpan[];
    for (const r of receiver.received) assert.equal(r.contentType, 'application/x-protobuf');
    const up = spans.find((s) => s.name === 'GET /up')!;
    const down = spans.find((s) => s.name === 'GET /down')!;
    const call = spans.find((s) => s.kind === 3)!;
    assert.equal(spans.length, 3);
    assert.deepEqual([up.traceId, call.traceId, down.traceId], [TRACE, TRACE, TRACE]);
    assert.equal(up.parentSpanId, SPAN);
    assert.equal(call.parentSpanId, up.spanId, 'the client span is a child of the server span');
    assert.equal(down.parentSpanId, call.spanId, 'the downstream server span, of the client span');
    assert.equal(call.name, 'GET');
    assert.equal(attr(call, 'url.full'), `http://127.0.0.1:${server.port}/down`);
    assert.equal(attr(call, 'http.response.status_code'), '200');
    assert.equal(attr(call, 'server.port'), String(server.port));
  } finally {
    await plain.close();
    await client.close();
    await server.close();
    await tracer.close();
    await receiver.close();
  }
});

test('a protobuf export is retried as a JSON one is, and its body buffer reused once accepted', async () => {
  // The retry code is the JSON path's own (tracing-middleware.test.ts tests it at length).
  const receiver = await OtlpReceiver.start();
  const exporter = new OtlpHttpExporter({ url: receiver.url, initialBackoff: 5, protocol: 'http/protobuf' });
  const end = (name: string) =>
    new Span(name, SpanKind.Internal, TRACE, '1111111111111111', undefined, true, exporter).end();
  try {
    receiver.failures.push(503, 429);
    end('a');
    await exporter.flush();
    assert.deepEqual([exporter.exportedSpans, exporter.failedRequests], [1, 2]);
    // Later batches are written over the first one's accepted body: smaller, then larger.
    for (const names of [['b'], ['c', 'd', 'e']]) {
      for (const name of names) end(name);
      await exporter.flush();
    }
    assert.deepEqual(
      receiver.spans().map((s) => s.name),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.deepEqual(
      receiver.received.map((r) => r.contentType),
      new Array(3).fill('application/x-protobuf'),
    );
  } finally {
    await exporter.shutdown();
    await receiver.close();
  }
});

test('an unknown protocol is refused with AVX_OTLP_UNSUPPORTED_PROTOCOL', () => {
  assert.throws(
    () => new OtlpHttpExporter({ protocol: 'grpc' as OtlpProtocol }),
    (err: unknown) =>
      err instanceof OtlpProtocolError &&
      err.code === 'AVX_OTLP_UNSUPPORTED_PROTOCOL' &&
      err.protocol === 'grpc',
  );
  assert.doesNotThrow(() => new OtlpHttpExporter({ protocol: 'http/json' }));
});

test('protobuf is the default encoding; OTEL_EXPORTER_OTLP_PROTOCOL or `protocol` asks for JSON', async () => {
  // OpenTelemetry specification, OTLP Exporter Configuration: "If no configuration is provided
  // the default transport SHOULD be http/protobuf".
  const receiver = await OtlpReceiver.start();
  const configs = [
    { env: {} },
    { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } },
    { env: {}, protocol: 'http/json' as const },
    { env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, protocol: 'http/protobuf' as const },
  ];
  try {
    for (const config of configs) {
      const exporter = new OtlpHttpExporter({ url: receiver.url, ...config });
      new Span('one', SpanKind.Internal, TRACE, '1111111111111111', undefined, true, exporter).end();
      await exporter.shutdown();
    }
    assert.deepEqual(
      receiver.received.map((r) => r.contentType),
      ['application/x-protobuf', 'application/json', 'application/json', 'application/x-protobuf'],
    );
    assert.deepEqual(
      receiver.spans().map((s) => s.name),
      ['one', 'one', 'one', 'one'],
    );
  } finally {
    await receiver.close();
  }
});
