import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../../src/client/client.js';
import { Headers } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { App } from '../../../src/server/app.js';
import { Request } from '../../../src/server/request.js';
import { MetricsRegistry } from '../../../src/telemetry/metrics/metrics-registry.js';
import { OtlpHttpExporter } from '../../../src/telemetry/tracing/otlp-http-exporter.js';
import { Span, SpanKind } from '../../../src/telemetry/tracing/span.js';
import { activeSpan, setActiveSpanCarried } from '../../../src/telemetry/tracing/trace-context-storage.js';
import { tracing } from '../../../src/telemetry/tracing/tracing-middleware.js';
import { OtlpReceiver, validateExportTraceServiceRequest } from './otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  traceState?: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status: { code: number };
};

function attr(span: OtlpSpan, key: string): unknown {
  const kv = span.attributes.find((a) => a.key === key);
  return kv === undefined ? undefined : Object.values(kv.value)[0];
}

test('server and client spans link through traceparent and async context, exported as valid OTLP JSON', async () => {
  const receiver = await OtlpReceiver.start();
  const registry = new MetricsRegistry();
  const tracer = tracing({
    exporter: { url: receiver.url, scheduleDelay: 20, protocol: 'http/json' },
    registry,
  });
  const client = new Client({ tracing: true, retry: false });
  const app = new App();
  app.use(tracer);
  let downstreamTraceparent: string | undefined;
  app.get('/downstream/:id', (req) => {
    downstreamTraceparent = req.headers.get('traceparent');
    return 'down';
  });
  app.get('/api/orders/:id', async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.ok(activeSpan() !== undefined);
    const res = await client.get(`http://127.0.0.1:${req.headers.get('x-port')}/downstream/${req.params.id}`);
    return `up:${await res.text()}`;
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  const server = await app.listen({ port: 0 });
  const plain = new Client({ retry: false });
  try {
    const res = await plain.get(`http://127.0.0.1:${server.port}/api/orders/42?full=1`, {
      headers: {
        traceparent: `00-${TRACE}-${SPAN}-01`,
        tracestate: 'vendor=abc',
        'x-port': String(server.port),
        'user-agent': 'avx-test',
      },
    });
    assert.equal(await res.text(), 'up:down');
    await (await plain.get(`http://127.0.0.1:${server.port}/boom`)).dump();
    await tracer.flush();
    const spans = (await receiver.waitForSpans(4)) as unknown as OtlpSpan[];
    for (const r of receiver.received) {
      assert.equal(r.contentType, 'application/json');
      validateExportTraceServiceRequest(r.body);
    }
    const upstream = spans.find((s) => s.name === 'GET /api/orders/:id')!;
    const clientSpan = spans.find((s) => s.kind === SpanKind.Client)!;
    const downstream = spans.find((s) => s.name === 'GET /downstream/:id')!;
    const boom = spans.find((s) => s.name === 'GET /boom')!;
    assert.ok(upstream && clientSpan && downstream && boom, JSON.stringify(spans.map((s) => s.name)));
    // One trace, continued from the caller; each span the child of the one before.
    assert.equal(upstream.traceId, TRACE);
    assert.equal(upstream.parentSpanId, SPAN);
    assert.equal(upstream.traceState, 'vendor=abc');
    assert.equal(upstream.kind, SpanKind.Server);
    assert.equal(clientSpan.traceId, TRACE);
    assert.equal(clientSpan.parentSpanId, upstream.spanId);
    assert.equal(downstream.traceId, TRACE);
    assert.equal(downstream.parentSpanId, clientSpan.spanId);
    assert.equal(downstreamTraceparent, `00-${TRACE}-${clientSpan.spanId}-01`);
    assert.notEqual(boom.traceId, TRACE);
    assert.equal(boom.parentSpanId, undefined);
    // OpenTelemetry HTTP semantic conventions.
    assert.equal(attr(upstream, 'http.request.method'), 'GET');
    assert.equal(attr(upstream, 'http.route'), '/api/orders/:id');
    assert.equal(attr(upstream, 'url.path'), '/api/orders/42');
    assert.equal(attr(upstream, 'url.query'), 'full=1');
    assert.equal(attr(upstream, 'http.response.status_code'), '200');
    assert.equal(attr(upstream, 'server.address'), '127.0.0.1');
    assert.equal(attr(upstream, 'server.port'), String(server.port));
    assert.equal(attr(upstream, 'user_agent.original'), 'avx-test');
    assert.equal(attr(clientSpan, 'url.full'), `http://127.0.0.1:${server.port}/downstream/42`);
    assert.equal(attr(clientSpan, 'server.address'), '127.0.0.1');
    assert.equal(attr(clientSpan, 'http.response.status_code'), '200');
    assert.equal(attr(boom, 'error.type'), '500');
    assert.equal(boom.status.code, 2);
    assert.equal(attr(upstream, 'error.type'), undefined);
    assert.match(registry.exposition(), /avx_tracing_spans_exported_total 4/);
  } finally {
    await plain.close();
    await client.close();
    await server.close();
    await tracer.close();
    await receiver.close();
  }
});

test('the active span is synchronous only until something reads it, then carried across awaits', async () => {
  setActiveSpanCarried(false);
  const started: Span[] = [];
  const tracer = tracing({ exporter: { onEnd() {} } });
  const app = new App();
  app.use(tracer);
  app.use((_req, next) => {
    started.push(activeSpan()!);
    return next();
  });
  const seen: (string | undefined)[][] = [];
  app.get('/', async () => {
    const before = activeSpan()?.spanId;
    await new Promise((resolve) => setTimeout(resolve, 1));
    seen.push([before, activeSpan()?.spanId]);
    return 'ok';
  });
  const request = () =>
    new Request({
      method: 'GET',
      target: '/',
      headers: new Headers({ host: 'x' }),
      body: IncomingBody.empty(),
      protocol: 'http/1.1',
      connection: { remoteAddress: '', remotePort: 0, secure: false },
    });
  try {
    // The first read happens in the first request, whose span was not carried: it is active
    // until the handler's first await, and not after.
    await app.handle(request());
    // From then on every request carries its span.
    await app.handle(request());
    await app.handle(request());
    assert.equal(started.length, 3);
    assert.deepEqual(seen, [
      [started[0]!.spanId, undefined],
      [started[1]!.spanId, started[1]!.spanId],
      [started[2]!.spanId, started[2]!.spanId],
    ]);
    assert.notEqual(started[1]!.spanId, started[2]!.spanId);
  } finally {
    await tracer.close();
    setActiveSpanCarried(true);
  }
});

test('an unsampled caller is honoured: nothing exported, flags 00 propagated', async () => {
  const receiver = await OtlpReceiver.start();
  const tracer = tracing({ exporter: { url: receiver.url, scheduleDelay: 10 } });
  const client = new Client({ tracing: true, retry: false });
  const app = new App().use(tracer);
  let seen: string | undefined;
  app.get('/leaf', (req) => {
    seen = req.headers.get('traceparent');
    return 'ok';
  });
  app.get('/root', async (req) =>
    (await client.get(`http://127.0.0.1:${req.headers.get('x-port')}/leaf`)).text(),
  );
  const server = await app.listen({ port: 0 });
  try {
    const res = await client.get(`http://127.0.0.1:${server.port}/root`, {
      headers: { traceparent: `00-${TRACE}-${SPAN}-00`, 'x-port': String(server.port) },
    });
    assert.equal(await res.text(), 'ok');
    await tracer.flush();
    assert.equal(receiver.spans().length, 0);
    assert.match(seen ?? '', new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  } finally {
    await client.close();
    await server.close();
    await tracer.close();
    await receiver.close();
  }
});

function endedSpan(name: string, exporter: OtlpHttpExporter): Span {
  const span = new Span(name, SpanKind.Internal, TRACE, '1111111111111111', undefined, true, exporter);
  span.setAttribute('n', 1.5).setAttribute('ok', true);
  return span;
}

test('a silent collector does not make the exporter hold batch after batch: the queue bound counts unsettled exports', async () => {
  // Regression: only the batch being filled counted against maxQueueSize, so with a collector
  // that accepted connections and never answered, full batches queued up for the connection
  // without bound.
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  let received = 0;
  const silent = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (chunk) => {
      received += chunk.length;
    });
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as import('node:net').AddressInfo;
  const exporter = new OtlpHttpExporter({
    url: `http://127.0.0.1:${port}/v1/traces`,
    maxQueueSize: 10,
    maxBatchSize: 4,
    scheduleDelay: 60_000,
    timeout: 60_000,
    maxRetries: 0,
  });
  try {
    for (let i = 0; i < 100; i++) endedSpan(`s${i}`, exporter).end();
    // At the limit: ten held (two batches of four sent, two spans filling), ninety dropped.
    assert.equal(exporter.queued, 10);
    assert.equal(exporter.droppedQueueFull, 90);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(received > 0, 'the first batch was sent');
    assert.equal(exporter.exportedSpans, 0);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
  // The connection lost, the held exports fail; with no retries their spans count as dropped.
  await exporter.shutdown();
  assert.equal(exporter.droppedExportFailed, 10);
  assert.equal(exporter.queued, 0);
});

test('the exporter retries retryable failures with backoff, then drops and counts', async () => {
  const receiver = await OtlpReceiver.start();
  try {
    const exporter = new OtlpHttpExporter({ url: receiver.url, initialBackoff: 5, maxRetries: 3 });
    receiver.failures.push(503, 429);
    endedSpan('a', exporter).end();
    await exporter.flush();
    assert.equal(exporter.exportedSpans, 1);
    assert.equal(exporter.failedRequests, 2);
    validateExportTraceServiceRequest(receiver.received[0]!.body);

    receiver.failures.push(400);
    endedSpan('b', exporter).end();
    await exporter.flush();
    assert.equal(exporter.droppedExportFailed, 1, 'a 400 is not retried');
    assert.equal(exporter.failedRequests, 3);

    receiver.failures.push(503, 503, 503, 503);
    endedSpan('c', exporter).end();
    await exporter.flush();
    assert.equal(exporter.droppedExportFailed, 2, 'dropped after maxRetries');
    assert.equal(exporter.failedRequests, 7);
    await exporter.shutdown();
  } finally {
    await receiver.close();
  }
});

test('the exporter queue is bounded and batches are capped', async () => {
  const receiver = await OtlpReceiver.start();
  try {
    const exporter = new OtlpHttpExporter({
      url: receiver.url,
      maxQueueSize: 5,
      maxBatchSize: 100,
      scheduleDelay: 60_000,
    });
    for (let i = 0; i < 8; i++) endedSpan(`s${i}`, exporter).end();
    assert.equal(exporter.queued, 5);
    assert.equal(exporter.droppedQueueFull, 3);
    await exporter.flush();
    assert.equal(exporter.exportedSpans, 5);
    const small = new OtlpHttpExporter({ url: receiver.url, maxBatchSize: 2, scheduleDelay: 60_000 });
    const before = receiver.received.length;
    for (let i = 0; i < 5; i++) endedSpan(`t${i}`, small).end();
    await small.flush();
    assert.equal(receiver.received.length - before, 3);
    await exporter.shutdown();
    await small.shutdown();
  } finally {
    await receiver.close();
  }
});

test('spans larger than a 64 KiB chunk, and many small ones around them, arrive whole', async () => {
  const receiver = await OtlpReceiver.start();
  try {
    const exporter = new OtlpHttpExporter({ url: receiver.url, scheduleDelay: 60_000 });
    const big = 'x'.repeat(150_000);
    for (let i = 0; i < 300; i++) {
      const span = endedSpan(`s${i}`, exporter);
      if (i % 100 === 50) span.setAttribute('big', `${big}${i}`);
      span.end();
    }
    await exporter.flush();
    validateExportTraceServiceRequest(receiver.received[0]!.body);
    const spans = receiver.spans() as unknown as OtlpSpan[];
    assert.deepEqual(
      spans.map((s) => s.name),
      Array.from({ length: 300 }, (_, i) => `s${i}`),
    );
    for (const i of [50, 150, 250]) assert.equal(attr(spans[i]!, 'big'), `${big}${i}`);
    assert.equal(attr(spans[51]!, 'big'), undefined);
    await exporter.shutdown();
  } finally {
    await receiver.close();
  }
});

test('the schema check rejects OTLP JSON that breaks the proto definitions', () => {
  const good = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'x' } }] },
        scopeSpans: [
          {
            scope: { name: 's', version: '1' },
            spans: [
              {
                traceId: TRACE,
                spanId: SPAN,
                name: 'n',
                kind: 2,
                startTimeUnixNano: '1',
                endTimeUnixNano: '2',
                status: { code: 0 },
              },
            ],
          },
        ],
      },
    ],
  };
  validateExportTraceServiceRequest(good);
  const mutate = (f: (span: Record<string, unknown>) => void) => {
    const copy = structuredClone(good);
    f(copy.resourceSpans[0]!.scopeSpans[0]!.spans[0]! as Record<string, unknown>);
    return copy;
  };
  assert.throws(() => validateExportTraceServiceRequest(mutate((s) => (s.kind = 9))), /enum/);
  assert.throws(() => validateExportTraceServiceRequest(mutate((s) => (s.traceId = 'xyz'))), /hex/);
  assert.throws(() => validateExportTraceServiceRequest(mutate((s) => (s.spanKind = 2))), /not a field/);
  assert.throws(
    () => validateExportTraceServiceRequest(mutate((s) => (s.startTimeUnixNano = 'soon'))),
    /64-bit/,
  );
});
