// Server spans that nobody looked at while the request ran are kept as records and encoded at
// export (server-span-records.ts). They must come out exactly as the spans made when the
// request starts (the carried-context path), apart from their random ids and times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../../src/client/client.js';
import { App } from '../../../src/server/app.js';
import { Response } from '../../../src/server/response.js';
import type { OtlpExporterOptions } from '../../../src/telemetry/tracing/otlp-http-exporter.js';
import type { Sampler } from '../../../src/telemetry/tracing/sampler.js';
import {
  activeSpan,
  isActiveSpanCarried,
  setActiveSpanCarried,
} from '../../../src/telemetry/tracing/trace-context-storage.js';
import {
  type TracingMiddleware,
  type TracingOptions,
  tracing,
} from '../../../src/telemetry/tracing/tracing-middleware.js';
import { type OtlpJsonSpan, OtlpReceiver, validateExportTraceServiceRequest } from './otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const SPAN2 = 'b7ad6b7169203331';

interface Call {
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

/** Requests whose spans differ in every recorded fact, with runs of alike ones in between. */
const CALLS: Call[] = [
  { path: '/a' },
  { path: '/a' },
  { path: '/a' },
  { path: '/users/7?full=1' },
  { path: '/users/8?full=1' },
  { path: '/users/8?full=1', headers: { 'user-agent': 'probe/1' } },
  { path: '/users/8?full=1', headers: { 'user-agent': 'probe/1' } },
  { path: '/a', headers: { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=abc' } },
  { path: '/a', headers: { traceparent: `00-${TRACE}-${SPAN2}-01`, tracestate: 'vendor=abc' } },
  { path: '/a', headers: { traceparent: `00-${TRACE}-${SPAN}-01` } },
  { path: '/a', headers: { traceparent: `00-${TRACE}-${SPAN}-00` } }, // not sampled: no span
  { path: '/boom' },
  { path: '/boom' },
  { path: '/nowhere' },
  { path: '/a', method: 'POST' },
  { path: '/a' },
];

interface TracedApp {
  tracer: TracingMiddleware;
  receiver: OtlpReceiver;
  client: Client;
  /** `http://127.0.0.1:{port}` of the app's server. */
  base: string;
}

/**
 * Runs `body` against an app traced to a fresh OTLP receiver, with the active span carried
 * through async context or not, and closes everything after.
 */
async function withTracedApp<T>(
  carried: boolean,
  options: TracingOptions,
  exporter: OtlpExporterOptions,
  routes: (app: App) => void,
  body: (t: TracedApp) => Promise<T>,
  before: (app: App) => void = () => {},
): Promise<T> {
  setActiveSpanCarried(carried);
  const receiver = await OtlpReceiver.start();
  const tracer = tracing({ ...options, exporter: { url: receiver.url, scheduleDelay: 60_000, ...exporter } });
  const app = new App();
  before(app);
  app.use(tracer);
  routes(app);
  const server = await app.listen({ port: 0 });
  const client = new Client({ retry: false });
  try {
    return await body({ tracer, receiver, client, base: `http://127.0.0.1:${server.port}` });
  } finally {
    await client.close();
    await server.close();
    await tracer.close();
    await receiver.close();
    setActiveSpanCarried(true);
  }
}

async function exportedSpans(carried: boolean): Promise<OtlpJsonSpan[]> {
  const routes = (app: App) => {
    app.get('/a', () => 'a');
    app.post('/a', () => 'posted');
    app.get('/users/:id', (req) => `user ${req.params.id}`);
    app.get('/boom', () => {
      throw new Error('boom');
    });
  };
  return withTracedApp(
    carried,
    {},
    { maxBatchSize: 1000 },
    routes,
    async ({ tracer, receiver, client, base }) => {
      for (const call of CALLS) {
        const res = await client.request({
          url: `${base}${call.path}`,
          method: call.method ?? 'GET',
          headers: { 'user-agent': 'avx-test', ...call.headers },
        });
        await res.dump();
      }
      assert.equal(isActiveSpanCarried(), carried, 'nothing read the active span');
      await tracer.flush();
      for (const r of receiver.received) validateExportTraceServiceRequest(r.body);
      return receiver.spans() as unknown as OtlpJsonSpan[];
    },
  );
}

/**
 * A span without what differs between two runs: random ids (of new traces), times, and the
 * server's port.
 */
function comparable(span: OtlpJsonSpan): Record<string, unknown> {
  const { spanId: _s, startTimeUnixNano: _a, endTimeUnixNano: _b, traceId, attributes, ...rest } = span;
  const stable = attributes.map((a) => (a.key === 'server.port' ? { key: a.key, value: 'port' } : a));
  return { ...rest, attributes: stable, traceId: span.parentSpanId === undefined ? 'new' : traceId };
}

function attributeMap(span: OtlpJsonSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of span.attributes) {
    out[a.key] = Object.values(a.value)[0];
  }
  return out;
}

test('deferred server spans encode exactly like spans made when the request starts', async () => {
  const before = BigInt(Date.now()) * 1_000_000n;
  const deferred = await exportedSpans(false);
  const after = BigInt(Date.now()) * 1_000_000n;
  const made = await exportedSpans(true);
  assert.equal(deferred.length, CALLS.length - 1, 'every sampled request has a span');
  assert.equal(made.length, deferred.length);
  for (let i = 0; i < made.length; i++) {
    assert.deepEqual(comparable(deferred[i]!), comparable(made[i]!), `span ${i} (${made[i]!.name})`);
  }
  // What each span must say, from the calls themselves (the two runs could share a mistake).
  const sampled = CALLS.filter((c) => !c.headers?.traceparent?.endsWith('-00'));
  for (let i = 0; i < sampled.length; i++) {
    const call = sampled[i]!;
    const [path, query] = call.path.split('?');
    const span = deferred[i]!;
    const attrs = attributeMap(span);
    assert.equal(attrs['url.path'], path, `span ${i}`);
    assert.equal(attrs['url.query'], query, `span ${i}`);
    assert.equal(attrs['http.request.method'], call.method ?? 'GET', `span ${i}`);
    assert.equal(attrs['user_agent.original'], call.headers?.['user-agent'] ?? 'avx-test', `span ${i}`);
    const parent = call.headers?.traceparent;
    assert.equal(span.parentSpanId, parent?.split('-')[2], `span ${i}`);
    assert.equal(span.traceState, call.headers?.tracestate, `span ${i}`);
  }
  assert.equal(attributeMap(deferred[3]!)['http.route'], '/users/:id');
  assert.equal(attributeMap(deferred[12]!)['http.route'], undefined, 'no route matched');
  assert.equal(attributeMap(deferred[11]!)['http.response.status_code'], '500');
  assert.equal(deferred[7]!.traceId, TRACE);
  assert.equal(deferred[7]!.parentSpanId, SPAN);
  assert.equal(deferred[7]!.traceState, 'vendor=abc');
  assert.equal(deferred[11]!.status?.code, 2, '5xx is an error');
  // Ids are fresh lowercase hex, distinct per span and per new trace.
  const spanIds = new Set(deferred.map((s) => s.spanId));
  assert.equal(spanIds.size, deferred.length);
  const roots = deferred.filter((s) => s.parentSpanId === undefined);
  assert.equal(new Set(roots.map((s) => s.traceId)).size, roots.length);
  for (const s of deferred) {
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    const start = BigInt(s.startTimeUnixNano);
    const end = BigInt(s.endTimeUnixNano);
    assert.ok(before <= start && start <= end && end <= after + 1_000_000n, `${start} ${end}`);
  }
});

test('a deferred span is made when the handler asks for it, and that span is exported', async () => {
  let seen: string | undefined;
  const routes = (app: App) => {
    app.get('/look', () => {
      seen = activeSpan()?.spanId;
      return 'looked';
    });
  };
  await withTracedApp(false, {}, {}, routes, async ({ tracer, receiver, client, base }) => {
    const res = await client.get(`${base}/look`, { headers: { traceparent: `00-${TRACE}-${SPAN}-01` } });
    assert.equal(await res.text(), 'looked');
    assert.match(seen ?? '', /^[0-9a-f]{16}$/);
    assert.ok(isActiveSpanCarried(), 'reading the span carries later ones');
    await tracer.flush();
    const spans = receiver.spans() as unknown as OtlpJsonSpan[];
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.spanId, seen);
    assert.equal(spans[0]!.traceId, TRACE);
    assert.equal(spans[0]!.name, 'GET /look');
  });
});

// Carried through async context, the span is deferred too (it used to be made as every request
// started): made when asked for, after awaits as well; kept as a record otherwise. Once the
// response has ended as a record there is no span to give: work the handler left running must
// not become the child of a span whose ids are only drawn when its batch is encoded.
test('carried through async context, a span is made when asked for after an await, and not after the response ended', async () => {
  const seen: (string | undefined)[] = [];
  let late: Promise<string | undefined> | undefined;
  const routes = (app: App) => {
    app.get('/later', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(activeSpan()?.spanId, activeSpan()?.spanId);
      return 'later';
    });
    app.get('/quiet', () => {
      // Asked for only once the response has ended.
      late = new Promise((resolve) => setTimeout(() => resolve(activeSpan()?.spanId), 50));
      return 'quiet';
    });
  };
  await withTracedApp(true, {}, {}, routes, async ({ tracer, receiver, client, base }) => {
    assert.equal(await (await client.get(`${base}/later`)).text(), 'later');
    assert.equal(await (await client.get(`${base}/quiet`)).text(), 'quiet');
    assert.equal(await late, undefined);
    await tracer.flush();
    const spans = receiver.spans() as unknown as OtlpJsonSpan[];
    assert.deepEqual(
      spans.map((s) => s.name),
      ['GET /later', 'GET /quiet'],
    );
    assert.match(seen[0] ?? '', /^[0-9a-f]{16}$/);
    assert.equal(seen[1], seen[0], 'the same span each time');
    assert.equal(spans[0]!.spanId, seen[0], 'the span made is the one exported');
    assert.notEqual(spans[1]!.spanId, seen[0]);
  });
});

test('deferred spans ask the sampler with their trace id; a queue of three sends them three at a time', async () => {
  const asked: string[] = [];
  // Samples every other new trace, deciding from the trace id it is given.
  const sampler: Sampler = {
    shouldSample(_parent, traceId) {
      asked.push(traceId);
      return asked.length % 2 === 1;
    },
  };
  const routes = (app: App) => {
    app.get('/', () => 'ok');
  };
  await withTracedApp(
    false,
    { sampler },
    { maxQueueSize: 3 },
    routes,
    async ({ tracer, receiver, client, base }) => {
      for (let i = 0; i < 8; i++) await (await client.get(`${base}/`)).dump();
      assert.equal(asked.length, 8);
      await tracer.flush();
      // Four sampled. The batch (lowered to the queue's three) left with the third; the fourth
      // was queued, or dropped if that export had not been answered yet (the bound counts it).
      const exporter = tracer.exporter!;
      const spans = receiver.spans() as unknown as OtlpJsonSpan[];
      assert.deepEqual(
        spans.slice(0, 3).map((s) => s.traceId),
        [asked[0], asked[2], asked[4]],
      );
      assert.equal(spans.length + exporter.droppedQueueFull, 4);
      if (spans.length === 4) assert.equal(spans[3]!.traceId, asked[6]);
    },
  );
});

test('a request answered before tracing() runs still gets its server span, in either context mode', async () => {
  for (const carried of [false, true]) {
    const spans = await withTracedApp(
      carried,
      {},
      {},
      (app) => app.get('/a', () => 'a'),
      async ({ tracer, receiver, client, base }) => {
        assert.equal(await (await client.get(`${base}/early`)).text(), 'answered early');
        assert.equal(await (await client.get(`${base}/a`)).text(), 'a');
        await tracer.flush();
        return receiver.spans() as unknown as OtlpJsonSpan[];
      },
      (app) => app.use((req, next) => (req.path === '/early' ? new Response('answered early') : next())),
    );
    assert.deepEqual(
      // In export order, made spans come before records: sorted by path instead.
      spans
        .map((s) => [attributeMap(s)['url.path'], attributeMap(s)['http.route'], s.name])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [
        ['/a', '/a', 'GET /a'],
        ['/early', undefined, 'GET'],
      ],
      `carried: ${carried}`,
    );
  }
});

test('a JSON batch leaves in chunks and a retry sends the same bytes: same spans, same ids', async () => {
  const requests = 700; // about 550 KB of JSON: several 64 KiB chunks
  await withTracedApp(
    false,
    {},
    { maxBatchSize: 1000, maxQueueSize: 1000, initialBackoff: 5, protocol: 'http/json' },
    (app) => {
      app.get('/a', () => 'a');
    },
    async ({ tracer, receiver, client, base }) => {
      receiver.failures.push(503);
      for (let i = 0; i < requests; i++) {
        const res = await client.request({ url: `${base}/a${i % 3 === 0 ? '?q=1' : ''}` });
        await res.text();
      }
      await tracer.flush();
      assert.equal(receiver.refused.length, 1);
      assert.equal(receiver.received.length, 1);
      const first = receiver.refused[0]!;
      const retry = receiver.received[0]!;
      assert.equal(first.headers['transfer-encoding'], 'chunked');
      assert.equal(first.headers['content-length'], undefined);
      assert.ok(retry.raw.length > 4 * 65536, `${retry.raw.length} bytes`);
      assert.ok(first.raw.equals(retry.raw), 'the retry encodes the batch again, byte for byte');
      validateExportTraceServiceRequest(retry.body);
      const spans = receiver.spans() as unknown as OtlpJsonSpan[];
      assert.equal(spans.length, requests);
      assert.equal(new Set(spans.map((s) => s.spanId)).size, requests);
      assert.equal(tracer.exporter!.exportedSpans, requests);
      assert.equal(tracer.exporter!.failedRequests, 1);
    },
  );
});

test('middleware added before tracing() runs in the request span too: its activeSpan() is the exported span', async () => {
  for (const carried of [false, true]) {
    const seen: (string | undefined)[] = [];
    const spans = await withTracedApp(
      carried,
      {},
      {},
      (app) => app.get('/a', () => 'a'),
      async ({ tracer, receiver, client, base }) => {
        assert.equal(await (await client.get(`${base}/a`)).text(), 'a');
        await tracer.flush();
        return receiver.spans() as unknown as OtlpJsonSpan[];
      },
      // Added before tracing(): before, it ran outside the span, and saw no active span.
      (app) =>
        app.use(async (_req, next) => {
          seen.push(activeSpan()?.spanId);
          const res = await next();
          // After an await the span is still active when carried through async context. (In the
          // synchronous-only mode the first activeSpan() turns carrying on for later requests.)
          if (carried) seen.push(activeSpan()?.spanId);
          return res;
        }),
    );
    assert.equal(spans.length, 1, `carried: ${carried}`);
    const id = spans[0]!.spanId;
    assert.deepEqual(seen, carried ? [id, id] : [id], `carried: ${carried}`);
  }
});
