/**
 * A {@link RateLimitStore} in Redis, so that several server processes (a cluster, several
 * hosts) share one limit per key. It keeps the same sliding-window counter as the in-memory
 * store (see rate-limit.ts): per key a hash `{ s: window start (ms), c: count, p: previous
 * count }` that expires two windows after its window began.
 *
 * Atomicity: each hit runs one Lua script (EVALSHA, falling back to EVAL when the server does
 * not have it cached yet, e.g. after a restart or SCRIPT FLUSH). Why a script rather than
 * `MULTI` with `INCR` and `PEXPIRE ... NX`: moving the window on depends on the values read
 * (start and count), and a transaction cannot branch on what it reads; a WATCH/retry loop
 * would cost round trips under contention. Redis runs a script to completion before any
 * other command, so concurrent hits from many processes never lose an update, and it takes
 * one round trip. The script reads the clock with `TIME`, so every process uses the Redis
 * server's clock and their own clocks need not agree. It touches one declared key, so it also
 * works on Redis Cluster (given a connection to the key's node). Needs Redis 4.0 or later
 * (multi-field HSET); scripts that call TIME before writing need effect replication, the
 * default since Redis 5.
 */
import { createHash } from 'node:crypto';
import {
  RedisError,
  RespConnection,
  type RespConnectionOptions,
  type RespValue,
} from '../../runtime/resp-connection.js';
import type { RateLimitCounters, RateLimitStore } from './rate-limit-store.js';

/**
 * KEYS[1]: the key's hash; ARGV[1]: the window in ms. Returns { count, previous count, ms into
 * the window }. A clock that stepped back counts as the window's first instant. Times are
 * written with %d: Lua's default number format keeps 14 digits only.
 */
const SCRIPT = `local w = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 's', 'c', 'p')
local s = tonumber(v[1])
local c = tonumber(v[2]) or 0
local p = tonumber(v[3]) or 0
if s == nil or now - s >= 2 * w then
  s = now
  c = 0
  p = 0
elseif now - s >= w then
  s = s + w
  p = c
  c = 0
elseif now < s then
  now = s
end
c = c + 1
redis.call('HSET', KEYS[1], 's', string.format('%d', s), 'c', c, 'p', p)
redis.call('PEXPIRE', KEYS[1], string.format('%d', s + 2 * w - now))
return {c, p, now - s}
`;

const SCRIPT_SHA1 = createHash('sha1').update(SCRIPT).digest('hex');

/** Options of {@link RedisRateLimitStore}: where Redis is (see {@link RespConnectionOptions}) and the key prefix. */
export interface RedisRateLimitStoreOptions extends RespConnectionOptions {
  /** Prepended to every rate-limit key in Redis. Default `'avx:rate-limit:'`. */
  prefix?: string;
  /** Use this connection instead of opening one from the options above; `close()` then leaves it open. */
  connection?: RespConnection;
}

/**
 * Rate-limit counters in Redis. Errors reject with {@link RedisError} (a `code` such as
 * `AVX_REDIS_UNAVAILABLE` or `AVX_REDIS_COMMAND_TIMEOUT`); the middleware then fails open by
 * default. Defaults: Redis on 127.0.0.1:6379, prefix `'avx:rate-limit:'`, the connection
 * defaults of {@link RespConnectionOptions} (2 s connect and 1 s reply time-outs).
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly connection: RespConnection;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;

  constructor(options: RedisRateLimitStoreOptions = {}) {
    this.connection = options.connection ?? new RespConnection(options);
    this.ownsConnection = options.connection === undefined;
    this.prefix = options.prefix ?? 'avx:rate-limit:';
  }

  async increment(key: string, windowMs: number): Promise<RateLimitCounters> {
    const redisKey = this.prefix + key;
    let reply: RespValue;
    try {
      reply = await this.connection.command(['EVALSHA', SCRIPT_SHA1, 1, redisKey, windowMs]);
    } catch (error) {
      if (!(error instanceof RedisError && error.reply?.startsWith('NOSCRIPT'))) throw error;
      reply = await this.connection.command(['EVAL', SCRIPT, 1, redisKey, windowMs]);
    }
    if (
      !Array.isArray(reply) ||
      reply.length !== 3 ||
      typeof reply[0] !== 'number' ||
      typeof reply[1] !== 'number' ||
      typeof reply[2] !== 'number'
    ) {
      throw new RedisError('AVX_REDIS_PROTOCOL', 'unexpected reply to the rate-limit script');
    }
    return { count: reply[0], previousCount: reply[1], elapsedMs: reply[2] };
  }

  async reset(key: string): Promise<void> {
    await this.connection.command(['DEL', this.prefix + key]);
  }

  /** Closes the connection (unless it was given in the options). */
  close(): Promise<void> {
    return this.ownsConnection ? this.connection.close() : Promise.resolve();
  }
}
