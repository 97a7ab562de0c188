/**
 * Benchmark of the HTTP/1.1 client (issue 4): avx-http's `Client` against undici (`request` and
 * `fetch`) and node:http with a keep-alive agent, in one run, against the same servers.
 *
 * 1. Throughput: keep-alive GETs with 50 in flight against a fast canned-response server;
 *    requests/s and ratios to undici.request and node:http.
 * 2. Streamed download of 100 MiB (one request, body read chunk by chunk); MB/s.
 * 3. Sequential round-trip latency (p50, p99) over one keep-alive connection: avx -> avx server
 *    (when src/server exists), avx -> canned server, undici.request -> node:http, undici.request -> canned server, and a bare socket ->
 *    bare socket floor (write a request, wait for the reply bytes).
 *
 * The servers run in a child process pinned to CPU 0 (`taskset -c 0` when available), so pin the
 * benchmark itself to another CPU: `taskset -c 1 node dist/bench/h1-client.js`. Contenders run in
 * alternating rounds and the median round is reported. `AVX_BENCH_QUICK=1` shrinks every count.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/client/client.js';

const QUICK = process.env.AVX_BENCH_QUICK === '1';
const IN_FLIGHT = 50;
const THROUGHPUT_ROUNDS = 5;
const REQUESTS_PER_ROUND = QUICK ? 4_000 : 40_000; // 5 rounds x 40k = 200k per contender
const DOWNLOAD_BYTES = (QUICK ? 10 : 100) * 1024 * 1024;
const DOWNLOAD_ROUNDS = 3;
const LATENCY_ROUNDS = 4;
const LATENCY_PER_ROUND = QUICK ? 1_000 : 5_000;

// -------------------------------------------------------------------------------------------------
// Servers (child process)

const CANNED = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nkeep-alive: timeout=30\r\n\r\nhello world\n',
  'latin1',
);
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** Counts complete request heads (bodiless requests) in a stream split anywhere. */
class HeadCounter {
  private tail: Buffer = Buffer.alloc(0);

  count(chunk: Buffer): number {
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    let n = 0;
    let from = 0;
    for (;;) {
      const at = data.indexOf(HEAD_END, from);
      if (at === -1) break;
      n++;
      from = at + 4;
    }
    this.tail = data.subarray(Math.max(from, data.length - 3));
    return n;
  }
}

function cannedServer(): net.Server {
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    const counter = new HeadCounter();
    socket.on('data', (chunk) => {
      const n = counter.count(chunk);
      if (n === 1) socket.write(CANNED);
      else if (n > 1) socket.write(Buffer.concat(new Array<Buffer>(n).fill(CANNED)));
    });
    socket.on('error', () => {});
  });
}

function downloadServer(): net.Server {
  const piece = Buffer.alloc(64 * 1024, 0x61);
  return net.createServer((socket) => {
    const counter = new HeadCounter();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (counter.count(chunk) === 0) return;
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${DOWNLOAD_BYTES}\r\n\r\n`,
      );
      let left = DOWNLOAD_BYTES;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, piece.length);
          left -= n;
          if (!socket.write(n === piece.length ? piece : piece.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

function floorServer(): net.Server {
  const reply = Buffer.from('ok', 'latin1');
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', () => socket.write(reply));
    socket.on('error', () => {});
  });
}

function nodeHttpServer(): http.Server {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 });
    res.end('hello world\n');
  });
  server.keepAliveTimeout = 30_000;
  return server;
}

async function runServers(): Promise<void> {
  const servers = {
    canned: cannedServer(),
    download: downloadServer(),
    floor: floorServer(),
    nodeHttp: nodeHttpServer(),
  };
  const ports: Record<string, number> = {};
  for (const [name, server] of Object.entries(servers)) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[name] = (server.address() as net.AddressInfo).port;
  }
  // The avx-http server, when this checkout has one (loaded by name so the client benchmark does
  // not depend on the server's API at compile time).
  try {
    const appModule = '../src/server/app.js';
    const { App } = (await import(appModule)) as {
      App: new () => {
        get(path: string, handler: () => string): void;
        listen(options: { port: number; host: string; keepAliveTimeout?: number }): Promise<{ port: number }>;
      };
    };
    const app = new App();
    app.get('/', () => 'hello world\n');
    const server = await app.listen({ port: 0, host: '127.0.0.1', keepAliveTimeout: 30_000 });
    ports.avx = server.port;
  } catch {
    // no avx server in this checkout
  }
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  // Exit with the parent.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// -------------------------------------------------------------------------------------------------
// Contenders

type Get = (url: string) => Promise<void>;
type Download = (url: string) => Promise<number>;

interface Contender {
  name: string;
  get: Get;
  download: Download;
  close(): Promise<void>;
}

async function loadUndici(): Promise<typeof import('undici') | undefined> {
  try {
    return await import('undici');
  } catch {
    return undefined;
  }
}

async function contenders(): Promise<Contender[]> {
  const list: Contender[] = [];
  const avx = new Client({ connections: IN_FLIGHT, keepAliveTimeout: 30_000 }); // default policies on
  list.push({
    name: 'avx',
    get: async (url) => {
      const res = await avx.request({ method: 'GET', url });
      await res.text();
    },
    download: async (url) => {
      const res = await avx.request({ method: 'GET', url });
      let n = 0;
      for await (const chunk of res.body) n += chunk.length;
      return n;
    },
    close: () => avx.close(),
  });
  const undici = await loadUndici();
  if (undici !== undefined) {
    const agent = new undici.Agent({ connections: IN_FLIGHT, keepAliveTimeout: 30_000 });
    list.push({
      name: 'undici.request',
      get: async (url) => {
        const res = await undici.request(url, { dispatcher: agent });
        await res.body.text();
      },
      download: async (url) => {
        const res = await undici.request(url, { dispatcher: agent });
        let n = 0;
        for await (const chunk of res.body) n += (chunk as Buffer).length;
        return n;
      },
      close: () => agent.close(),
    });
    const fetchAgent = new undici.Agent({ connections: IN_FLIGHT, keepAliveTimeout: 30_000 });
    list.push({
      name: 'undici.fetch',
      get: async (url) => {
        const res = await undici.fetch(url, { dispatcher: fetchAgent });
        await res.text();
      },
      download: async (url) => {
        const res = await undici.fetch(url, { dispatcher: fetchAgent });
        let n = 0;
        for await (const chunk of res.body!) n += (chunk as Uint8Array).length;
        return n;
      },
      close: () => fetchAgent.close(),
    });
  } else {
    console.log('(undici not installed: run `npm install` for the full comparison)');
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT, keepAliveMsecs: 30_000 });
  const nodeGet = (url: string, onChunk: (chunk: Buffer) => void) =>
    new Promise<void>((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.on('data', onChunk);
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
  list.push({
    name: 'node:http',
    get: (url) => nodeGet(url, () => {}),
    download: async (url) => {
      let n = 0;
      await nodeGet(url, (chunk) => {
        n += chunk.length;
      });
      return n;
    },
    close: async () => agent.destroy(),
  });
  return list;
}

// -------------------------------------------------------------------------------------------------
// Measurements

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function throughputRound(get: Get, url: string, total: number): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await get(url);
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return total / seconds;
}

async function latencyRound(get: Get, url: string, count: number, samples: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await get(url);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A bare socket round trip: write a tiny request, wait for the reply bytes. */
function floorGetter(port: number): Promise<{ get: Get; close: () => void }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.setNoDelay(true);
      let waiter: (() => void) | undefined;
      socket.on('data', () => {
        const w = waiter;
        waiter = undefined;
        w?.();
      });
      const ping = Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n', 'latin1');
      resolve({
        get: () =>
          new Promise<void>((done) => {
            waiter = done;
            socket.write(ping);
          }),
        close: () => socket.destroy(),
      });
    });
  });
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  const child: ChildProcess = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, self, '--server'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
    : spawn(process.execPath, [self, '--server'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      const nl = text.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(text.slice(0, nl)));
    });
    child.on('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  const base = (name: string) => `http://127.0.0.1:${ports[name]}/`;
  console.log(
    `node ${process.version}; servers on CPU 0: ${hasTaskset ? 'pinned' : 'not pinned (no taskset)'}`,
  );
  const list = await contenders();

  // Warm-up: connections open, JIT warm.
  for (const c of list) await throughputRound(c.get, base('canned'), QUICK ? 500 : 5_000);

  // 1. Throughput.
  const rates = new Map<string, number[]>(list.map((c) => [c.name, []]));
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    const order = round % 2 === 0 ? list : [...list].reverse();
    for (const c of order)
      rates.get(c.name)!.push(await throughputRound(c.get, base('canned'), REQUESTS_PER_ROUND));
  }
  console.log(
    `\nThroughput: ${THROUGHPUT_ROUNDS} x ${fmt(REQUESTS_PER_ROUND)} keep-alive GETs, ${IN_FLIGHT} in flight (median round)`,
  );
  const med = new Map([...rates].map(([k, v]) => [k, median(v)]));
  const ref = med.get('undici.request');
  const nodeRef = med.get('node:http')!;
  for (const c of list) {
    const r = med.get(c.name)!;
    const vsUndici = ref !== undefined ? `  ${fmt(r / ref, 2)}x undici.request` : '';
    console.log(
      `  ${c.name.padEnd(16)} ${fmt(r).padStart(9)} req/s${vsUndici}  ${fmt(r / nodeRef, 2)}x node:http`,
    );
  }

  // 2. Streamed download.
  const speeds = new Map<string, number[]>(list.map((c) => [c.name, []]));
  for (let round = 0; round < DOWNLOAD_ROUNDS; round++) {
    for (const c of list) {
      const t0 = process.hrtime.bigint();
      const n = await c.download(base('download'));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (n !== DOWNLOAD_BYTES)
        throw new Error(`${c.name} downloaded ${n} bytes, expected ${DOWNLOAD_BYTES}`);
      speeds.get(c.name)!.push(n / 1e6 / seconds);
    }
  }
  console.log(`\nStreamed download of ${DOWNLOAD_BYTES / 1024 / 1024} MiB (median of ${DOWNLOAD_ROUNDS})`);
  const dlRef =
    speeds.get('undici.request') !== undefined ? median(speeds.get('undici.request')!) : undefined;
  for (const c of list) {
    const s = median(speeds.get(c.name)!);
    console.log(
      `  ${c.name.padEnd(16)} ${fmt(s).padStart(7)} MB/s${dlRef !== undefined ? `  ${fmt(s / dlRef, 2)}x undici.request` : ''}`,
    );
  }
  for (const c of list) await c.close();

  // 3. Sequential latency over one keep-alive connection.
  const single = new Client({ connections: 1, keepAliveTimeout: 30_000 });
  const lat: { name: string; url: string; get: Get }[] = [
    {
      name: 'avx -> canned server',
      url: base('canned'),
      get: async (url) => {
        const res = await single.request({ method: 'GET', url });
        await res.text();
      },
    },
  ];
  if (ports.avx !== undefined) {
    lat.unshift({
      name: 'avx -> avx server',
      url: base('avx'),
      get: async (url) => {
        const res = await single.request({ method: 'GET', url });
        await res.text();
      },
    });
  }
  const undici = await loadUndici();
  let undiciAgent: { close(): Promise<void> } | undefined;
  if (undici !== undefined) {
    const agent = new undici.Agent({ connections: 1, keepAliveTimeout: 30_000 });
    undiciAgent = agent;
    const get: Get = async (url) => {
      const res = await undici.request(url, { dispatcher: agent });
      await res.body.text();
    };
    lat.push({ name: 'undici -> node:http', url: base('nodeHttp'), get });
    lat.push({ name: 'undici -> canned server', url: base('canned'), get });
  }
  const floor = await floorGetter(ports.floor!);
  lat.push({ name: 'bare socket floor', url: '', get: floor.get });
  const samples = new Map<string, number[]>(lat.map((l) => [l.name, []]));
  for (const l of lat) await latencyRound(l.get, l.url, 500, []);
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    for (const l of lat) await latencyRound(l.get, l.url, LATENCY_PER_ROUND, samples.get(l.name)!);
  }
  console.log(
    `\nSequential round trips, one keep-alive connection (${fmt(LATENCY_ROUNDS * LATENCY_PER_ROUND)} each)`,
  );
  const p50s = new Map<string, number>();
  for (const l of lat) {
    const s = samples.get(l.name)!.sort((a, b) => a - b);
    p50s.set(l.name, percentile(s, 50));
    console.log(
      `  ${l.name.padEnd(24)} p50 ${fmt(percentile(s, 50), 1).padStart(6)} µs   p99 ${fmt(percentile(s, 99), 1).padStart(7)} µs`,
    );
  }
  const undiciNode = p50s.get('undici -> node:http');
  if (undiciNode !== undefined) {
    console.log(
      `  avx p50 / (undici -> node:http) p50 = ${fmt(p50s.get('avx -> canned server')! / undiciNode, 2)}`,
    );
  }
  floor.close();
  await single.close();
  await undiciAgent?.close();
  child.stdin!.end();
  child.kill();
}

if (process.argv.includes('--server')) {
  void runServers();
} else {
  await main();
}
