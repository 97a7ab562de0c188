/**
 * WebSocket benchmark: avx against `ws` (npm), both ways round.
 * - Servers: the avx server (app.ws) and a `ws` WebSocketServer, loaded by the same client.
 * - Clients: the avx client (WebSocket.connect) and the `ws` client, against the same server.
 * Scenarios, each for 32-byte text and 64 KiB binary messages:
 * - echo: round trips with WINDOW messages in flight (send one per echo received);
 * - one-way: the client sends as fast as backpressure allows (batches, waiting for the last
 *   message of each batch to be flushed), the server counts; the client stops after DURATION
 *   and asks the server for its count.
 * The server runs pinned to core 0, the client to core 1 (taskset), each in its own process;
 * the fixed side of each comparison is avx (FIXED=ws to use `ws`). Contenders alternate within
 * each round; the medians of ROUNDS rounds are printed with msgs/s, MB/s and avx/ws ratios.
 * No permessage-deflate, no heartbeat, on either side.
 *
 *   node dist/bench/ws.js             (env: ROUNDS=5 DURATION=2 WINDOW=32 FIXED=avx)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WsClient, { WebSocketServer } from 'ws';
import { App } from '../src/server/app.js';
import { WebSocket } from '../src/ws/websocket.js';

type Side = 'avx' | 'ws';
type Scenario = 'echo' | 'oneway';
const SIZES = [32, 65536] as const;

const self = fileURLToPath(import.meta.url);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 2);
const WINDOW = Number(process.env.WINDOW ?? 32);
const FIXED: Side = process.env.FIXED === 'ws' ? 'ws' : 'avx';
const MAX = 128 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Server process: echo at /echo, count at /sink ('done' answers with the count).

async function runServer(kind: Side, port: number): Promise<void> {
  if (kind === 'avx') {
    const app = new App();
    const options = { heartbeatInterval: 0, maxMessageSize: MAX };
    app.ws(
      '/echo',
      (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
      options,
    );
    app.ws(
      '/sink',
      (ws) => {
        let count = 0;
        ws.on('message', (data, isBinary) => {
          if (!isBinary && data.length === 4 && data.toString() === 'done') ws.send(String(count));
          else count++;
        });
      },
      options,
    );
    await app.listen({ port, host: '127.0.0.1' });
  } else {
    const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, maxPayload: MAX });
    wss.on('connection', (ws, req) => {
      if (req.url === '/echo') {
        ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      } else {
        let count = 0;
        ws.on('message', (data: Buffer, isBinary) => {
          if (!isBinary && data.length === 4 && data.toString() === 'done') ws.send(String(count));
          else count++;
        });
      }
    });
    await once(wss, 'listening');
  }
  process.stdout.write('ready\n');
}

// ---------------------------------------------------------------------------------------------
// Client process: prints `{ msgs, ms }`.

interface Conn {
  send(data: Buffer | string, binary: boolean, cb?: () => void): void;
  onMessage(listener: (data: Buffer) => void): void;
  close(): void;
}

async function connectAs(kind: Side, url: string): Promise<Conn> {
  if (kind === 'avx') {
    const ws = await WebSocket.connect(url, {
      perMessageDeflate: false,
      heartbeatInterval: 0,
      maxMessageSize: MAX,
    });
    return {
      send: (data, binary, cb) => void ws.send(data, { binary }, cb),
      onMessage: (listener) => ws.on('message', listener),
      close: () => ws.terminate(),
    };
  }
  const ws = new WsClient(url, { perMessageDeflate: false, maxPayload: MAX });
  await once(ws, 'open');
  return {
    send: (data, binary, cb) => ws.send(data, { binary }, cb),
    onMessage: (listener) => ws.on('message', (d) => listener(d as Buffer)),
    close: () => ws.terminate(),
  };
}

async function runClient(kind: Side, port: number, scenario: Scenario, size: number): Promise<void> {
  const payload: Buffer | string = size === 32 ? 'x'.repeat(32) : Buffer.alloc(size, 0x61);
  const binary = typeof payload !== 'string';
  const conn = await connectAs(kind, `ws://127.0.0.1:${port}/${scenario === 'echo' ? 'echo' : 'sink'}`);
  const durationMs = DURATION * 1000;
  let msgs = 0;
  const start = performance.now();
  if (scenario === 'echo') {
    let stopped = false;
    await new Promise<void>((resolve) => {
      let outstanding = WINDOW;
      conn.onMessage(() => {
        msgs++;
        if (!stopped) conn.send(payload, binary);
        else if (--outstanding === 0) resolve();
      });
      for (let i = 0; i < WINDOW; i++) conn.send(payload, binary);
      setTimeout(() => {
        stopped = true;
      }, durationMs);
    });
  } else {
    const batch = size === 32 ? 256 : 8;
    const reply = new Promise<Buffer>((resolve) => conn.onMessage(resolve));
    while (performance.now() - start < durationMs) {
      await new Promise<void>((resolve) => {
        for (let i = 1; i < batch; i++) conn.send(payload, binary);
        conn.send(payload, binary, resolve);
      });
    }
    conn.send('done', false);
    msgs = Number((await reply).toString());
  }
  const ms = performance.now() - start;
  conn.close();
  process.stdout.write(`${JSON.stringify({ msgs, ms })}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Orchestrator.

let nextPort = 21000 + (process.pid % 1000) * 4;

function startServer(kind: Side): Promise<{ child: ChildProcess; port: number }> {
  const port = nextPort++;
  const child = spawn('taskset', ['-c', '0', process.execPath, self, 'server', kind, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ child, port });
    });
  });
}

async function stopServer(server: { child: ChildProcess }): Promise<void> {
  server.child.removeAllListeners('exit');
  const exited = once(server.child, 'exit');
  server.child.kill('SIGKILL');
  await exited;
}

function runClientProcess(
  kind: Side,
  port: number,
  scenario: Scenario,
  size: number,
): Promise<{ msgs: number; ms: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'taskset',
      ['-c', '1', process.execPath, self, 'client', kind, String(port), scenario, String(size)],
      { timeout: (DURATION + 30) * 1000 },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
      },
    );
  });
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function orchestrate(): Promise<void> {
  const rows: { label: string; size: number; avx: number[]; ws: number[] }[] = [];
  for (const role of ['server', 'client'] as const) {
    for (const scenario of ['echo', 'oneway'] as const) {
      for (const size of SIZES) {
        rows.push({
          label: `${role.padEnd(6)} ${scenario.padEnd(6)} ${size === 32 ? '32 B' : '64 KiB'}`,
          size,
          avx: [],
          ws: [],
        });
      }
    }
  }
  const servers = new Map<Side, { child: ChildProcess; port: number }>();
  for (const kind of ['avx', 'ws'] as const) servers.set(kind, await startServer(kind));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let i = 0;
      for (const role of ['server', 'client'] as const) {
        for (const scenario of ['echo', 'oneway'] as const) {
          for (const size of SIZES) {
            const row = rows[i++];
            const order: Side[] = round % 2 === 0 ? ['avx', 'ws'] : ['ws', 'avx'];
            for (const contender of order) {
              const serverKind = role === 'server' ? contender : FIXED;
              const clientKind = role === 'client' ? contender : FIXED;
              const r = await runClientProcess(clientKind, servers.get(serverKind)!.port, scenario, size);
              const rate = (r.msgs / r.ms) * 1000;
              row[contender].push(rate);
              console.log(`round ${round + 1} ${row.label} ${contender}: ${rate.toFixed(0)} msgs/s`);
            }
          }
        }
      }
    }
  } finally {
    for (const s of servers.values()) await stopServer(s);
  }
  console.log(
    `\nmedians of ${ROUNDS} rounds, ${DURATION} s each; echo window ${WINDOW}; server on core 0, client on core 1; fixed side: ${FIXED}`,
  );
  console.log('compared  scenario size      avx msgs/s    avx MB/s     ws msgs/s     ws MB/s   avx/ws');
  for (const row of rows) {
    const a = median(row.avx);
    const w = median(row.ws);
    const mb = (rate: number) => ((rate * row.size) / 1e6).toFixed(1).padStart(10);
    console.log(
      `${row.label.padEnd(25)} ${a.toFixed(0).padStart(10)} ${mb(a)} ${w.toFixed(0).padStart(13)} ${mb(w)} ${(a / w).toFixed(2).padStart(8)}x`,
    );
  }
}

const [mode, kind, port, scenario, size] = process.argv.slice(2);
if (mode === 'server') await runServer(kind as Side, Number(port));
else if (mode === 'client') await runClient(kind as Side, Number(port), scenario as Scenario, Number(size));
else await orchestrate();
