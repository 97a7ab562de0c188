// Tests for runCluster (src/server/cluster.ts) in real processes: a primary and its forked
// workers, run from a small script written to a temporary folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const CLUSTER_MODULE = new URL('../../src/server/cluster.js', import.meta.url).href;

/**
 * A script whose one worker takes `startMs` to start and prints `started` and `closed`; the
 * primary waits at most `shutdownTimeout` for it before killing it.
 */
function clusterScript(startMs: number, shutdownTimeout: number): string {
  return `
import { runCluster } from ${JSON.stringify(CLUSTER_MODULE)};
await runCluster(
  async () => {
    console.log('starting');
    await new Promise((resolve) => setTimeout(resolve, ${startMs}));
    console.log('started');
    const keepAlive = setInterval(() => {}, 1000);
    return { close: async () => { clearInterval(keepAlive); console.log('closed'); } };
  },
  { workers: 1, shutdownTimeout: ${shutdownTimeout}, log: () => {} },
);
`;
}

// Regression: a worker listened for the primary's shutdown request only once `start()` had
// returned. A SIGTERM to the primary while a worker was still starting (right after a crashed
// worker was replaced, in the CLI test under load) sent a request nobody heard: the worker
// kept serving and the primary waited its whole shutdownTimeout, then killed it.
test('a worker asked to shut down while it is still starting stops once started, gracefully', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'avx-cluster-'));
  try {
    const script = join(dir, 'cluster.mjs');
    writeFileSync(script, clusterScript(800, 20_000));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (out.includes(text)) resolve();
          else child.stdout!.once('data', check);
        };
        check();
      });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await seen('starting');
    const asked = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000)),
    ]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 0, `the primary exited (${out.trim().split('\n').join(', ')})`);
    assert.deepEqual(out.trim().split('\n'), ['starting', 'started', 'closed']);
    assert.ok(Date.now() - asked < 10_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
