/**
 * Multi-core serving with node:cluster. The primary process forks one worker per core (or as
 * many as asked), restarts a worker that crashes (with a growing delay if it keeps crashing at
 * start-up), and on SIGTERM / SIGINT asks every worker to shut down gracefully, then exits.
 * Workers share the listening port through the primary, as node:cluster arranges.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  /** Worker processes. Default: the number of CPUs (`os.availableParallelism()`). */
  workers?: number;
  /** Time a shutting-down worker gets before it is killed, in ms. Default 15000. */
  shutdownTimeout?: number;
  /** Log lines go here. Default: console.error. */
  log?: (line: string) => void;
}

/** What a worker's start function returns: something that can be closed gracefully. */
export interface Closable {
  close(): Promise<void>;
}

const SHUTDOWN = 'avx:shutdown';

/**
 * In the primary, forks and supervises the workers and resolves when they have all exited after
 * a shutdown signal. In a worker, calls `start()` and closes what it returns when the primary
 * asks (or on SIGTERM), then exits.
 */
export async function runCluster(
  start: () => Promise<Closable>,
  options: ClusterOptions = {},
): Promise<void> {
  const log = options.log ?? ((line: string) => console.error(line));
  if (cluster.isPrimary) return supervise(options, log);

  // Listening for the primary's request before starting: one sent while `start()` runs (a
  // SIGTERM right after a crashed worker was replaced) would otherwise find no listener and be
  // lost, and the primary would wait out its shutdownTimeout and kill the worker.
  let server: Closable | undefined;
  let stopAsked = false;
  let stopping = false;
  const stop = async () => {
    stopAsked = true;
    if (server === undefined || stopping) return; // still starting: stops once started
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on('message', (msg) => {
    if (msg === SHUTDOWN) void stop();
  });
  // The primary forwards signals; a worker's own copy of SIGINT (from a terminal) is ignored
  // so that the primary alone decides.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void stop());
  server = await start();
  if (stopAsked) await stop();
}

function supervise(options: ClusterOptions, log: (line: string) => void): Promise<void> {
  const count = Math.max(1, options.workers ?? availableParallelism());
  const shutdownTimeout = options.shutdownTimeout ?? 15000;
  let shuttingDown = false;
  let recentCrashes = 0;

  const fork = () => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    worker.once('exit', (code, signal) => {
      if (shuttingDown) return;
      // A worker that dies within a second of starting is crash-looping: back off.
      recentCrashes = Date.now() - startedAt < 1000 ? recentCrashes + 1 : 0;
      const delay = Math.min(30000, recentCrashes === 0 ? 0 : 100 * 2 ** recentCrashes);
      log(`avx: worker ${worker.process.pid} exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(fork, delay).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();

  return new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      if (shuttingDown) return;
      shuttingDown = true;
      log(`avx: ${signal}: shutting down ${Object.keys(cluster.workers ?? {}).length} workers`);
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      if (workers.length === 0) resolve();
      let left = workers.length;
      for (const worker of workers) {
        const kill = setTimeout(() => worker.kill('SIGKILL'), shutdownTimeout);
        worker.once('exit', () => {
          clearTimeout(kill);
          if (--left === 0) resolve();
        });
        // A worker may be gone already: the same signal can reach the whole process group
        // (a supervisor's SIGTERM, `timeout npm start`). Its channel is then closed, and the
        // message fails with EPIPE, reported as an 'error' on the worker: not a reason to
        // crash the primary, whose 'exit' wait covers that worker either way.
        worker.on('error', () => {});
        if (worker.isConnected()) worker.send(SHUTDOWN);
      }
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
