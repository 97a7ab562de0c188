/**
 * HTTP/1.1 server benchmark: the same hello-world, JSON and 1 KiB-POST apps on avx, node:http
 * and fastify, loaded by wrk. The server runs pinned to core 0 and wrk to core 1 (taskset);
 * contenders alternate within each round; the medians of the rounds and their ratios are
 * printed. Then resident memory per idle keep-alive connection with 5,000 connections open.
 *
 *   node dist/bench/h1-server.js            (env: ROUNDS=3 DURATION=5 CONNECTIONS=50 IDLE=5000)
 *
 * Needs `wrk` (Debian package) and `taskset` (util-linux).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const IDLE = Number(process.env.IDLE ?? 5000);
const CONTENDERS = ['avx', 'node', 'fastify'] as const;
type Contender = (typeof CONTENDERS)[number];
const SCENARIOS = ['hello', 'json', 'post'] as const;
type Scenario = (typeof SCENARIOS)[number];

const target = fileURLToPath(new URL('./h1-server-target.js', import.meta.url));
const postScript = join(tmpdir(), `avx-bench-post-${process.pid}.lua`);
writeFileSync(
  postScript,
  `wrk.method = "POST"\nwrk.body = string.rep("x", 1024)\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
);

let nextPort = 20000 + (process.pid % 1000) * 10;

interface Running {
  child: ChildProcess;
  port: number;
}

function startServer(kind: Contender): Promise<Running> {
  const port = nextPort++;
  const child = spawn('taskset', ['-c', '0', process.execPath, target, kind, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ child, port });
    });
  });
}

function stopServer(server: Running): Promise<void> {
  return new Promise((resolve) => {
    server.child.removeAllListeners('exit');
    server.child.once('exit', () => resolve());
    server.child.kill('SIGKILL');
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

interface WrkResult {
  rps: number;
  p99ms: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

async function wrk(port: number, scenario: Scenario, seconds: number): Promise<WrkResult> {
  const path = scenario === 'json' ? '/json' : scenario === 'post' ? '/echo' : '/';
  const args = ['-c', '1', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency'];
  if (scenario === 'post') args.push('-s', postScript);
  args.push(`http://127.0.0.1:${port}${path}`);
  const out = await run('taskset', args);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors !== null) throw new Error(`wrk saw ${errors[1]} error responses on ${scenario}`);
  return { rps, p99ms: p99 === null ? Number.NaN : toMs(p99[1], p99[2]) };
}

const median = (values: number[]) => {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
}

/** Opens `count` keep-alive connections, each after one request/response, and leaves them idle. */
async function openIdle(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const batch = 250;
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(
      Array.from(
        { length: Math.min(batch, count - i) },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1', () =>
              socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
            );
            socket.once('data', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    sockets.push(...opened);
  }
  return sockets;
}

async function idleMemory(kind: Contender): Promise<number> {
  const server = await startServer(kind);
  try {
    // Warm up the code paths so the measurement is connections, not JIT.
    await wrk(server.port, 'hello', 1);
    await new Promise((r) => setTimeout(r, 500));
    const before = rssKiB(server.child.pid!);
    const sockets = await openIdle(server.port, IDLE);
    await new Promise((r) => setTimeout(r, 1500));
    const after = rssKiB(server.child.pid!);
    for (const s of sockets) s.destroy();
    return ((after - before) * 1024) / IDLE;
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  const results = new Map<string, WrkResult[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no contender always runs first or last.
    const order = CONTENDERS.map((_, k) => CONTENDERS[(k + round) % CONTENDERS.length]);
    for (const kind of order) {
      const server = await startServer(kind);
      try {
        await wrk(server.port, 'hello', 1); // warm-up
        for (const scenario of SCENARIOS) {
          const r = await wrk(server.port, scenario, DURATION);
          const key = `${scenario}/${kind}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(`round ${round + 1} ${key}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99ms.toFixed(2)} ms`);
        }
      } finally {
        await stopServer(server);
      }
    }
  }

  console.log(
    `\nmedians of ${ROUNDS} rounds, wrk -t1 -c${CONNECTIONS} -d${DURATION}s, server on core 0, wrk on core 1`,
  );
  console.log(
    'scenario   avx req/s (p99)      node:http req/s (p99)  fastify req/s (p99)   avx/node  avx/fastify',
  );
  for (const scenario of SCENARIOS) {
    const m = (kind: Contender) => {
      const runs = results.get(`${scenario}/${kind}`) ?? [];
      return { rps: median(runs.map((r) => r.rps)), p99: median(runs.map((r) => r.p99ms)) };
    };
    const a = m('avx');
    const n = m('node');
    const f = m('fastify');
    const cell = (x: { rps: number; p99: number }) =>
      `${x.rps.toFixed(0).padStart(7)} (${x.p99.toFixed(2)} ms)`.padEnd(22);
    console.log(
      `${scenario.padEnd(10)} ${cell(a)} ${cell(n)} ${cell(f)} ${(a.rps / n.rps).toFixed(2).padStart(7)}x ${(a.rps / f.rps).toFixed(2).padStart(9)}x`,
    );
  }

  if (IDLE > 0) {
    console.log(`\nresident memory per idle keep-alive connection (${IDLE} open)`);
    const mem = new Map<Contender, number>();
    for (const kind of CONTENDERS) mem.set(kind, await idleMemory(kind));
    for (const kind of CONTENDERS) console.log(`${kind.padEnd(8)} ${(mem.get(kind)! / 1024).toFixed(2)} KiB`);
    console.log(`avx/node memory per connection: ${(mem.get('avx')! / mem.get('node')!).toFixed(2)}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
