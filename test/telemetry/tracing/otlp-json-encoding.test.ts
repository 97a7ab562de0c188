import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Headers } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { App } from '../../../src/server/app.js';
import { Request } from '../../../src/server/request.js';
import { Response } from '../../../src/server/response.js';
import { HttpServerSpan } from '../../../src/telemetry/tracing/http-server-span.js';
import {
  encodeExportTraceRequest,
  encodeSpanJson,
  unixNanos,
} from '../../../src/telemetry/tracing/otlp-json-encoding.js';
import {
  appendSpanJson,
  spanJsonBound,
  writeSpanJson,
} from '../../../src/telemetry/tracing/otlp-json-span-writer.js';
import { Span, SpanKind, SpanStatusCode } from '../../../src/telemetry/tracing/span.js';
import { Tracer } from '../../../src/telemetry/tracing/tracer.js';
import { validateExportTraceServiceRequest } from './otlp-receiver.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

function get(target: string): Request {
  return new Request({
    method: 'GET',
    target,
    headers: new Headers({ host: 'x' }),
    body: IncomingBody.empty(),
    protocol: 'http/1.1',
    connection: { remoteAddress: '', remotePort: 0, secure: false },
  });
}

test('unixNanos writes exact nanoseconds without BigInt', () => {
  assert.equal(unixNanos(1700000000123.5), '1700000000123500000');
  assert.equal(unixNanos(1700000000123.25), '1700000000123250000');
  assert.equal(unixNanos(1700000000123), '1700000000123000000');
  assert.equal(unixNanos(1.0000000001), '1000000');
  assert.equal(unixNanos(1.9999999999), '2000000');
  assert.equal(unixNanos(12.000001), '12000001');
  assert.equal(unixNanos(0.5), '500000');
  // Across second and millisecond boundaries (the whole seconds are cached between calls).
  assert.equal(unixNanos(1700000000999.9998), '1700000000999999756');
  assert.equal(unixNanos(1700000001000), '1700000001000000000');
  assert.equal(unixNanos(1700000001000.001), '1700000001000000977');
  assert.equal(unixNanos(999.5), '999500000');
  assert.equal(unixNanos(1000.25), '1000250000');
});

test('hand-written span JSON parses to the OTLP shape, escaping included', () => {
  const sink = { onEnd() {} };
  const parent = {
    traceId: TRACE,
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    traceState: 'k=v',
    remote: true,
  };
  const span = new Span('GET "/q\u00e9"\n', SpanKind.Server, TRACE, '00f067aa0ba902b7', parent, true, sink);
  span.setAttribute('s', 'caf\u00e9 \u{1F600} "x"\\').setAttribute('i', 42).setAttribute('d', 1.5);
  span.setAttribute('b', false);
  span.setStatus(SpanStatusCode.Error, 'bad\u0000');
  span.end();
  const json = JSON.parse(encodeSpanJson(span));
  assert.equal(json.name, 'GET "/q\u00e9"\n');
  assert.equal(json.parentSpanId, 'b7ad6b7169203331');
  assert.equal(json.traceState, 'k=v');
  assert.deepEqual(json.attributes, [
    { key: 's', value: { stringValue: 'caf\u00e9 \u{1F600} "x"\\' } },
    { key: 'i', value: { intValue: '42' } },
    { key: 'd', value: { doubleValue: 1.5 } },
    { key: 'b', value: { boolValue: false } },
  ]);
  assert.deepEqual(json.status, { code: 2, message: 'bad\u0000' });
  const request = encodeExportTraceRequest(
    [span, span],
    { 'service.name': 'x' },
    { name: 's', version: '1' },
  );
  validateExportTraceServiceRequest(request);
});

test('the span writer: remembered attribute encodings never leak between spans or batches', () => {
  const sink = { onEnd() {} };
  const make = (path: string, port: number | string, extra?: [string, string | number]): Span => {
    const span = new Span('GET', SpanKind.Server, TRACE, '00f067aa0ba902b7', undefined, true, sink);
    span.setAttribute('http.request.method', 'GET').setAttribute('url.path', path);
    span.setAttribute('server.port', port);
    if (extra !== undefined) span.setAttribute(extra[0], extra[1]);
    span.end(span.startTime + 1.25);
    return span;
  };
  // One buffer reused for every span, as the exporter reuses its batch buffer: an encoding
  // remembered as a view of it (rather than a copy) would come out overwritten.
  const buf = Buffer.alloc(8192);
  const encode = (span: Span): Record<string, unknown> => {
    buf.fill(0x20);
    return JSON.parse(buf.toString('utf8', 0, writeSpanJson(span, buf, 0)));
  };
  const values = (json: Record<string, unknown>) =>
    (json.attributes as { key: string; value: Record<string, unknown> }[]).map((a) => [
      a.key,
      Object.values(a.value)[0],
    ]);
  const sequence: [Span, unknown[][]][] = [
    [
      make('/a', 80),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/a'],
        ['server.port', '80'],
      ],
    ],
    [
      make('/a', 80),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/a'],
        ['server.port', '80'],
      ],
    ],
    [
      make('/b', 80),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/b'],
        ['server.port', '80'],
      ],
    ],
    [
      make('/b', '80'),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/b'],
        ['server.port', '80'],
      ],
    ],
    [
      make('/\u00e9"', 81),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/\u00e9"'],
        ['server.port', '81'],
      ],
    ],
    [
      make('/a', -7, ['x', 1.5]),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/a'],
        ['server.port', '-7'],
        ['x', 1.5],
      ],
    ],
    [
      make('/a', 80),
      [
        ['http.request.method', 'GET'],
        ['url.path', '/a'],
        ['server.port', '80'],
      ],
    ],
  ];
  for (const [span, expected] of sequence) {
    const json = encode(span);
    assert.deepEqual(values(json), expected);
    assert.equal(json.startTimeUnixNano, unixNanos(span.startTime));
    assert.equal(json.endTimeUnixNano, unixNanos(span.endTime));
    assert.ok(writeSpanJson(span, buf, 0) <= spanJsonBound(span));
  }
  // Timestamps across second and millisecond boundaries come out exact.
  for (const ms of [1700000000999.9998, 1700000001000, 1700000001000.001, 999.5, 1000.25]) {
    const span = new Span('t', SpanKind.Server, TRACE, '00f067aa0ba902b7', undefined, true, sink, ms);
    span.end(ms);
    assert.equal(encode(span).startTimeUnixNano, unixNanos(ms));
  }
});

test('copied span encodings carry each span its own ids and times, and any other change is written afresh', () => {
  const tracer = new Tracer({ onEnd() {} });
  // Each span a caller of its own: the copied encoding must not keep the previous parent.
  let callers = 0;
  const caller = () => ({
    traceId: TRACE,
    spanId: `b7ad6b71692033${String(++callers).padStart(2, '0')}`,
    traceFlags: 1,
    traceState: undefined,
    remote: true,
  });
  type Variation = {
    path?: string;
    status?: number;
    route?: string;
    parent?: boolean;
    extra?: boolean;
    name?: string;
    /** Times, ms since the epoch (default: now). */
    start?: number;
    end?: number;
  };
  const server = (v: Variation): Span => {
    const span = tracer.startHttpServerSpan('GET', v.parent ? caller() : undefined, v.start);
    span.path = v.path ?? '/';
    span.scheme = 'http';
    span.protocolVersion = '1.1';
    span.serverAddress = '127.0.0.1';
    span.serverPort = 8080;
    span.clientAddress = '127.0.0.1';
    if (v.extra) span.setAttribute('app.user', 'ann');
    span.finish(v.status ?? 200, v.route ?? '/', v.end);
    return span;
  };
  // Copies keep the whole seconds of their template when a span falls in the same second:
  // spans of other seconds, times at a second's edges, and a template written in full whose
  // end is in a later second than its start.
  const second = 1_764_000_000_000;
  const client = (v: Variation): Span => {
    const span = tracer.startSpan(v.name ?? 'GET', SpanKind.Client, v.parent ? caller() : undefined);
    span
      .setAttribute('url.full', `http://x${v.path ?? '/'}`)
      .setAttribute('http.response.status_code', v.status ?? 200);
    span.end();
    return span;
  };
  const sequence: Span[] = [
    server({}),
    server({}),
    client({}),
    server({}),
    server({ path: '/a' }),
    server({ path: '/a', status: 503 }),
    server({ path: '/a', status: 503 }),
    server({ path: '/a', route: '/:x' }),
    server({ path: '/a', parent: true }),
    server({ path: '/a', parent: true }),
    server({ path: '/a' }),
    server({ path: '/a', extra: true }),
    server({ path: '/a', extra: true }),
    client({}),
    client({ parent: true }),
    client({ parent: true }),
    client({ name: 'POST', parent: true }),
    client({ path: '/b', parent: true }),
    server({ start: second + 10, end: second + 20.5 }),
    server({ start: second + 30, end: second + 1020 }),
    server({ start: second + 1500, end: second + 3999.9999999 }),
    server({ start: second + 3999.99999999, end: second + 4000.0000001 }),
    server({ start: second + 4000.25, end: second + 4000.75 }),
    server({ path: '/c', start: second + 1500, end: second + 3999.9999999 }),
    server({ path: '/c', start: second + 1600, end: second + 3500 }),
  ];
  // One batch buffer reused throughout, as the exporter does, and a fresh generic encoding of
  // each span to compare with.
  const batch = Buffer.alloc(65536);
  const fresh = Buffer.alloc(16384);
  let at = 0;
  for (const span of sequence) {
    batch.fill(0x20, at);
    const end = appendSpanJson(span, batch, at, 0);
    assert.ok(end > at);
    const copied = JSON.parse(batch.toString('utf8', at, end));
    const expected = JSON.parse(fresh.toString('utf8', 0, writeSpanJson(span, fresh, 0)));
    assert.deepEqual(copied, expected);
    assert.equal(copied.traceId, span.traceId);
    assert.equal(copied.spanId, span.spanId);
    assert.equal(copied.parentSpanId, span.parentSpanId);
    assert.equal(copied.startTimeUnixNano, unixNanos(span.startTime));
    assert.equal(copied.endTimeUnixNano, unixNanos(span.endTime));
    at = end;
  }
  // Too little room: -1, and the caller grows the buffer.
  assert.equal(appendSpanJson(sequence[0]!, Buffer.alloc(64), 0, 0), -1);
  assert.equal(appendSpanJson(sequence[0]!, Buffer.alloc(64), 0, 0), -1);
});

test('a server span lists its semantic-convention attributes, then the ones set on it', () => {
  const tracer = new Tracer({ onEnd() {} });
  const span = tracer.startHttpServerSpan('_OTHER', undefined);
  assert.ok(span instanceof HttpServerSpan);
  span.methodOriginal = 'BREW';
  span.path = '/pot';
  span.query = 'milk=1';
  span.scheme = 'https';
  span.protocolVersion = '2';
  span.clientAddress = '::1';
  span.userAgent = 'curl/8';
  span.setAttribute('app.tea', 'green');
  span.finish(503, '/pot');
  assert.equal(span.name, 'HTTP /pot');
  assert.equal(span.statusCode, SpanStatusCode.Error);
  assert.deepEqual(span.attributes, [
    'http.request.method',
    '_OTHER',
    'url.path',
    '/pot',
    'url.scheme',
    'https',
    'network.protocol.version',
    '2',
    'http.request.method_original',
    'BREW',
    'url.query',
    'milk=1',
    'client.address',
    '::1',
    'user_agent.original',
    'curl/8',
    'http.route',
    '/pot',
    'http.response.status_code',
    503,
    'error.type',
    '503',
    'app.tea',
    'green',
  ]);
  // Ended: no more changes.
  span.setAttribute('late', 1).setStatus(SpanStatusCode.Ok);
  assert.equal(span.attribute('late'), undefined);
  assert.equal(span.statusCode, SpanStatusCode.Error);
});

test('middleware returning next() itself: sync results flow through, retries rerun the rest', async () => {
  const app = new App();
  const seen: string[] = [];
  app.use((_req, next) => next());
  app.use(async (_req, next) => {
    seen.push('outer');
    await next();
    return next(); // a retry reruns the inner layers
  });
  app.use((_req, next) => {
    seen.push('inner');
    return next();
  });
  app.get('/', () => 'hello');
  const req = get('/');
  const res = await app.handle(req);
  assert.equal(res.body, 'hello');
  assert.deepEqual(seen, ['outer', 'inner', 'inner']);

  const plain = new App();
  plain.use((_req, next) => next());
  plain.get('/', () => 'sync');
  assert.equal(plain.dispatch(get('/')), 'sync');
  plain.get('/r', () => new Response('r', { status: 201 }));
  const r = plain.dispatch(get('/r'));
  assert.ok(r instanceof Response && r.status === 201);
});
