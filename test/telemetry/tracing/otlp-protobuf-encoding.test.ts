// Tests for the OTLP protobuf encoding (src/telemetry/tracing/otlp-protobuf-encoding.ts,
// otlp-protobuf-request.ts, otlp-protobuf-records.ts): request bodies are decoded with the
// official opentelemetry-proto definitions (protobufjs, test/telemetry/tracing/otlp-receiver.ts)
// and every field is compared with the value it must have, and with what the JSON encoding
// writes for the same spans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type protobuf from 'protobufjs';
import { Headers } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { Request } from '../../../src/server/request.js';
import { HttpServerSpan } from '../../../src/telemetry/tracing/http-server-span.js';
import { encodeExportTraceRequest, unixNanos } from '../../../src/telemetry/tracing/otlp-json-encoding.js';
import { putUnixNanosFixed64 } from '../../../src/telemetry/tracing/otlp-protobuf-encoding.js';
import { OtlpProtobufRequestEncoder } from '../../../src/telemetry/tracing/otlp-protobuf-request.js';
import { ServerSpanFactsReader } from '../../../src/telemetry/tracing/server-span-facts.js';
import { ServerSpanRecords } from '../../../src/telemetry/tracing/server-span-records.js';
import { Span, SpanKind, SpanStatusCode } from '../../../src/telemetry/tracing/span.js';
import { SpanHeaderFields } from '../../../src/telemetry/tracing/span-header-fields.js';
import type { SpanContext } from '../../../src/telemetry/tracing/w3c-trace-context.js';
import { exportTraceServiceRequestType, otlpJsonOf } from './otlp-receiver.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = 'b7ad6b7169203331';
const RESOURCE = { 'service.name': 'shop', 'service.instance.count': 3, 'x.ratio': 0.5, 'x.on': true };
const SCOPE = { name: 'avx-http', version: '9.9.9' };
const sink = { onEnd() {} };

interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
}

/** Decodes a request body with the official definitions: the message, and its OTLP JSON. */
function decode(body: Uint8Array): { spans: DecodedSpan[]; json: OtlpRequestJson } {
  const type = exportTraceServiceRequestType();
  const message = type.decode(body) as protobuf.Message & {
    resourceSpans: { scopeSpans: { spans: DecodedSpan[] }[] }[];
  };
  assert.equal(message.resourceSpans.length, 1);
  assert.equal(message.resourceSpans[0]!.scopeSpans.length, 1);
  return {
    spans: message.resourceSpans[0]!.scopeSpans[0]!.spans,
    json: otlpJsonOf(type, message) as OtlpRequestJson,
  };
}

interface OtlpRequestJson {
  resourceSpans: {
    resource: { attributes: unknown[] };
    scopeSpans: { scope: unknown; spans: Record<string, unknown>[] }[];
  }[];
}

function spansOf(json: OtlpRequestJson): Record<string, unknown>[] {
  return json.resourceSpans[0]!.scopeSpans[0]!.spans;
}

/** Encodes a batch from a deliberately tiny buffer (it must grow), returning the body. */
function encode(
  encoder: OtlpProtobufRequestEncoder,
  spans: Span[],
  records = new ServerSpanRecords(),
  buf = Buffer.alloc(16),
): Uint8Array {
  const slots: (Span | undefined)[] = [...spans];
  const body = encoder.encode(slots, spans.length, records, buf);
  assert.deepEqual(slots, new Array(spans.length).fill(undefined), 'the encoder lets go of the spans');
  assert.equal(records.count, 0, 'and of the records');
  return Uint8Array.from(body.buf.subarray(0, body.length));
}

/** Asserts that a decoded id field holds the bytes of `hex`. */
function assertId(actual: Uint8Array, hex: string | undefined, what: string): void {
  if (hex === undefined) assert.equal(actual.length, 0, `${what}: none`);
  else assert.deepEqual(Buffer.from(actual), Buffer.from(hex, 'hex'), what);
}

const str = (stringValue: string) => ({ stringValue });
const int = (intValue: number | string) => ({ intValue: String(intValue) });

/** A server span's semantic-convention attributes, in HttpServerSpan's order, as OTLP JSON. */
function serverAttributes(a: {
  path: string;
  scheme: string;
  version: string;
  query: string;
  address: string;
  port: number;
  client: string;
  userAgent: string;
  route: string;
  status: number;
}): { key: string; value: unknown }[] {
  return [
    { key: 'http.request.method', value: str('GET') },
    { key: 'url.path', value: str(a.path) },
    { key: 'url.scheme', value: str(a.scheme) },
    { key: 'network.protocol.version', value: str(a.version) },
    { key: 'url.query', value: str(a.query) },
    { key: 'server.address', value: str(a.address) },
    { key: 'server.port', value: int(a.port) },
    { key: 'client.address', value: str(a.client) },
    { key: 'user_agent.original', value: str(a.userAgent) },
    { key: 'http.route', value: str(a.route) },
    { key: 'http.response.status_code', value: int(a.status) },
    ...(a.status >= 500 ? [{ key: 'error.type', value: str(String(a.status)) }] : []),
  ];
}

function clientSpan(spanId: string, startTime: number, endTime: number): Span {
  const parent: SpanContext = {
    traceId: TRACE,
    spanId: PARENT_SPAN,
    traceFlags: 1,
    traceState: 'vendor=abc,k=v',
    remote: false,
  };
  const span = new Span('GET', SpanKind.Client, TRACE, spanId, parent, true, sink, startTime);
  span
    .setAttribute('http.request.method', 'GET')
    .setAttribute('url.full', 'http://api.example:8080/x?y=1')
    .setAttribute('server.address', 'api.example')
    .setAttribute('server.port', 8080)
    .setAttribute('http.response.status_code', 200)
    .setAttribute('x.negative', -42)
    .setAttribute('x.big', 2 ** 53 + 2)
    .setAttribute('x.ratio', 1.5)
    .setAttribute('x.flag', false)
    .setAttribute('x.on', true)
    .setAttribute('x.empty', '')
    .setAttribute('x.text', 'caf\u00e9 \u{1F600}');
  span.end(endTime);
  return span;
}

/** The OTLP JSON of `clientSpan(spanId, ...)` with those times (written out by hand). */
function clientSpanJson(spanId: string, start: string, end: string): Record<string, unknown> {
  return {
    traceId: TRACE,
    spanId,
    traceState: 'vendor=abc,k=v',
    parentSpanId: PARENT_SPAN,
    name: 'GET',
    kind: 3,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: [
      { key: 'http.request.method', value: str('GET') },
      { key: 'url.full', value: str('http://api.example:8080/x?y=1') },
      { key: 'server.address', value: str('api.example') },
      { key: 'server.port', value: int(8080) },
      { key: 'http.response.status_code', value: int(200) },
      { key: 'x.negative', value: int(-42) },
      { key: 'x.big', value: int('9007199254740994') },
      { key: 'x.ratio', value: { doubleValue: 1.5 } },
      { key: 'x.flag', value: { boolValue: false } },
      { key: 'x.on', value: { boolValue: true } },
      { key: 'x.empty', value: str('') },
      { key: 'x.text', value: str('caf\u00e9 \u{1F600}') },
    ],
  };
}

function errorSpan(): Span {
  const span = new Span(
    'db query',
    SpanKind.Internal,
    TRACE,
    '1111111111111111',
    undefined,
    true,
    sink,
    1700000001000,
  );
  span.setAttribute('error.type', 'ECONNRESET').setAttribute('x.huge', 1e30);
  span.setStatus(SpanStatusCode.Error, 'connection reset \u2014 by peer');
  span.end(1700000001002.75);
  return span;
}

function serverSpan(): HttpServerSpan {
  const span = new HttpServerSpan(
    'GET',
    SpanKind.Server,
    TRACE,
    '2222222222222222',
    undefined,
    true,
    sink,
    1700000002000.5,
  );
  span.method = 'GET';
  span.path = '/users/7';
  span.query = 'full=1';
  span.scheme = 'https';
  span.protocolVersion = '2';
  span.serverAddress = 'shop.example';
  span.serverPort = 8443;
  span.clientAddress = '::1';
  span.userAgent = 'curl/8.5.0';
  span.setAttribute('app.tenant', 'acme');
  span.finish(503, '/users/:id', 1700000002003.75);
  return span;
}

const SERVER_SPAN_JSON = {
  traceId: TRACE,
  spanId: '2222222222222222',
  name: 'GET /users/:id',
  kind: 2,
  startTimeUnixNano: '1700000002000500000',
  endTimeUnixNano: '1700000002003750000',
  attributes: [
    ...serverAttributes({
      path: '/users/7',
      scheme: 'https',
      version: '2',
      query: 'full=1',
      address: 'shop.example',
      port: 8443,
      client: '::1',
      userAgent: 'curl/8.5.0',
      route: '/users/:id',
      status: 503,
    }),
    { key: 'app.tenant', value: str('acme') },
  ],
  status: { code: 2 },
};

/**
 * The JSON encoding's request for the same spans, as the protobuf one decodes: an unset status
 * (`{"code":0}` in our JSON) is a default, left out of protobuf, and an integer past int64
 * (JSON `intValue` digits no int64 holds) goes out as a double.
 */
function jsonEncodingOf(spans: Span[]): OtlpRequestJson {
  const request = encodeExportTraceRequest(spans, RESOURCE, SCOPE) as OtlpRequestJson;
  for (const span of spansOf(request)) {
    const status = span.status as { code: number; message?: string };
    if (status.code === 0 && status.message === undefined) delete span.status;
    for (const a of span.attributes as { key: string; value: Record<string, unknown> }[]) {
      if (a.key === 'x.huge') a.value = { doubleValue: 1e30 };
    }
  }
  return request;
}

test('client, error and server spans decode with the official definitions, every field exact', () => {
  const encoder = new OtlpProtobufRequestEncoder(RESOURCE, SCOPE);
  const spans = [
    clientSpan('00f067aa0ba902b7', 1700000000123.25, 1700000000456.5),
    errorSpan(),
    serverSpan(),
  ];
  const body = encode(encoder, spans);
  const { spans: decoded, json } = decode(body);
  assert.deepEqual(json.resourceSpans[0]!.resource, {
    attributes: [
      { key: 'service.name', value: str('shop') },
      { key: 'service.instance.count', value: int(3) },
      { key: 'x.ratio', value: { doubleValue: 0.5 } },
      { key: 'x.on', value: { boolValue: true } },
    ],
  });
  assert.deepEqual(json.resourceSpans[0]!.scopeSpans[0]!.scope, { name: 'avx-http', version: '9.9.9' });
  // Ids are raw bytes: 16 for the trace, 8 for spans.
  assertId(decoded[0]!.traceId, TRACE, 'client trace id');
  assertId(decoded[0]!.spanId, '00f067aa0ba902b7', 'client span id');
  assertId(decoded[0]!.parentSpanId, PARENT_SPAN, 'client parent span id');
  assertId(decoded[1]!.parentSpanId, undefined, 'error span parent');
  assertId(decoded[2]!.spanId, '2222222222222222', 'server span id');
  const [client, error, server] = spansOf(json);
  assert.deepEqual(client, clientSpanJson('00f067aa0ba902b7', '1700000000123250000', '1700000000456500000'));
  assert.deepEqual(error, {
    traceId: TRACE,
    spanId: '1111111111111111',
    name: 'db query',
    kind: 1,
    startTimeUnixNano: '1700000001000000000',
    endTimeUnixNano: '1700000001002750000',
    attributes: [
      { key: 'error.type', value: str('ECONNRESET') },
      { key: 'x.huge', value: { doubleValue: 1e30 } },
    ],
    status: { code: 2, message: 'connection reset \u2014 by peer' },
  });
  assert.deepEqual(server, SERVER_SPAN_JSON);
  assert.deepEqual(json, jsonEncodingOf(spans), 'what the JSON encoding says');
});

test('spans copied from the last alike one carry their own ids and times, in later batches too', () => {
  const encoder = new OtlpProtobufRequestEncoder(RESOURCE, SCOPE);
  // One body buffer for every batch, as the exporter reuses its last accepted one.
  const buf = Buffer.alloc(1 << 16);
  const batches = [
    [
      clientSpan('00000000000000a1', 1700000000000.125, 1700000000001),
      clientSpan('00000000000000a2', 1700000000999.9998, 1700000001000.001),
      errorSpan(),
      clientSpan('00000000000000a3', 1700000005000, 1700000005000),
    ],
    [clientSpan('00000000000000b1', 1700000009000.5, 1700000009002.25), serverSpan(), serverSpan()],
  ];
  for (const spans of batches) {
    const { json } = decode(encode(encoder, spans, new ServerSpanRecords(), buf));
    assert.deepEqual(json, jsonEncodingOf(spans));
  }
  const { json } = decode(encode(encoder, [batches[0]![1]!]));
  assert.deepEqual(
    spansOf(json)[0],
    clientSpanJson('00000000000000a2', '1700000000999999756', '1700000001000000977'),
  );
});

test("fixed64 times are the JSON encoding's nanoseconds exactly", () => {
  const times = [
    1700000000123.5, 1700000000123.25, 1700000000123, 1.0000000001, 1.9999999999, 12.000001, 0.5, 0,
    1700000000999.9998, 1700000001000, 1700000001000.001, 999.5, 1000.25, 4294967296.5, 4294967295.75,
    8589934592000.5,
  ];
  for (let i = 0; i < 2000; i++) times.push(1.6e12 + Math.random() * 2e11);
  const buf = Buffer.alloc(8);
  for (const ms of times) {
    putUnixNanosFixed64(buf, 0, ms);
    assert.equal(buf.readBigUInt64LE(0).toString(), unixNanos(ms), `${ms}`);
  }
});

function request(target: string, headers: Record<string, string>): Request {
  return new Request({
    method: 'GET',
    target,
    headers: new Headers({ host: 'api.example:8080', 'user-agent': 'tester/1', ...headers }),
    body: IncomingBody.empty(),
    protocol: 'http/1.1',
    connection: { remoteAddress: '127.0.0.1', remotePort: 1, secure: false },
  });
}

test('server spans from records: runs of copies, parents, tracestate and errors, every field exact', () => {
  const ID_BYTES = 24;
  // Known id bytes: record k's trace id is bytes [24k, 24k + 16), its span id the next 8.
  const fill = (buf: Buffer, offset: number, size: number) => {
    for (let k = 0; k < size; k++) buf[offset + k] = (k * 37 + 11) & 0xff;
  };
  const reader = new ServerSpanFactsReader();
  const fields = new SpanHeaderFields();
  const read = (status: number) => {
    const req = request('/hello?x=1', {});
    return reader.read(req, '/hello', status, fields.read(req.headers));
  };
  const ok = read(200);
  const failed = read(500);
  const withState: SpanContext = {
    traceId: PARENT_TRACE,
    spanId: PARENT_SPAN,
    traceFlags: 1,
    traceState: 'vendor=abc',
    remote: true,
  };
  const withoutState: SpanContext = { ...withState, spanId: '00f067aa0ba902b7', traceState: undefined };
  const EARLY_TRACE = 'a0000000000000000000000000000001';
  const base = 1700000000000;
  // [facts, parent, trace id drawn early]
  const plan: [typeof ok, SpanContext | undefined, string | undefined][] = [
    [ok, undefined, undefined],
    [ok, undefined, undefined],
    [ok, undefined, EARLY_TRACE],
    [ok, undefined, undefined],
    [ok, withState, undefined],
    [ok, withState, undefined],
    [ok, withoutState, undefined],
    [failed, undefined, undefined],
    [failed, undefined, undefined],
    [ok, undefined, undefined],
  ];
  const add = (records: ServerSpanRecords) => {
    plan.forEach(([facts, parent, early], i) => {
      records.add(facts, parent, early, base + 10 * i + 0.125, base + 10 * i + 3.5);
    });
  };
  const records = new ServerSpanRecords(fill);
  add(records);
  const encoder = new OtlpProtobufRequestEncoder(RESOURCE, SCOPE);
  // A client span first: records come after the spans, in the same ScopeSpans.
  const client = clientSpan('00f067aa0ba902b7', base, base + 1);
  const { spans: decoded, json } = decode(encode(encoder, [client], records));
  const spans = spansOf(json);
  assert.equal(spans.length, plan.length + 1);
  assert.equal(spans[0]!.name, 'GET');
  const random = Buffer.alloc(plan.length * ID_BYTES);
  fill(random, 0, random.length);
  const attributes = (status: number) =>
    serverAttributes({
      path: '/hello',
      scheme: 'http',
      version: '1.1',
      query: 'x=1',
      address: 'api.example',
      port: 8080,
      client: '127.0.0.1',
      userAgent: 'tester/1',
      route: '/hello',
      status,
    });
  plan.forEach(([facts, parent, early], i) => {
    const ids = random.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
    const traceId = parent?.traceId ?? early ?? ids.toString('hex', 0, 16);
    const spanId = ids.toString('hex', 16, 24);
    assertId(decoded[i + 1]!.traceId, traceId, `record ${i} trace id`);
    assertId(decoded[i + 1]!.spanId, spanId, `record ${i} span id`);
    assertId(decoded[i + 1]!.parentSpanId, parent?.spanId, `record ${i} parent span id`);
    const status = facts.responseStatus;
    const expected: Record<string, unknown> = {
      traceId,
      spanId,
      ...(parent?.traceState === undefined ? {} : { traceState: parent.traceState }),
      ...(parent === undefined ? {} : { parentSpanId: parent.spanId }),
      name: 'GET /hello',
      kind: 2,
      startTimeUnixNano: String(BigInt(base + 10 * i) * 1_000_000n + 125_000n),
      endTimeUnixNano: String(BigInt(base + 10 * i) * 1_000_000n + 3_500_000n),
      attributes: attributes(status),
      ...(status >= 500 ? { status: { code: 2 } } : {}),
    };
    assert.deepEqual(spans[i + 1], expected, `record ${i}`);
  });

  // The JSON encoding of the same records (same id bytes) says the same.
  const again = new ServerSpanRecords(fill);
  add(again);
  again.drawIds();
  const buf = Buffer.alloc(1 << 16);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let at = 0;
  const parts: string[] = [];
  for (let i = 0; i < plan.length; i = again.encodedTo) {
    const end = again.encodeFrom(i, buf, view, at, 0);
    parts.push(buf.toString('utf8', at, end));
    at = end;
  }
  const fromJson = JSON.parse(`[${parts.join(',')}]`) as Record<string, unknown>[];
  for (const span of fromJson) if ((span.status as { code: number }).code === 0) delete span.status;
  assert.deepEqual(spans.slice(1), fromJson);
});
