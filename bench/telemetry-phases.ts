/**
 * Telemetry overhead, measured in one process: the server alternates, every PHASE ms, between a
 * plain app (A) and the same app with `metrics()` + `tracing()` (B, 100% sampled, exported to
 * the bench's sink process), while wrk loads it without pause. Each phase's requests and CPU
 * time are counted, and the ratio of B's rate to A's is printed.
 *
 * Why besides bench/telemetry: on this shared machine the speed drifts by a third from minute
 * to minute, so two server processes measured one after the other differ by more than the
 * cost being measured. Phases of a fifth of a second see the same machine. It understates the
 * cost a little: what B leaves behind (its instruments' finish observers, which ignore the
 * plain app's requests; garbage, CPU cache contents) is also present during A.
 * bench/telemetry stays the reference for the target; this one is for telling whether a
 * change helped.
 *
 * Calibration: `FEATURES=burn` makes B a middleware that only spins the CPU for BURN_NS
 * nanoseconds (default 1000, timed before the load starts). What the bench reports for it
 * shows how a known cost reads on the machine at hand: on the shared 2-vCPU VM of the
 * 2026-11 sessions, 1 µs read as +0.7 to +1.1 µs per request (B / A 0.95-0.97) in three runs
 * of four (the fourth read +0.16 µs), so a pure CPU cost is measured about right.
 *
 *   node dist/bench/telemetry-phases.js   (env: DURATION=15 PHASE=200 CONNECTIONS=50
 *                                          FEATURES=metrics,tracing; tracing alone: FEATURES=tracing;
 *                                          calibration: FEATURES=burn BURN_NS=1000)
 *
 * Server on core 0; wrk and the sink on core 1.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Middleware, ObservingMiddleware, Proceed } from '../src/server/handler.js';
import type { Request } from '../src/server/request.js';

const DURATION = Number(process.env.DURATION ?? 15);
const PHASE = Number(process.env.PHASE ?? 200);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const FEATURES = (process.env.FEATURES ?? 'metrics,tracing').split(',');

interface Report {
  a: number;
  b: number;
  cpuA: number;
  cpuB: number;
  userA: number;
  userB: number;
}

interface PhaseTotals {
  requests: number;
  ms: number;
  cpuMicros: number;
  userMicros: number;
}

async function serve(port: number, sinkUrl: string): Promise<void> {
  const { App } = await import('../src/server/app.js');
  const plain = new App();
  const instrumented = new App();
  if (FEATURES.includes('metrics')) {
    const { metrics } = await import('../src/telemetry/metrics/metrics-middleware.js');
    instrumented.use(metrics());
  }
  if (FEATURES.includes('tracing')) {
    const { tracing } = await import('../src/telemetry/tracing/tracing-middleware.js');
    instrumented.use(tracing({ exporter: { url: sinkUrl }, sampleRatio: 1 }));
  }
  if (FEATURES.includes('burn')) instrumented.use(burner(Number(process.env.BURN_NS ?? 1000)));
  plain.get('/', () => 'hello world');
  instrumented.get('/', () => 'hello world');
  let inB = false;
  let count = 0;
  // The instrumented app listens, so that its connections report finished responses to its
  // instruments; in A phases it hands the requests to the plain app.
  const dispatchInstrumented = instrumented.dispatch.bind(instrumented);
  instrumented.dispatch = (req) => {
    count++;
    return inB ? dispatchInstrumented(req) : plain.dispatch(req);
  };
  await instrumented.listen({ port, host: '127.0.0.1', keepAliveTimeout: 120_000, headersTimeout: 120_000 });
  const totals: Record<'A' | 'B', PhaseTotals> = {
    A: { requests: 0, ms: 0, cpuMicros: 0, userMicros: 0 },
    B: { requests: 0, ms: 0, cpuMicros: 0, userMicros: 0 },
  };
  let lastCpu = process.cpuUsage();
  let lastTime = performance.now();
  let lastCount = 0;
  setInterval(() => {
    const cpu = process.cpuUsage();
    const time = performance.now();
    // Phases before the load started or after it stopped would dilute the rates.
    if (count > lastCount) {
      const t = totals[inB ? 'B' : 'A'];
      t.requests += count - lastCount;
      t.ms += time - lastTime;
      t.cpuMicros += cpu.user - lastCpu.user + cpu.system - lastCpu.system;
      t.userMicros += cpu.user - lastCpu.user;
    }
    lastCpu = cpu;
    lastTime = time;
    lastCount = count;
    inB = !inB;
  }, PHASE);
  process.on('message', () => {
    const rate = (t: PhaseTotals) => (t.requests / t.ms) * 1000;
    const cpu = (t: PhaseTotals) => t.cpuMicros / t.requests;
    process.send!({
      a: rate(totals.A),
      b: rate(totals.B),
      cpuA: cpu(totals.A),
      cpuB: cpu(totals.B),
      userA: totals.A.userMicros / totals.A.requests,
      userB: totals.B.userMicros / totals.B.requests,
    });
  });
  process.send!('ready');
}

/** An observing middleware that spins the CPU for about `ns` nanoseconds per request. */
function burner(ns: number): ObservingMiddleware {
  let sink = 0;
  const spin = (n: number): void => {
    let x = 0;
    for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
    sink ^= x;
  };
  // Warm the loop into optimized code, then time it.
  for (let i = 0; i < 20; i++) spin(1e5);
  const started = process.hrtime.bigint();
  spin(1e7);
  const perIteration = Number(process.hrtime.bigint() - started) / 1e7;
  const iterations = Math.max(1, Math.round(ns / perIteration));
  console.error(`burn: ${iterations} iterations of ${perIteration.toFixed(3)} ns (${sink & 1})`);
  const middleware: Middleware = (_req, next) => next();
  return Object.assign(middleware, {
    observe: (req: Request, proceed: Proceed) => {
      spin(iterations);
      return proceed(req);
    },
  });
}

function run(file: string, args: string[], core: number, ipc: boolean): ChildProcess {
  return spawn('taskset', ['-c', String(core), process.execPath, file, ...args], {
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
}

async function drive(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const base = 22000 + (process.pid % 1000) * 10;
  const sink = run(self.replace(/telemetry-phases\.js$/, 'telemetry.js'), ['sink', String(base)], 1, false);
  await new Promise<void>((resolve) => sink.stdout!.once('data', () => resolve()));
  const server = run(self, ['serve', String(base + 1), `http://127.0.0.1:${base}/v1/traces`], 0, true);
  await new Promise<void>((resolve) => server.once('message', () => resolve()));
  const wrkArgs = [
    '-c',
    '1',
    'wrk',
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${DURATION}s`,
    `http://127.0.0.1:${base + 1}/`,
  ];
  await new Promise<void>((resolve, reject) =>
    execFile('taskset', wrkArgs, (err) => (err ? reject(err) : resolve())),
  );
  const result = await new Promise<Report>((resolve) => {
    server.once('message', (m) => resolve(m as Report));
    server.send('report');
  });
  server.kill('SIGKILL');
  sink.kill('SIGKILL');
  console.log(
    `phases of ${PHASE} ms for ${DURATION} s, wrk -c${CONNECTIONS}; B = plain + ${FEATURES.join(' + ')}`,
  );
  console.log(
    `A (plain)        ${result.a.toFixed(0).padStart(8)} req/s  ${result.cpuA.toFixed(2)} us CPU/request (user ${result.userA.toFixed(2)})`,
  );
  console.log(
    `B (instrumented) ${result.b.toFixed(0).padStart(8)} req/s  ${result.cpuB.toFixed(2)} us CPU/request (user ${result.userB.toFixed(2)})`,
  );
  console.log(
    `B / A: ${(result.b / result.a).toFixed(3)} (overhead ${((1 - result.b / result.a) * 100).toFixed(1)}%)`,
  );
}

if (process.argv[2] === 'serve') {
  serve(Number(process.argv[3]), process.argv[4]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  drive().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
