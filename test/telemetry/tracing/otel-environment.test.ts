import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../../../src/client/client.js';
import { App } from '../../../src/server/app.js';
import { exporterEnvironment, samplerEnvironment } from '../../../src/telemetry/tracing/otel-environment.js';
import { OtlpHttpExporter } from '../../../src/telemetry/tracing/otlp-http-exporter.js';
import { Span, SpanKind } from '../../../src/telemetry/tracing/span.js';
import { tracing } from '../../../src/telemetry/tracing/tracing-middleware.js';
import { OtlpReceiver } from './otlp-receiver.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Runs `fn` and returns the messages of the AVX_OTEL_ENVIRONMENT warnings it emitted. */
async function warningsOf(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const listener = (w: Error & { code?: string }) => {
    if (w.code === 'AVX_OTEL_ENVIRONMENT') seen.push(w.message);
  };
  process.on('warning', listener);
  try {
    fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

test('OTEL_EXPORTER_OTLP_ENDPOINT is a base URL that gets v1/traces; the traces endpoint is used as is and wins', () => {
  assert.equal(
    exporterEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).url,
    'http://collector:4318/v1/traces',
  );
  assert.equal(
    exporterEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example/otlp/' }).url,
    'https://gw.example/otlp/v1/traces',
  );
  assert.equal(
    exporterEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom/path',
    }).url,
    'http://traces:9999/custom/path',
  );
  assert.deepEqual(exporterEnvironment({}), {});
  assert.deepEqual(exporterEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }), {});
});

test('headers, timeout, compression and protocol: the traces-specific variable wins, values are percent-decoded', () => {
  const env = exporterEnvironment({
    OTEL_EXPORTER_OTLP_HEADERS: 'x-general=1',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: ' authorization = Bearer%20abc%3D , x-tenant=south ',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
  });
  assert.deepEqual(env.headers, { authorization: 'Bearer abc=', 'x-tenant': 'south' });
  assert.equal(env.timeout, 2500);
  assert.equal(env.compression, 'gzip');
  assert.equal(env.protocol, 'http/protobuf');
  // The batch processor's export timeout stands in when no OTLP timeout is set.
  assert.equal(exporterEnvironment({ OTEL_BSP_EXPORT_TIMEOUT: '700' }).timeout, 700);
  assert.equal(
    exporterEnvironment({ OTEL_BSP_EXPORT_TIMEOUT: '700', OTEL_EXPORTER_OTLP_TIMEOUT: '900' }).timeout,
    900,
  );
});

test('resource attributes, OTEL_SERVICE_NAME over them, and the batch processor settings', () => {
  const env = exporterEnvironment({
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-list,deployment.environment=prod,region=sa%2Deast',
    OTEL_SERVICE_NAME: 'checkout',
    OTEL_BSP_SCHEDULE_DELAY: '250',
    OTEL_BSP_MAX_QUEUE_SIZE: '100',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
  });
  assert.deepEqual(env.resource, {
    'service.name': 'checkout',
    'deployment.environment': 'prod',
    region: 'sa-east',
  });
  assert.equal(env.scheduleDelay, 250);
  assert.equal(env.maxQueueSize, 100);
  assert.equal(env.maxBatchSize, 10);
});

test('values that do not parse are ignored with a warning, never thrown', async () => {
  let env: ReturnType<typeof exporterEnvironment> = {};
  const warnings = await warningsOf(() => {
    env = exporterEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://nope',
      OTEL_EXPORTER_OTLP_HEADERS: 'good=1,broken,=novalue,bad=%E0%A4%A',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1.5s',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_BSP_MAX_QUEUE_SIZE: '0',
      OTEL_BSP_SCHEDULE_DELAY: '-1',
    });
  });
  assert.deepEqual(env, { headers: { good: '1' } });
  assert.equal(warnings.length, 9, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.startsWith('OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is ignored')));
  assert.ok(warnings.some((w) => w.startsWith('OTEL_EXPORTER_OTLP_ENDPOINT="ftp://nope" is ignored')));
});

test('OTEL_TRACES_SAMPLER names the OpenTelemetry samplers; OTEL_SDK_DISABLED samples nothing', async () => {
  const child = {
    traceId: TRACE,
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    traceState: undefined,
    remote: true,
  };
  const unsampledParent = { ...child, traceFlags: 0 };
  const low = '4bf92f3577b34da6a3c0000000000000'; // low 52 bits: 0, under any ratio above 0
  const high = '4bf92f3577b34da6a3cfffffffffffff'; // the highest 52 bits
  const decide = (env: Record<string, string>, parent: typeof child | undefined, traceId: string) =>
    samplerEnvironment(env)!.sampler.shouldSample(parent, traceId);

  assert.equal(samplerEnvironment({}), undefined);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: 'always_on' }, unsampledParent, high), true);
  assert.equal(samplerEnvironment({ OTEL_TRACES_SAMPLER: 'always_on' })!.everyRoot, true);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: 'always_off' }, child, low), false);
  assert.equal(
    decide({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }, undefined, low),
    true,
  );
  assert.equal(
    decide({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }, undefined, high),
    false,
  );
  assert.equal(
    samplerEnvironment({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' })!.everyRoot,
    false,
  );
  assert.equal(decide({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }, unsampledParent, low), false);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, child, high), true);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, undefined, low), false);
  assert.equal(
    decide({ OTEL_TRACES_SAMPLER: 'PARENTBASED_TRACEIDRATIO', OTEL_TRACES_SAMPLER_ARG: '0' }, child, high),
    true,
  );
  assert.equal(
    decide({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, undefined, low),
    false,
  );
  assert.equal(decide({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_SAMPLER: 'always_on' }, child, low), false);

  const warnings = await warningsOf(() => {
    assert.equal(samplerEnvironment({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }), undefined);
    // A bad argument: the ratio's default, 1.
    assert.equal(
      decide({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, undefined, high),
      true,
    );
  });
  assert.equal(warnings.length, 2);
});

test('an exporter configured by OTEL_* variables sends there, with their headers and resource; options win', async () => {
  const receiver = await OtlpReceiver.start();
  try {
    const base = receiver.url.replace('/v1/traces', '');
    const exporter = new OtlpHttpExporter({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: base,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20token',
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging',
      },
      headers: { 'x-from-options': 'yes' },
      resource: { 'deployment.environment': 'from-options' },
    });
    const app = new App();
    const t = tracing({ exporter, env: false });
    app.use(t);
    app.get('/', () => 'ok');
    const server = await app.listen({ port: 0 });
    const client = new Client({ retry: false });
    try {
      await (await client.get(`http://127.0.0.1:${server.port}/`)).text();
      await exporter.flush();
      assert.equal(receiver.received.length, 1);
      const got = receiver.received[0]!;
      assert.equal(got.path, '/v1/traces');
      assert.equal(got.headers.authorization, 'Bearer token');
      assert.equal(got.headers['x-from-options'], 'yes');
      const resource = (
        got.body as {
          resourceSpans: { resource: { attributes: { key: string; value: { stringValue: string } }[] } }[];
        }
      ).resourceSpans[0]!.resource.attributes;
      const value = (key: string) => resource.find((a) => a.key === key)?.value.stringValue;
      assert.equal(value('service.name'), 'checkout');
      assert.equal(value('deployment.environment'), 'from-options');
    } finally {
      await client.close();
      await server.close();
      await t.close();
    }
  } finally {
    await receiver.close();
  }
});

test('tracing() takes its sampler from OTEL_TRACES_SAMPLER unless given one; env: false reads nothing', async () => {
  const receiver = await OtlpReceiver.start();
  try {
    const run = async (options: Parameters<typeof tracing>[0]) => {
      const app = new App();
      const t = tracing({ exporter: { url: receiver.url, env: false }, ...options });
      app.use(t);
      app.get('/', () => 'ok');
      const server = await app.listen({ port: 0 });
      const client = new Client({ retry: false });
      try {
        for (let i = 0; i < 3; i++) await (await client.get(`http://127.0.0.1:${server.port}/`)).text();
        await t.flush();
      } finally {
        await client.close();
        await server.close();
        await t.close();
      }
    };
    await run({ env: { OTEL_TRACES_SAMPLER: 'always_off' } });
    assert.equal(receiver.spans().length, 0, 'always_off: nothing exported');
    await run({ env: { OTEL_TRACES_SAMPLER: 'always_off' }, sampleRatio: 1 });
    assert.equal(receiver.spans().length, 3, 'sampleRatio in code wins over the environment');
    await run({ env: false });
    assert.equal(receiver.spans().length, 6);
  } finally {
    await receiver.close();
  }
});

test('a queue smaller than the batch size lowers the batch to it: OTEL_BSP_MAX_QUEUE_SIZE alone still sends full batches', async () => {
  // Regression guard: with the default batch of 2048 and a queue of 100, batches could never
  // fill; spans would leave only when the schedule timer fired, and most would be dropped.
  const receiver = await OtlpReceiver.start();
  const exporter = new OtlpHttpExporter({
    url: receiver.url,
    scheduleDelay: 60_000,
    env: { OTEL_BSP_MAX_QUEUE_SIZE: '100' },
  });
  try {
    const end = (name: string) =>
      new Span(name, SpanKind.Internal, TRACE, '1111111111111111', undefined, true, exporter).end();
    for (let i = 0; i < 100; i++) end(`s${i}`);
    // The hundredth span filled a batch, which left at once, with no timer.
    await receiver.waitForSpans(100, 5000);
    assert.equal(receiver.received.length, 1);
    assert.equal(exporter.droppedQueueFull, 0);
  } finally {
    await exporter.shutdown();
    await receiver.close();
  }
});
