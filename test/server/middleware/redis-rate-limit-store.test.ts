/**
 * Tests of the Redis rate-limit store and its RESP2 client: the reply parser on byte vectors
 * and random splits, connection failures against fake servers, and the store against a real
 * Debian `redis-server` started on a free loopback port for this file (skipped with a message
 * when it is not installed, failed under CI=true).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  encodeCommand,
  RedisError,
  RespConnection,
  RespReader,
  type RespValue,
} from '../../../src/runtime/resp-connection.js';
import { TimerWheel } from '../../../src/runtime/timer-wheel.js';
import { App } from '../../../src/server/app.js';
import { rateLimit } from '../../../src/server/middleware/rate-limit.js';
import { RedisRateLimitStore } from '../../../src/server/middleware/redis-rate-limit-store.js';
import { freePort } from '../../free-port.js';
import { hasPeer } from '../../peers.js';
import { makeRequest, recordingNext } from './middleware-test-kit.js';

function isRedisError(code: string) {
  return (e: unknown) => e instanceof RedisError && e.code === code;
}

/** Parses `bytes` split into the given chunk lengths (the rest in one last chunk). */
function parseInChunks(bytes: Buffer, cuts: number[], maxReplyBytes?: number): (RespValue | RedisError)[] {
  const reader = new RespReader(maxReplyBytes);
  const out: (RespValue | RedisError)[] = [];
  let at = 0;
  for (const cut of cuts) {
    out.push(...reader.receive(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...reader.receive(bytes.subarray(at)));
  assert.equal(reader.bufferedBytes, 0);
  return out;
}

/** RESP2 byte vectors and the values they parse to (error replies as their line). */
const VECTORS: [string, RespValue | { error: string }][] = [
  ['+OK\r\n', 'OK'],
  ['-ERR unknown command\r\n', { error: 'ERR unknown command' }],
  [':0\r\n', 0],
  [':-42\r\n', -42],
  [':1781234567890\r\n', 1781234567890],
  ['$6\r\nh\u00e9llo\r\n', 'h\u00e9llo'],
  ['$0\r\n\r\n', ''],
  ['$-1\r\n', null],
  ['*-1\r\n', null],
  ['*0\r\n', []],
  ['*3\r\n:7\r\n:0\r\n:1234\r\n', [7, 0, 1234]],
  ['*2\r\n*1\r\n$2\r\nab\r\n$-1\r\n', [['ab'], null]],
  ['$4\r\na\r\nb\r\n', 'a\r\nb'],
];

function plain(values: (RespValue | RedisError)[]): unknown[] {
  return values.map((v) => (v instanceof RedisError ? { error: v.reply } : v));
}

describe('RespReader (RESP2 replies, sans-I/O)', () => {
  it('parses every reply type from byte vectors', () => {
    for (const [wire, expected] of VECTORS) {
      const replies = new RespReader().receive(Buffer.from(wire));
      assert.deepEqual(plain(replies), [expected], JSON.stringify(wire));
    }
    const [err] = new RespReader().receive(Buffer.from('-NOSCRIPT No matching script\r\n'));
    assert.ok(err instanceof RedisError);
    assert.equal(err.code, 'AVX_REDIS_SERVER_ERROR');
    assert.equal(err.reply, 'NOSCRIPT No matching script');
  });

  it('gives the same replies however the bytes are split', () => {
    const all = Buffer.from(VECTORS.map(([wire]) => wire).join(''));
    const expected = VECTORS.map(([, value]) => value);
    const byteByByte = Array.from({ length: all.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(plain(parseInChunks(all, byteByByte)), expected);
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 300; round++) {
      const cuts = new Set<number>();
      const n = 1 + Math.floor(random() * 12);
      for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(random() * (all.length - 1)));
      const sorted = [...cuts].sort((a, b) => a - b);
      assert.deepEqual(plain(parseInChunks(all, sorted)), expected, `cuts ${sorted.join(',')}`);
    }
  });

  it('refuses replies over maxReplyBytes before their bytes arrive', () => {
    assert.throws(
      () => new RespReader(1024).receive(Buffer.from('$2000000\r\n')),
      isRedisError('AVX_REDIS_REPLY_TOO_LARGE'),
    );
    assert.throws(
      () => new RespReader(1024).receive(Buffer.from('*2000\r\n')),
      isRedisError('AVX_REDIS_REPLY_TOO_LARGE'),
    );
    // A line that never ends cannot grow past the bound either.
    const reader = new RespReader(1024);
    assert.deepEqual(reader.receive(Buffer.from(`+${'x'.repeat(1000)}`)), []);
    assert.throws(
      () => reader.receive(Buffer.from('x'.repeat(100))),
      isRedisError('AVX_REDIS_REPLY_TOO_LARGE'),
    );
  });

  it('rejects malformed replies and nesting deeper than 8', () => {
    const bad = [
      '?what\r\n',
      ':12a\r\n',
      ':\r\n',
      ':-\r\n',
      '$3\r\nabcd\r\n',
      '$-2\r\n',
      '*-5\r\n',
      '+OK\rX\n',
      `${'*1\r\n'.repeat(9)}:1\r\n`,
    ];
    for (const wire of bad) {
      assert.throws(
        () => new RespReader().receive(Buffer.from(wire)),
        isRedisError('AVX_REDIS_PROTOCOL'),
        JSON.stringify(wire),
      );
    }
    assert.deepEqual(new RespReader().receive(Buffer.from(`${'*1\r\n'.repeat(8)}:1\r\n`)), [
      [[[[[[[[1]]]]]]]],
    ]);
  });

  it('encodes commands as arrays of bulk strings with UTF-8 byte lengths', () => {
    assert.equal(encodeCommand(['SET', 'k\u00e9y', 42]), '*3\r\n$3\r\nSET\r\n$4\r\nk\u00e9y\r\n$2\r\n42\r\n');
    assert.equal(encodeCommand([]), '*0\r\n');
  });
});

/** A TCP server that accepts connections and answers each chunk with `reply` (or nothing). */
async function fakeRedis(reply?: string): Promise<{ port: number; server: NetServer; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', () => {
      if (reply !== undefined) socket.write(reply);
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server, sockets };
}

async function stopFake(fake: { server: NetServer; sockets: Socket[] }): Promise<void> {
  for (const s of fake.sockets) s.destroy();
  await new Promise((resolve) => fake.server.close(resolve));
}

describe('RespConnection failures', () => {
  it('times out a command whose reply never comes, and drops the connection', async () => {
    const fake = await fakeRedis();
    const conn = new RespConnection({ port: fake.port, commandTimeoutMs: 50 });
    try {
      await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_COMMAND_TIMEOUT'));
      assert.equal(conn.connected, false);
      assert.equal(conn.pendingCount, 0);
    } finally {
      await conn.close();
      await stopFake(fake);
    }
  });

  it('drops a connection whose reply exceeds maxReplyBytes', async () => {
    const fake = await fakeRedis('$2000000\r\n');
    const conn = new RespConnection({ port: fake.port });
    try {
      await assert.rejects(conn.command(['GET', 'big']), isRedisError('AVX_REDIS_REPLY_TOO_LARGE'));
      assert.equal(conn.connected, false);
    } finally {
      await conn.close();
      await stopFake(fake);
    }
  });

  it('treats a reply to no command as a protocol error', async () => {
    const fake = await fakeRedis('+OK\r\n+OK\r\n');
    const conn = new RespConnection({ port: fake.port });
    try {
      // The first +OK answers PING; the second answers nothing.
      const results = await Promise.allSettled([conn.command(['PING'])]);
      assert.equal(results[0]!.status, 'fulfilled');
      for (let i = 0; i < 50 && conn.connected; i++) await sleep(10);
      assert.equal(conn.connected, false);
    } finally {
      await conn.close();
      await stopFake(fake);
    }
  });

  it('bounds waiting commands by maxPending, and close() fails those still waiting', async () => {
    const fake = await fakeRedis();
    const conn = new RespConnection({ port: fake.port, maxPending: 2, commandTimeoutMs: 60_000 });
    const a = conn.command(['PING']);
    const b = conn.command(['PING']);
    await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_QUEUE_FULL'));
    await conn.close();
    await assert.rejects(a, isRedisError('AVX_REDIS_CLOSED'));
    await assert.rejects(b, isRedisError('AVX_REDIS_CLOSED'));
    await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_CLOSED'));
    await stopFake(fake);
  });

  it('after a refused connection, fails fast during the back-off, then tries again', async () => {
    const port = await freePort(); // nothing listens there
    let now = 0;
    const wheel = new TimerWheel({ clock: () => now });
    const conn = new RespConnection({ port, reconnectDelayMs: 100, timerWheel: wheel });
    try {
      await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_CONNECTION_LOST'));
      await assert.rejects(conn.command(['PING']), (e: unknown) => {
        return e instanceof RedisError && e.code === 'AVX_REDIS_UNAVAILABLE' && e.cause instanceof RedisError;
      });
      now = 100;
      await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_CONNECTION_LOST'), 'tried again');
      now = 150;
      await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_UNAVAILABLE'), 'back-off doubled');
      now = 300;
      await assert.rejects(conn.command(['PING']), isRedisError('AVX_REDIS_CONNECTION_LOST'));
    } finally {
      await conn.close();
      wheel.close();
    }
  });
});

/** A redis-server of our own on a free loopback port, without persistence. */
class RedisProcess {
  private process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const proc = spawn(
      'redis-server',
      ['--save', '', '--appendonly', 'no', '--port', String(this.port), '--bind', '127.0.0.1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          proc.stdout!.off('data', onData);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
      proc.once('error', reject);
    });
    proc.stdout!.resume();
    proc.stderr!.resume();
  }

  async stop(): Promise<void> {
    const proc = this.process;
    this.process = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  }
}

const skip =
  hasPeer('redis-server') || process.env.CI === 'true'
    ? false
    : 'redis-server is not installed (scripts/install-peers.mjs installs it)';

describe('RedisRateLimitStore against redis-server', { skip }, () => {
  let redis: RedisProcess;
  let admin: RespConnection;
  const stores: RedisRateLimitStore[] = [];
  const W = 60_000;

  function store(options: ConstructorParameters<typeof RedisRateLimitStore>[0] = {}): RedisRateLimitStore {
    const s = new RedisRateLimitStore({ port: redis.port, ...options });
    stores.push(s);
    return s;
  }

  before(async () => {
    if (!hasPeer('redis-server')) throw new Error('redis-server is required under CI=true');
    redis = new RedisProcess(await freePort());
    await redis.start();
    admin = new RespConnection({ port: redis.port });
  });

  after(async () => {
    for (const s of stores) await s.close();
    await admin?.close();
    await redis?.stop();
  });

  it('counts hits atomically and gives the key a TTL of two windows', async () => {
    const s = store();
    const first = await s.increment('atomic', W);
    assert.deepEqual([first.count, first.previousCount], [1, 0]);
    assert.ok(first.elapsedMs >= 0 && first.elapsedMs < W);
    const counts = await Promise.all(Array.from({ length: 50 }, () => s.increment('atomic', W)));
    assert.deepEqual(
      counts.map((c) => c.count).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 2),
      'no two hits saw the same count',
    );
    const ttl = await admin.command(['PTTL', 'avx:rate-limit:atomic']);
    assert.equal(typeof ttl, 'number');
    assert.ok((ttl as number) > W && (ttl as number) <= 2 * W, `PTTL ${ttl}`);
  });

  it('moves the window on, and starts afresh after two windows (window start rewritten, no sleeping)', async () => {
    const s = store();
    await s.increment('slide', W);
    await s.increment('slide', W);
    const [seconds, micros] = (await admin.command(['TIME'])) as string[];
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    await admin.command(['HSET', 'avx:rate-limit:slide', 's', nowMs - W - 10]);
    const moved = await s.increment('slide', W);
    assert.deepEqual([moved.count, moved.previousCount], [1, 2]);
    assert.ok(moved.elapsedMs >= 10 && moved.elapsedMs < W, `elapsed ${moved.elapsedMs}`);
    await admin.command(['HSET', 'avx:rate-limit:slide', 's', nowMs - 2 * W - 10]);
    const fresh = await s.increment('slide', W);
    assert.deepEqual({ ...fresh }, { count: 1, previousCount: 0, elapsedMs: 0 });
  });

  it('loads the script again after SCRIPT FLUSH (NOSCRIPT, then EVAL)', async () => {
    const s = store({ prefix: 'flush:' });
    assert.equal((await s.increment('k', W)).count, 1);
    assert.equal(await admin.command(['SCRIPT', 'FLUSH']), 'OK');
    assert.equal((await s.increment('k', W)).count, 2);
    assert.equal((await s.increment('k', W)).count, 3);
  });

  it('reset deletes the key', async () => {
    const s = store({ prefix: 'reset:' });
    await s.increment('k', W);
    await s.reset('k');
    assert.equal(await admin.command(['EXISTS', 'reset:k']), 0);
    assert.equal((await s.increment('k', W)).count, 1);
  });

  it('rejects an error reply with its text and keeps the connection usable', async () => {
    await assert.rejects(admin.command(['NOSUCHCOMMAND']), (e: unknown) => {
      return e instanceof RedisError && e.code === 'AVX_REDIS_SERVER_ERROR' && /^ERR /.test(e.reply ?? '');
    });
    assert.equal(await admin.command(['PING']), 'PONG');
  });

  it('authenticates with AUTH (ACL user) and selects the database', async () => {
    assert.equal(await admin.command(['ACL', 'SETUSER', 'limiter', 'on', '>s3cret', '~*', '+@all']), 'OK');
    const s = store({ username: 'limiter', password: 's3cret', db: 3, prefix: 'db3:' });
    assert.equal((await s.increment('k', W)).count, 1);
    const db3 = new RespConnection({ port: redis.port, db: 3 });
    try {
      assert.equal(await db3.command(['EXISTS', 'db3:k']), 1);
      assert.equal(await admin.command(['EXISTS', 'db3:k']), 0, 'not in db 0');
    } finally {
      await db3.close();
    }
    const wrong = store({ username: 'limiter', password: 'nope' });
    await assert.rejects(wrong.increment('k', W), (e: unknown) => {
      return (
        e instanceof RedisError && e.code === 'AVX_REDIS_SERVER_ERROR' && /^WRONGPASS/.test(e.reply ?? '')
      );
    });
  });

  it('two Apps sharing one Redis share the limit (node:http client)', async () => {
    function get(port: number): Promise<{ status: number; ratelimit: unknown }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ratelimit: res.headers.ratelimit }));
        });
        req.on('error', reject);
        req.end();
      });
    }
    const apps = [new App(), new App()];
    for (const app of apps) {
      app.use(rateLimit({ limit: 3, windowMs: W, store: store({ prefix: 'shared:' }) }));
      app.get('/', () => 'hello');
    }
    const [a, b] = await Promise.all(apps.map((app) => app.listen({ port: 0, host: '127.0.0.1' })));
    try {
      const first = await get(a!.port);
      assert.equal(first.status, 200);
      assert.match(String(first.ratelimit), /^"default";r=2;t=\d+$/);
      assert.match(String((await get(b!.port)).ratelimit), /^"default";r=1;t=\d+$/);
      assert.match(String((await get(a!.port)).ratelimit), /^"default";r=0;t=\d+$/);
      assert.equal((await get(b!.port)).status, 429, 'the other process knows');
      assert.equal((await get(a!.port)).status, 429);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('fails open while Redis is down and recovers once it is back (reconnects)', async () => {
    const own = new RedisProcess(await freePort());
    await own.start();
    const errors: unknown[] = [];
    const s = new RedisRateLimitStore({ port: own.port, reconnectDelayMs: 5, maxReconnectDelayMs: 20 });
    const mw = rateLimit({ limit: 5, windowMs: W, store: s, onStoreError: (e) => errors.push(e) });
    try {
      const next = recordingNext();
      assert.equal(
        (await mw(makeRequest(), next)).headers.get('ratelimit')?.startsWith('"default";r=4;'),
        true,
      );
      await own.stop();
      const down = await mw(makeRequest(), next);
      assert.equal(down.status, 200, 'passed uncounted');
      assert.equal(down.headers.get('ratelimit'), undefined);
      assert.ok(errors[0] instanceof RedisError, String(errors[0]));
      assert.equal(next.calls, 2);
      await own.start();
      let back: string | undefined;
      for (let i = 0; i < 200 && back === undefined; i++) {
        back = (await mw(makeRequest(), next)).headers.get('ratelimit');
        if (back === undefined) await sleep(10);
      }
      assert.match(String(back), /^"default";r=4;/, 'counting again, in the new (empty) server');
    } finally {
      await s.close();
      await own.stop();
    }
  });
});
