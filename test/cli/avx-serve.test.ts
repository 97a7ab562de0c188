import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.js';

const AVX = fileURLToPath(new URL('../../src/cli/avx.js', import.meta.url));

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The pid in `GET /health`'s answer, asked on a connection of its own. */
function healthPidOnNewConnection(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve((JSON.parse(body) as { pid: number }).pid));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function waitFor<T>(probe: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** `avx serve --workers 2` on a free port, its stderr collected. */
async function serveTwoWorkers(): Promise<{ port: number; child: ChildProcess; stderr: string[] }> {
  const port = await freePort();
  const child = spawn(process.execPath, [AVX, 'serve', '--port', String(port), '--workers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return { port, child, stderr };
}

test('avx --help and serve --help document the flags', async () => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [AVX, 'serve', '--help'], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  for (const flag of ['--port', '--host', '--workers', '--static', '--tls-cert', '--tls-key']) {
    assert.ok(out.includes(flag), `help mentions ${flag}`);
  }
});

test('avx serve rejects a bad flag with exit code 2', async () => {
  const code = await new Promise<number | null>((resolve) => {
    execFile(process.execPath, [AVX, 'serve', '--port', 'nope'], (err) =>
      resolve(err === null ? 0 : (err.code as number)),
    );
  });
  assert.equal(code, 2);
});

test('avx serve --workers 2: serves, restarts a crashed worker, shuts down on SIGTERM', async () => {
  const { port, child, stderr } = await serveTwoWorkers();
  try {
    const url = `http://127.0.0.1:${port}/health`;
    const first = await waitFor(() => getJson(url), 15000);
    assert.equal(first.status, 200);
    const pid = first.body.pid as number;
    assert.ok(Number.isInteger(pid) && pid !== child.pid, 'a worker, not the primary, answered');

    // Kill that worker: the primary logs the crash and starts another, and the service keeps
    // answering. (The other worker may answer at once, so wait for the primary's log line.)
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => {
      if (!/restarting/.test(stderr.join('')))
        throw new Error('the primary has not restarted the worker yet');
    }, 15000);
    const after = await waitFor(() => getJson(url), 15000);
    assert.equal(after.status, 200);
    assert.notEqual(after.body.pid, pid);

    child.kill('SIGTERM');
    const code = await Promise.race([exited(child), sleep(10000).then(() => 'timeout' as const)]);
    assert.equal(code, 0);
    await assert.rejects(fetch(url, { signal: AbortSignal.timeout(3000) }));
  } finally {
    child.kill('SIGKILL');
  }
});

// Regression: `timeout 25 npm start` once stopped the demo with a crash. A signal that reaches
// the workers and the primary at once (a supervisor's SIGTERM to the process group) let a
// worker exit before the primary's shutdown message reached it: the message hit a closed
// channel and the unhandled EPIPE ('error' on the Worker) crashed the primary. The race is
// narrow and this test does not always hit it: here the workers die first, for sure
// (SIGKILL), and the primary is told to stop in the same instant, three times over.
test('workers gone as the primary shuts down: it stops with code 0, no EPIPE crash', async () => {
  for (let round = 0; round < 3; round++) {
    const { port, child, stderr } = await serveTwoWorkers();
    try {
      const pids = new Set<number>();
      // A new connection each time (fetch would keep one): the primary hands them out in turn.
      await waitFor(async () => {
        pids.add(await healthPidOnNewConnection(port));
        if (pids.size < 2) throw new Error('one worker seen so far');
      }, 15000);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      child.kill('SIGTERM');
      const code = await Promise.race([exited(child), sleep(10000).then(() => 'timeout' as const)]);
      assert.equal(code, 0, stderr.join(''));
      assert.doesNotMatch(stderr.join(''), /EPIPE|Unhandled/);
    } finally {
      child.kill('SIGKILL');
    }
  }
});
