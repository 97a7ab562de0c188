/**
 * HTTP/2 server benchmark: h2load (nghttp2-client) against avx and node:http2, over h2c (prior
 * knowledge) and TLS (ALPN h2), server pinned to core 0 and h2load to core 1, contenders
 * alternating in rounds, medians and ratios. Then the clients: avx's `Client` against
 * node:http2's client, each in its own process pinned to core 1, GETs over one h2c connection
 * with 100 streams in flight against the same node:http2 server on core 0, alternating rounds,
 * medians and ratio (bench/h2-client-target.ts). Then one connection carrying 10,000
 * concurrent streams to completion against avx, and resident memory per idle HTTP/2 connection.
 *
 *   node dist/bench/h2.js        (env: ROUNDS=3 REQUESTS=200000 CLIENT_REQUESTS=100000 IDLE=2000)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REQUESTS = Number(process.env.REQUESTS ?? 200000);
const CLIENT_REQUESTS = Number(process.env.CLIENT_REQUESTS ?? 100000);
const CLIENT_STREAMS = 100;
const IDLE = Number(process.env.IDLE ?? 2000);
const target = fileURLToPath(new URL('./h2-server-target.js', import.meta.url));
const clientTarget = fileURLToPath(new URL('./h2-client-target.js', import.meta.url));
let nextPort = 22000 + (process.pid % 1000) * 5;

type Kind = 'avx' | 'node';
type Mode = 'h2c' | 'tls';

interface Running {
  child: ChildProcess;
  port: number;
}

function start(kind: Kind, mode: Mode, streams = 100): Promise<Running> {
  const port = nextPort++;
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, target, kind, mode, String(port), String(streams)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} ${mode} server exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ child, port });
    });
  });
}

function stop(server: Running): Promise<void> {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.once('exit', () => resolve());
    server.child.kill('SIGKILL');
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 22 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/** Runs h2load; returns requests/s, and throws unless every request succeeded. */
async function h2load(url: string, requests: number, clients: number, streams: number): Promise<number> {
  const out = await run('taskset', [
    '-c',
    '1',
    'h2load',
    '-n',
    String(requests),
    '-c',
    String(clients),
    '-m',
    String(streams),
    url,
  ]);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN);
  const status =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (status === null || status[3] !== String(requests)) {
    throw new Error(`h2load did not complete every request:\n${out.split('\n').slice(-12).join('\n')}`);
  }
  return rps;
}

/** Runs one client round (its own process, core 1); returns requests/s. */
async function clientRound(kind: Kind, url: string): Promise<number> {
  const out = await run('taskset', [
    '-c',
    '1',
    process.execPath,
    clientTarget,
    kind,
    url,
    String(CLIENT_REQUESTS),
    String(CLIENT_STREAMS),
  ]);
  const rps = Number(out.trim());
  if (!(rps > 0)) throw new Error(`the ${kind} client printed ${JSON.stringify(out)}`);
  return rps;
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
}

/** Opens `count` HTTP/2 connections (h2c), one request each, and keeps them idle. */
async function idlePerConnection(kind: Kind): Promise<number> {
  const server = await start(kind, 'h2c');
  try {
    const url = `http://127.0.0.1:${server.port}`;
    await h2load(`${url}/`, 20000, 10, 10); // warm-up
    await new Promise((r) => setTimeout(r, 500));
    const before = rssKiB(server.child.pid!);
    const sessions = [];
    for (let i = 0; i < IDLE; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, IDLE - i) }, async () => {
          const session = connect(url);
          await new Promise<void>((resolve, reject) => {
            const req = session.request({ ':path': '/' });
            req.on('response', () => {});
            req.resume();
            req.on('end', () => resolve());
            req.on('error', reject);
          });
          return session;
        }),
      );
      sessions.push(...batch);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const after = rssKiB(server.child.pid!);
    for (const s of sessions) s.destroy();
    return ((after - before) * 1024) / IDLE;
  } finally {
    await stop(server);
  }
}

async function main(): Promise<void> {
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['h2c', 'tls'] as Mode[]) {
      const order: Kind[] = round % 2 === 0 ? ['avx', 'node'] : ['node', 'avx'];
      for (const kind of order) {
        const server = await start(kind, mode);
        try {
          const url = `${mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${server.port}/`;
          await h2load(url, 20000, 10, 100); // warm-up
          const rps = await h2load(url, REQUESTS, 10, 100);
          const key = `${mode}/${kind}`;
          results.set(key, [...(results.get(key) ?? []), rps]);
          console.log(`round ${round + 1} ${key}: ${rps.toFixed(0)} req/s`);
        } finally {
          await stop(server);
        }
      }
    }
  }
  console.log(
    `\nh2load -n ${REQUESTS} -c 10 -m 100, server on core 0, h2load on core 1, medians of ${ROUNDS} rounds`,
  );
  for (const mode of ['h2c', 'tls'] as Mode[]) {
    const avx = median(results.get(`${mode}/avx`)!);
    const node = median(results.get(`${mode}/node`)!);
    console.log(
      `${mode.padEnd(4)} avx ${avx.toFixed(0).padStart(8)} req/s   node:http2 ${node.toFixed(0).padStart(8)} req/s   avx/node ${(avx / node).toFixed(2)}x`,
    );
  }

  // The clients: avx Client vs node:http2's client, one connection, 100 streams in flight,
  // against the same node:http2 server (a fresh one per round, both clients in turn).
  const clients = new Map<Kind, number[]>([
    ['avx', []],
    ['node', []],
  ]);
  for (let round = 0; round < ROUNDS; round++) {
    const server = await start('node', 'h2c');
    try {
      const order: Kind[] = round % 2 === 0 ? ['avx', 'node'] : ['node', 'avx'];
      for (const kind of order) {
        const rps = await clientRound(kind, `http://127.0.0.1:${server.port}/`);
        clients.get(kind)!.push(rps);
        console.log(`round ${round + 1} client/${kind}: ${rps.toFixed(0)} req/s`);
      }
    } finally {
      await stop(server);
    }
  }
  {
    const avx = median(clients.get('avx')!);
    const node = median(clients.get('node')!);
    console.log(
      `\nclients: ${CLIENT_REQUESTS} GETs over one h2c connection, ${CLIENT_STREAMS} streams in flight, node:http2 server on core 0, client on core 1, medians of ${ROUNDS} rounds`,
    );
    console.log(
      `client avx Client ${avx.toFixed(0).padStart(8)} req/s   node:http2 client ${node.toFixed(0).padStart(8)} req/s   avx/node ${(avx / node).toFixed(2)}x`,
    );
  }

  // One connection, 10,000 streams open at once, all completing.
  const wide = await start('avx', 'h2c', 10000);
  try {
    const rps = await h2load(`http://127.0.0.1:${wide.port}/`, 10000, 1, 10000);
    console.log(`\none connection, 10000 concurrent streams: all 10000 completed (${rps.toFixed(0)} req/s)`);
  } finally {
    await stop(wide);
  }

  if (IDLE > 0) {
    const avx = await idlePerConnection('avx');
    const node = await idlePerConnection('node');
    console.log(`\nresident memory per idle HTTP/2 connection (${IDLE} open)`);
    console.log(
      `avx  ${(avx / 1024).toFixed(2)} KiB\nnode ${(node / 1024).toFixed(2)} KiB\navx/node ${(avx / node).toFixed(2)}x`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
