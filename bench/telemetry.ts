/**
 * Telemetry overhead benchmark: hello-world requests/s of avx with and without `metrics()` +
 * `tracing()` (100% sampling, spans exported over OTLP/HTTP to a local sink, in the exporter's
 * default encoding: protobuf), against fastify with and without prom-client (request counter +
 * duration histogram + default metrics) and the OpenTelemetry SDK
 * (`@opentelemetry/instrumentation-http`, always-on sampler, batch span processor, and the
 * OTLP/HTTP protobuf exporter, `@opentelemetry/exporter-trace-otlp-proto`, the OpenTelemetry
 * specification's default transport, to the same sink). Each server runs in its own process pinned to
 * core 0; wrk and the sink (a bare socket server standing for a collector elsewhere) are pinned
 * to core 1. Each round starts and warms every contender's server, then measures them in turn,
 * SLICES times (DURATION seconds each, the order rotating); the servers stop at the end of the
 * round. The medians of all measurements and of the per-slice ratios are printed. On a shared
 * machine whose speed drifts, many short slices (`ROUNDS=4 SLICES=10 DURATION=1`) agree better
 * from run to run than a few long rounds. Targets: avx instrumented >= 0.9x avx plain, and >= 2x
 * fastify instrumented.
 *
 *   node dist/bench/telemetry.js   (env: ROUNDS=3 SLICES=1 DURATION=5 CONNECTIONS=50 MIXED=1)
 *
 * `MIXED=1`: instead of `GET /` only, wrk cycles through three routes (`/`, `/users/:id` with
 * two ids, `/orders/:id`), and every fourth request carries a `traceparent`: traffic whose
 * spans do not all encode alike, which the hello-world load hides.
 *
 * Needs `wrk` (Debian package) and `taskset` (util-linux). The same file is the server process:
 * `node dist/bench/telemetry.js serve <kind> <port> <sinkUrl>`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ALL = [
  'avx',
  'avx+telemetry',
  'fastify',
  'fastify+telemetry',
  'avx+telemetry+context',
  'avx+metrics',
  'avx+tracing',
  'avx+noop',
  'avx+telemetry+json',
  'avx+telemetry+gzip',
  'avx+telemetry+json+gzip',
  'fastify+telemetry+json',
] as const;
type Contender = (typeof ALL)[number];
/**
 * The five compared by default; `KINDS=avx,avx+noop,avx+metrics,avx+tracing` splits the cost
 * (`avx+noop`: one middleware that only calls `next()`). `avx+telemetry+context` carries the
 * server span through async context from the start (`tracing({ context: 'always' })`), as it
 * is once the process has a tracing client; by default it is carried only from then on.
 * `avx+telemetry+json` exports spans with `protocol: 'http/json'`, `avx+telemetry+gzip` with
 * `compression: 'gzip'` (protobuf through node:zlib), `avx+telemetry+json+gzip` both (JSON
 * compressed as it is encoded); `fastify+telemetry+json` uses the SDK's OTLP/HTTP JSON exporter
 * (`@opentelemetry/exporter-trace-otlp-http`).
 */
const CONTENDERS: Contender[] = (process.env.KINDS?.split(',') as Contender[] | undefined) ?? ALL.slice(0, 5);

async function serve(kind: Contender, port: number, sinkUrl: string): Promise<void> {
  if (kind.startsWith('avx')) {
    const { App } = await import('../src/server/app.js');
    const app = new App();
    if (kind === 'avx+noop') app.use((_req, next) => next());
    const telemetry = kind.startsWith('avx+telemetry');
    if (telemetry || kind === 'avx+metrics') {
      const { metrics } = await import('../src/telemetry/metrics/metrics-middleware.js');
      app.use(metrics());
    }
    if (telemetry || kind === 'avx+tracing') {
      const { tracing } = await import('../src/telemetry/tracing/tracing-middleware.js');
      const context = kind === 'avx+telemetry+context' ? 'always' : 'auto';
      // The exporter's defaults but where the kind says otherwise; no OTEL_* variable counts.
      const protocol = kind.includes('+json') ? 'http/json' : undefined;
      const compression = kind.endsWith('+gzip') ? 'gzip' : undefined;
      app.use(
        tracing({
          exporter: { url: sinkUrl, protocol, compression, env: false },
          sampleRatio: 1,
          context,
          env: false,
        }),
      );
    }
    app.get('/', () => 'hello world');
    app.get('/users/:id', (req) => `user ${req.params.id}`);
    app.get('/orders/:id', (req) => `order ${req.params.id}`);
    await app.listen({ port, host: '127.0.0.1', keepAliveTimeout: 120_000, headersTimeout: 120_000 });
  } else {
    let promClient: typeof import('prom-client') | undefined;
    if (kind === 'fastify+telemetry' || kind === 'fastify+telemetry+json') {
      // The OpenTelemetry SDK must patch node:http before fastify loads it.
      const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
      const { BatchSpanProcessor, AlwaysOnSampler } = await import('@opentelemetry/sdk-trace-base');
      const { OTLPTraceExporter } =
        kind === 'fastify+telemetry'
          ? await import('@opentelemetry/exporter-trace-otlp-proto')
          : await import('@opentelemetry/exporter-trace-otlp-http');
      const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
      const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
      const provider = new NodeTracerProvider({
        sampler: new AlwaysOnSampler(),
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: sinkUrl }))],
      });
      provider.register();
      registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
      promClient = await import('prom-client');
      promClient.collectDefaultMetrics();
    }
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false, keepAliveTimeout: 120_000 });
    if (promClient !== undefined) {
      const requests = new promClient.Counter({
        name: 'http_requests_total',
        help: 'requests',
        labelNames: ['method', 'route', 'status_code'],
      });
      const duration = new promClient.Histogram({
        name: 'http_request_duration_seconds',
        help: 'duration',
        labelNames: ['method', 'route', 'status_code'],
      });
      const starts = new WeakMap<object, number>();
      app.addHook('onRequest', async (req) => {
        starts.set(req, performance.now());
      });
      app.addHook('onResponse', async (req, reply) => {
        const labels = {
          method: req.method,
          route: req.routeOptions.url ?? '',
          status_code: reply.statusCode,
        };
        requests.inc(labels);
        duration.observe(labels, (performance.now() - (starts.get(req) ?? 0)) / 1000);
      });
      const registry = promClient.register;
      app.get('/metrics', async (_req, reply) =>
        reply.type(registry.contentType).send(await registry.metrics()),
      );
    }
    app.get('/', async () => 'hello world');
    app.get('/users/:id', async (req) => `user ${(req.params as { id: string }).id}`);
    app.get('/orders/:id', async (req) => `order ${(req.params as { id: string }).id}`);
    await app.listen({ port, host: '127.0.0.1' });
  }
  console.log('ready');
}

// ------------------------------------------------------------------------------------------------
// Driver

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 5);
/** Measurements per contender per round, alternating (servers stay up for the round). */
const SLICES = Number(process.env.SLICES ?? 1);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const self = fileURLToPath(import.meta.url);
let nextPort = 21000 + (process.pid % 1000) * 10;

function startServer(kind: Contender, sinkUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const port = nextPort++;
  const child = spawn('taskset', ['-c', '0', process.execPath, self, 'serve', kind, String(port), sinkUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ child, port });
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** wrk's script for MIXED=1 (see the file comment). */
const MIXED_SCRIPT = `
local paths = { "/", "/users/1", "/orders/7", "/users/2" }
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if n % 4 == 0 then
    headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
  end
  return wrk.format("GET", paths[(n % #paths) + 1], headers)
end
`;
let mixedScriptPath: string | undefined;

function wrk(port: number, seconds: number): Promise<number> {
  const args = ['-c', '1', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`];
  if (process.env.MIXED === '1') {
    if (mixedScriptPath === undefined) {
      mixedScriptPath = join(mkdtempSync(join(tmpdir(), 'avx-bench-')), 'mixed.lua');
      writeFileSync(mixedScriptPath, MIXED_SCRIPT);
    }
    args.push('-s', mixedScriptPath);
  }
  return new Promise((resolve, reject) => {
    execFile('taskset', args, { maxBuffer: 1 << 20 }, (err, out) => {
      if (err) return reject(err);
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      if (errors !== null) return reject(new Error(`wrk saw ${errors[1]} error responses`));
      resolve(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN));
    });
  });
}

/** Starts the sink process on core 1. */
function startSink(): Promise<{ child: ChildProcess; port: number }> {
  const port = nextPort++;
  const child = spawn('taskset', ['-c', '1', process.execPath, self, 'sink', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sink exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ child, port });
    });
  });
}

/**
 * The sink: a bare socket server that reads each request's head and body (Content-Length, or
 * the chunked transfer coding, RFC 9112 §7.1), counts the body bytes and answers 200 `{}`
 * (keep-alive), so that receiving spans costs the machine as little as possible. `GET /bytes`
 * answers the count.
 */
function sink(port: number): void {
  let total = 0;
  const ok = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}';
  createNetServer((socket) => {
    let head = '';
    // Where the reader is: in a head, in sized content (`remaining` bytes), in a chunk-size
    // line (`line`), in a chunk's data (`remaining`, then its CRLF), or in the trailer section.
    let state: 'head' | 'sized' | 'size-line' | 'chunk' | 'chunk-end' | 'trailers' = 'head';
    let remaining = 0;
    let line = '';
    const answer = () => {
      state = 'head';
      socket.write(ok);
    };
    socket.on('data', (chunk: Buffer) => {
      let at = 0;
      while (at < chunk.length) {
        if (state === 'head') {
          const text = chunk.toString('latin1', at);
          const end = (head + text).indexOf('\r\n\r\n');
          if (end < 0) {
            head += text;
            return;
          }
          const full = (head + text).slice(0, end);
          at += end + 4 - head.length;
          head = '';
          if (full.startsWith('GET /bytes')) {
            const body = String(total);
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
            continue;
          }
          if (/\r\ntransfer-encoding:\s*chunked/i.test(full)) {
            state = 'size-line';
            line = '';
            continue;
          }
          remaining = Number(/\r\ncontent-length:\s*(\d+)/i.exec(full)?.[1] ?? 0);
          state = 'sized';
        }
        if (state === 'sized' || state === 'chunk') {
          const take = Math.min(remaining, chunk.length - at);
          total += take;
          remaining -= take;
          at += take;
          if (remaining > 0) continue;
          if (state === 'sized') answer();
          else {
            state = 'chunk-end';
            remaining = 2;
          }
          continue;
        }
        if (state === 'chunk-end') {
          const take = Math.min(remaining, chunk.length - at);
          remaining -= take;
          at += take;
          if (remaining === 0) {
            state = 'size-line';
            line = '';
          }
          continue;
        }
        // A chunk-size line, or a trailer line: up to LF.
        const lf = chunk.indexOf(0x0a, at);
        if (lf < 0) {
          line += chunk.toString('latin1', at);
          return;
        }
        line += chunk.toString('latin1', at, lf);
        at = lf + 1;
        const text = line.trimEnd();
        line = '';
        if (state === 'trailers') {
          if (text === '') answer();
          continue;
        }
        remaining = Number.parseInt(text, 16);
        state = remaining === 0 ? 'trailers' : 'chunk';
      }
    });
    socket.on('error', () => {});
  }).listen(port, '127.0.0.1', () => console.log('ready'));
}

async function sinkBytes(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/bytes`);
  return Number(await res.text());
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function drive(): Promise<void> {
  // The OTLP sink both instrumented servers export to: accepts and discards. It runs in its own
  // process pinned to core 1 with the load generator, as a collector would run elsewhere: core 0
  // is the server's alone.
  const sink = await startSink();
  const sinkUrl = `http://127.0.0.1:${sink.port}/v1/traces`;
  const results = new Map<Contender, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // Every contender's server of the round is started and warmed first; then wrk moves from
    // one to the next for each slice. Idle, a server costs nothing, and contenders measured
    // seconds apart see the same machine.
    const servers = new Map<Contender, { child: ChildProcess; port: number }>();
    try {
      for (const kind of CONTENDERS) {
        const server = await startServer(kind, sinkUrl);
        servers.set(kind, server);
        await wrk(server.port, 1); // warm-up
      }
      for (let slice = 0; slice < SLICES; slice++) {
        const turn = round * SLICES + slice;
        const order = CONTENDERS.map((_, k) => CONTENDERS[(k + turn) % CONTENDERS.length]!);
        for (const kind of order) {
          const rps = await wrk(servers.get(kind)!.port, DURATION);
          results.set(kind, [...(results.get(kind) ?? []), rps]);
          const at = SLICES > 1 ? `.${slice + 1}` : '';
          console.log(`round ${round + 1}${at} ${kind}: ${rps.toFixed(0)} req/s`);
        }
      }
    } finally {
      for (const server of servers.values()) await stopServer(server.child);
    }
  }
  const spansBytes = await sinkBytes(sink.port);
  await stopServer(sink.child);
  const m = (kind: Contender) => median(results.get(kind) ?? [Number.NaN]);
  console.log(
    `\nmedians of ${ROUNDS} rounds x ${SLICES} slices, wrk -t1 -c${CONNECTIONS} -d${DURATION}s GET /, server core 0, wrk core 1`,
  );
  for (const kind of CONTENDERS) console.log(`${kind.padEnd(18)} ${m(kind).toFixed(0).padStart(8)} req/s`);
  // The machine's speed drifts from minute to minute: the median of each slice's own ratio
  // (contenders run back to back) is steadier than the ratio of the medians.
  const roundRatio = (kind: Contender, base: Contender) => {
    const a = results.get(kind) ?? [];
    const b = results.get(base) ?? [];
    return median(a.map((v, i) => v / (b[i] ?? Number.NaN)));
  };
  const avxRatio = m('avx+telemetry') / m('avx');
  const fastifyRatio = m('fastify+telemetry') / m('fastify');
  console.log(
    `avx instrumented / plain:          ${avxRatio.toFixed(3)} (overhead ${((1 - avxRatio) * 100).toFixed(1)}%)`,
  );
  console.log(
    `fastify instrumented / plain:      ${fastifyRatio.toFixed(3)} (overhead ${((1 - fastifyRatio) * 100).toFixed(1)}%)`,
  );
  console.log(
    `avx instrumented / fastify instr.: ${(m('avx+telemetry') / m('fastify+telemetry')).toFixed(2)}x`,
  );
  if (CONTENDERS.includes('avx+telemetry+context')) {
    const ratio = m('avx+telemetry+context') / m('avx');
    console.log(
      `avx instrumented, context carried / plain: ${ratio.toFixed(3)} (overhead ${((1 - ratio) * 100).toFixed(1)}%)`,
    );
  }
  console.log('median of the per-slice ratios:');
  for (const kind of CONTENDERS) {
    if (kind === 'avx' || kind === 'fastify') continue;
    const base = kind.startsWith('fastify') ? 'fastify' : 'avx';
    if (CONTENDERS.includes(base)) console.log(`  ${kind} / ${base}: ${roundRatio(kind, base).toFixed(3)}`);
  }
  if (CONTENDERS.includes('fastify+telemetry') && CONTENDERS.includes('avx+telemetry')) {
    console.log(
      `  avx+telemetry / fastify+telemetry: ${roundRatio('avx+telemetry', 'fastify+telemetry').toFixed(2)}x`,
    );
  }
  console.log(`span bytes received by the sink: ${spansBytes}`);
}

if (process.argv[2] === 'sink') {
  sink(Number(process.argv[3]));
} else if (process.argv[2] === 'serve') {
  serve(process.argv[3] as Contender, Number(process.argv[4]), process.argv[5]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  drive().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
