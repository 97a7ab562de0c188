/**
 * What the span exporter costs the server per span, by batch size: a hello-world app with
 * `metrics()` + `tracing()` (100% sampled, OTLP/HTTP JSON to the bench's sink) under wrk, and
 * the CPU time the server spends sending batches (encoding and writing them, timed around the
 * exporter's batch send) divided by the spans sent. Batch sizes alternate in rounds, each in a
 * fresh server; medians and their ratio to the first size are printed.
 *
 * This is the measurement behind the exporter's default `maxBatchSize`: each export request
 * costs the server a fixed amount besides its bytes (its first write wakes the collector's
 * process), so larger batches cost less per span.
 *
 * A variant may name an encoding after its size: `2048:json`, `2048:protobuf`, `2048:json+gzip`
 * or `2048:protobuf+gzip` (a size alone is JSON). The time is what the send takes in the event loop (encoding and
 * the socket writes made at once); kernel work that follows later (the collector's reads and
 * acknowledgements) is not in it, so encodings that send more bytes read cheaper here than they
 * are: compare them by throughput with bench/telemetry.js (`KINDS=avx,avx+telemetry,...`).
 *
 *   node dist/bench/telemetry-export.js   (env: BATCHES=512,1024,2048 ROUNDS=3 DURATION=8;
 *                                          encodings: BATCHES=2048:json,2048:protobuf,2048:json+gzip)
 *
 * Server on core 0; wrk and the sink on core 1.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Variants: a batch size, optionally with `:protobuf` (http/protobuf) or `:gzip` (JSON, gzip). */
const BATCHES = (process.env.BATCHES ?? '512,1024,2048').split(',');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 8);

async function serve(port: number, sinkUrl: string, variant: string): Promise<void> {
  const [size, encoding] = variant.split(':');
  const batch = Number(size);
  const protocol = encoding?.includes('protobuf') ? 'http/protobuf' : 'http/json';
  const compression = encoding?.includes('gzip') ? 'gzip' : 'none';
  const { App } = await import('../src/server/app.js');
  const { metrics } = await import('../src/telemetry/metrics/metrics-middleware.js');
  const { tracing } = await import('../src/telemetry/tracing/tracing-middleware.js');
  const app = new App();
  app.use(metrics());
  const t = tracing({
    exporter: {
      url: sinkUrl,
      maxBatchSize: batch,
      maxQueueSize: 4 * batch,
      protocol,
      compression,
      env: false,
    },
    sampleRatio: 1,
    env: false,
  });
  app.use(t);
  app.get('/', () => 'hello world');
  // The send is private: wrap it on the instance to time it (and count what it sends).
  const exporter = t.exporter as unknown as { sendBatch(): void; queued: number };
  const send = exporter.sendBatch.bind(exporter);
  let ms = 0;
  let spans = 0;
  exporter.sendBatch = () => {
    spans += exporter.queued;
    const started = performance.now();
    send();
    ms += performance.now() - started;
  };
  await app.listen({ port, host: '127.0.0.1', keepAliveTimeout: 120_000, headersTimeout: 120_000 });
  process.on('message', () => {
    process.send!({ usPerSpan: (ms * 1000) / spans, spans });
  });
  process.send!('ready');
}

function run(file: string, args: string[], core: number, ipc: boolean): ChildProcess {
  return spawn('taskset', ['-c', String(core), process.execPath, file, ...args], {
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function drive(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const base = 24000 + (process.pid % 1000) * 10;
  const sink = run(self.replace(/telemetry-export\.js$/, 'telemetry.js'), ['sink', String(base)], 1, false);
  await new Promise<void>((resolve) => sink.stdout!.once('data', () => resolve()));
  const results = new Map<string, number[]>(BATCHES.map((b) => [b, []]));
  let port = base + 1;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const batch of BATCHES) {
        const server = run(
          self,
          ['serve', String(port), `http://127.0.0.1:${base}/v1/traces`, batch],
          0,
          true,
        );
        await new Promise<void>((resolve) => server.once('message', () => resolve()));
        await new Promise<void>((resolve, reject) =>
          execFile(
            'taskset',
            ['-c', '1', 'wrk', '-t1', '-c50', `-d${DURATION}s`, `http://127.0.0.1:${port}/`],
            (err) => (err ? reject(err) : resolve()),
          ),
        );
        const report = await new Promise<{ usPerSpan: number; spans: number }>((resolve) => {
          server.once('message', (m) => resolve(m as { usPerSpan: number; spans: number }));
          server.send('report');
        });
        server.kill('SIGKILL');
        results.get(batch)!.push(report.usPerSpan);
        console.log(
          `round ${round + 1} batch ${batch}: ${report.usPerSpan.toFixed(3)} us/span (${report.spans} spans)`,
        );
        port++;
      }
    }
  } finally {
    sink.kill('SIGKILL');
  }
  const first = median(results.get(BATCHES[0]!)!);
  console.log(`\nserver CPU in the exporter per span (median of ${ROUNDS})`);
  for (const batch of BATCHES) {
    const m = median(results.get(batch)!);
    console.log(
      `batch ${batch.padStart(14)}  ${m.toFixed(3)} us/span  ${(m / first).toFixed(2)}x of ${BATCHES[0]}`,
    );
  }
}

const main =
  process.argv[2] === 'serve' ? serve(Number(process.argv[3]), process.argv[4]!, process.argv[5]!) : drive();
main.catch((err) => {
  console.error(err);
  process.exit(1);
});
