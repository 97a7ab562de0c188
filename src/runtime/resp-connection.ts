/**
 * A small Redis client: one connection speaking RESP2, the Redis serialization protocol
 * (https://redis.io/docs/latest/develop/reference/protocol-spec/), over `node:net`. It is what
 * `RedisRateLimitStore` needs and no more: commands as arrays of bulk strings, replies matched
 * to commands in order (pipelining), no pub/sub, no RESP3, no cluster redirects, no TLS.
 *
 * - {@link RespReader} is the sans-I/O parser: bytes in, replies out. Every length is checked
 *   against `maxReplyBytes` before anything is buffered for it, and arrays nest at most 8 deep.
 * - {@link RespConnection} owns the socket. It connects on the first command and again on
 *   the first command after the connection was lost; after a failed attempt, commands fail at
 *   once (`AVX_REDIS_UNAVAILABLE`) for a back-off that doubles from `reconnectDelayMs` up to
 *   `maxReconnectDelayMs`, so a dead server costs callers nothing but an error. AUTH and
 *   SELECT are pipelined ahead of the first command of each connection.
 * - Time-outs run on the TimerWheel: `connectTimeoutMs` for the TCP connect, and
 *   `commandTimeoutMs` for the next reply while commands wait for one. A stalled reply stream
 *   cannot be resynchronised (replies carry no ids), so a time-out destroys the connection and
 *   fails every waiting command.
 */
import { connect, type Socket } from 'node:net';
import { AvxError, type AvxErrorOptions } from '../core/errors.js';
import { defaultTimerWheel, type TimerHandle, type TimerWheel } from './timer-wheel.js';

/** A RESP2 reply: simple and bulk strings as strings (UTF-8), integers, nil, arrays. */
export type RespValue = string | number | null | RespValue[];

/** Error codes of {@link RedisError}. */
export type RedisErrorCode =
  | 'AVX_REDIS_CONNECT_TIMEOUT'
  | 'AVX_REDIS_COMMAND_TIMEOUT'
  | 'AVX_REDIS_CONNECTION_LOST'
  | 'AVX_REDIS_UNAVAILABLE'
  | 'AVX_REDIS_CLOSED'
  | 'AVX_REDIS_QUEUE_FULL'
  | 'AVX_REDIS_REPLY_TOO_LARGE'
  | 'AVX_REDIS_PROTOCOL'
  | 'AVX_REDIS_SERVER_ERROR';

/** Talking to Redis failed. `AVX_REDIS_SERVER_ERROR` is the server's own error reply, in `reply`. */
export class RedisError extends AvxError {
  /** The server's error line (`NOSCRIPT No matching script...`), for `AVX_REDIS_SERVER_ERROR`. */
  readonly reply: string | undefined;

  constructor(code: RedisErrorCode, message: string, options?: AvxErrorOptions & { reply?: string }) {
    super(code, message, options);
    this.reply = options?.reply;
  }
}

const INCOMPLETE = Symbol('incomplete');
const MAX_DEPTH = 8;
const CR = 0x0d;
const LF = 0x0a;

/**
 * RESP2 reply parser (sans-I/O). `receive(bytes)` returns the replies completed by those bytes;
 * an error reply (`-ERR ...`) comes out as a {@link RedisError} value, not thrown. Malformed
 * input or a reply over `maxReplyBytes` throws a {@link RedisError}; the reader is then
 * unusable, as is the connection it parsed for.
 */
export class RespReader {
  private readonly maxReplyBytes: number;
  private buffered: Buffer | undefined;
  /** End of the value the last `parse` call completed. */
  private end = 0;

  constructor(maxReplyBytes = 1_048_576) {
    this.maxReplyBytes = maxReplyBytes;
  }

  /** Bytes held for a reply not yet complete. */
  get bufferedBytes(): number {
    return this.buffered === undefined ? 0 : this.buffered.length;
  }

  receive(chunk: Buffer): (RespValue | RedisError)[] {
    let buf = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = undefined;
    const replies: (RespValue | RedisError)[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const value = this.parse(buf, pos, 0);
      if (value === INCOMPLETE) break;
      replies.push(value);
      pos = this.end;
    }
    if (pos < buf.length) {
      buf = buf.subarray(pos);
      if (buf.length > this.maxReplyBytes) {
        throw new RedisError(
          'AVX_REDIS_REPLY_TOO_LARGE',
          `a reply exceeds maxReplyBytes (${this.maxReplyBytes})`,
        );
      }
      this.buffered = buf;
    }
    return replies;
  }

  /** The value starting at `pos`, setting `end` past it; INCOMPLETE when more bytes are needed. */
  private parse(buf: Buffer, pos: number, depth: number): RespValue | RedisError | typeof INCOMPLETE {
    const lineEnd = this.lineEnd(buf, pos + 1);
    if (lineEnd === -1) return INCOMPLETE;
    const type = buf[pos];
    const next = lineEnd + 2;
    switch (type) {
      case 0x2b /* + */:
        this.end = next;
        return buf.toString('utf8', pos + 1, lineEnd);
      case 0x2d /* - */:
        {
          const line = buf.toString('utf8', pos + 1, lineEnd);
          this.end = next;
          return new RedisError('AVX_REDIS_SERVER_ERROR', `Redis replied: ${line}`, { reply: line });
        }
      case 0x3a /* : */:
        this.end = next;
        return this.integer(buf, pos + 1, lineEnd);
      case 0x24 /* $ */:
        {
          const length = this.integer(buf, pos + 1, lineEnd);
          if (length === -1) {
            this.end = next;
            return null;
          }
          if (length < -1) throw protocolError(`bulk string length ${length}`);
          if (length > this.maxReplyBytes) {
            throw new RedisError(
              'AVX_REDIS_REPLY_TOO_LARGE',
              `a bulk string of ${length} bytes exceeds maxReplyBytes (${this.maxReplyBytes})`,
            );
          }
          if (buf.length < next + length + 2) return INCOMPLETE;
          if (buf[next + length] !== CR || buf[next + length + 1] !== LF) {
            throw protocolError('bulk string not followed by CRLF');
          }
          this.end = next + length + 2;
          return buf.toString('utf8', next, next + length);
        }
      case 0x2a /* * */:
        {
          const count = this.integer(buf, pos + 1, lineEnd);
          if (count === -1) {
            this.end = next;
            return null;
          }
          if (count < -1) throw protocolError(`array length ${count}`);
          // Each element takes 3 bytes at least, so a longer array cannot fit the bound.
          if (count > this.maxReplyBytes / 3) {
            throw new RedisError(
              'AVX_REDIS_REPLY_TOO_LARGE',
              `an array of ${count} elements exceeds maxReplyBytes (${this.maxReplyBytes})`,
            );
          }
          if (depth >= MAX_DEPTH) throw protocolError(`arrays nested deeper than ${MAX_DEPTH}`);
          const items: RespValue[] = [];
          let at = next;
          for (let i = 0; i < count; i++) {
            if (at >= buf.length) return INCOMPLETE;
            const item = this.parse(buf, at, depth + 1);
            if (item === INCOMPLETE) return INCOMPLETE;
            // An error inside an array (EXEC results) is kept as a value.
            items.push(item as RespValue);
            at = this.end;
          }
          this.end = at;
          return items;
        }
      default:
        throw protocolError(`unknown reply type byte 0x${(type ?? 0).toString(16)}`);
    }
  }

  /** Index of the CR of the CRLF ending the line that starts at `from`, or -1 if not there yet. */
  private lineEnd(buf: Buffer, from: number): number {
    const cr = buf.indexOf(CR, from);
    if (cr === -1 || cr + 1 >= buf.length) return -1; // receive() bounds what waits for it
    if (buf[cr + 1] !== LF) throw protocolError('CR not followed by LF');
    return cr;
  }

  /** A decimal integer (optional `-`) from bytes `start..end`. */
  private integer(buf: Buffer, start: number, end: number): number {
    let i = start;
    const negative = buf[i] === 0x2d;
    if (negative) i++;
    if (i === end || end - i > 19) throw protocolError('malformed integer');
    let value = 0;
    for (; i < end; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) throw protocolError('malformed integer');
      value = value * 10 + d;
    }
    return negative ? -value : value;
  }
}

function protocolError(what: string): RedisError {
  return new RedisError('AVX_REDIS_PROTOCOL', `malformed RESP2 reply: ${what}`);
}

/**
 * One command as RESP2 puts it on the wire: an array of bulk strings
 * (`*<n>\r\n$<len>\r\n<arg>\r\n...`), with lengths in UTF-8 bytes.
 */
export function encodeCommand(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = typeof arg === 'string' ? arg : String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

/** Options of {@link RespConnection}. Every field is optional. */
export interface RespConnectionOptions {
  /** Server host. Default `'127.0.0.1'`. */
  host?: string;
  /** Server port. Default 6379. */
  port?: number;
  /** Connect to this Unix domain socket instead of `host` and `port`. Default: not used. */
  path?: string;
  /** User name for `AUTH` (Redis 6 ACLs). Default: none (the `default` user). */
  username?: string;
  /** Password for `AUTH`. Default: none, no AUTH sent. */
  password?: string;
  /** Database index, sent with `SELECT` when not 0. Default 0. */
  db?: number;
  /** Longest wait for the TCP connection, in ms. Default 2000. */
  connectTimeoutMs?: number;
  /** Longest wait for the next reply while commands are waiting for one, in ms. Default 1000. */
  commandTimeoutMs?: number;
  /** Commands waiting for replies at most; more fail with `AVX_REDIS_QUEUE_FULL`. Default 10000. */
  maxPending?: number;
  /** Bytes of one reply at most (and of a partial reply held). Default 1048576 (1 MiB). */
  maxReplyBytes?: number;
  /** First back-off after a failed connection attempt, in ms; doubles on each failure. Default 100. */
  reconnectDelayMs?: number;
  /** Longest back-off, in ms. Default 5000. */
  maxReconnectDelayMs?: number;
  /** The wheel time-outs and back-off are timed on. Default `defaultTimerWheel()`. */
  timerWheel?: TimerWheel;
}

interface PendingCommand {
  resolve: (value: RespValue) => void;
  reject: (error: Error) => void;
}

/** A handshake command's reply goes nowhere; an error reply to it fails the connection. */
const HANDSHAKE: PendingCommand = { resolve: () => {}, reject: () => {} };

function onConnectTimeout(conn: RespConnection): void {
  conn._fail(new RedisError('AVX_REDIS_CONNECT_TIMEOUT', 'timed out connecting to Redis (connectTimeoutMs)'));
}

function onCommandTimeout(conn: RespConnection): void {
  conn._fail(new RedisError('AVX_REDIS_COMMAND_TIMEOUT', 'Redis did not reply within commandTimeoutMs'));
}

/** One Redis connection; see the file comment for reconnection and time-outs. */
export class RespConnection {
  private readonly options: RespConnectionOptions;
  private readonly wheel: TimerWheel;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly maxPending: number;
  private readonly maxReplyBytes: number;
  private readonly reconnectDelayMs: number;
  private readonly maxReconnectDelayMs: number;
  private socket: Socket | undefined;
  private reader: RespReader | undefined;
  private readonly pending: PendingCommand[] = [];
  private connectTimer: TimerHandle | undefined;
  private replyTimer: TimerHandle | undefined;
  private isConnected = false;
  private isClosed = false;
  /** Failed connection attempts in a row; 0 once one succeeds. */
  private failures = 0;
  /** Wheel time before which no new attempt is made. */
  private retryAt = 0;
  private lastError: Error | undefined;

  constructor(options: RespConnectionOptions = {}) {
    this.options = options;
    this.wheel = options.timerWheel ?? defaultTimerWheel();
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1000;
    this.maxPending = options.maxPending ?? 10_000;
    this.maxReplyBytes = options.maxReplyBytes ?? 1_048_576;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 100;
    this.maxReconnectDelayMs = options.maxReconnectDelayMs ?? 5000;
  }

  /** True while a connection is established. */
  get connected(): boolean {
    return this.isConnected;
  }

  /** Commands waiting for a reply. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Sends `args` (command name first) and resolves to the reply. An error reply rejects with a
   * {@link RedisError} `AVX_REDIS_SERVER_ERROR`; see {@link RedisErrorCode} for the rest.
   */
  command(args: readonly (string | number)[]): Promise<RespValue> {
    if (this.isClosed)
      return Promise.reject(new RedisError('AVX_REDIS_CLOSED', 'the Redis connection is closed'));
    if (this.pending.length >= this.maxPending) {
      return Promise.reject(
        new RedisError(
          'AVX_REDIS_QUEUE_FULL',
          `more than maxPending (${this.maxPending}) commands wait for Redis`,
        ),
      );
    }
    if (this.socket === undefined) {
      if (this.failures > 0 && this.wheel.now() < this.retryAt) {
        return Promise.reject(
          new RedisError('AVX_REDIS_UNAVAILABLE', 'Redis is unreachable; waiting before the next attempt', {
            cause: this.lastError,
          }),
        );
      }
      this.open();
    }
    return new Promise<RespValue>((resolve, reject) => {
      this.send(encodeCommand(args), { resolve, reject });
    });
  }

  /** Closes the connection for good; waiting commands fail with `AVX_REDIS_CLOSED`. */
  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    const socket = this.socket;
    this._fail(new RedisError('AVX_REDIS_CLOSED', 'the Redis connection is closed'));
    if (socket === undefined || socket.closed) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** @internal Drops the connection: every waiting command fails with `error`. */
  _fail(error: Error): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.socket = undefined;
    this.reader = undefined;
    this.connectTimer?.cancel();
    this.replyTimer?.cancel();
    if (!this.isConnected) {
      this.failures++;
      const delay = Math.min(this.maxReconnectDelayMs, this.reconnectDelayMs * 2 ** (this.failures - 1));
      this.retryAt = this.wheel.now() + delay;
    }
    this.isConnected = false;
    this.lastError = error;
    socket.destroy();
    const failed = this.pending.splice(0);
    for (const p of failed) p.reject(error);
  }

  private open(): void {
    const o = this.options;
    const socket =
      o.path !== undefined
        ? connect({ path: o.path })
        : connect({ host: o.host ?? '127.0.0.1', port: o.port ?? 6379 });
    this.socket = socket;
    this.reader = new RespReader(this.maxReplyBytes);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.isConnected = true;
      this.failures = 0;
      this.connectTimer?.cancel();
      if (this.pending.length > 0) this.armReplyTimer();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.receive(chunk);
    });
    socket.on('error', (error: Error) => {
      if (this.socket === socket) {
        this.fail('AVX_REDIS_CONNECTION_LOST', `the Redis connection failed: ${error.message}`, error);
      }
    });
    socket.on('close', () => {
      if (this.socket === socket) this.fail('AVX_REDIS_CONNECTION_LOST', 'Redis closed the connection');
    });
    if (this.connectTimer === undefined) {
      this.connectTimer = this.wheel.schedule(this.connectTimeoutMs, onConnectTimeout, this);
    } else {
      this.wheel.reschedule(this.connectTimer, this.connectTimeoutMs);
    }
    // Handshake, ahead of any command (the socket buffers writes until it is connected).
    if (o.password !== undefined) {
      const auth = o.username !== undefined ? ['AUTH', o.username, o.password] : ['AUTH', o.password];
      this.send(encodeCommand(auth), HANDSHAKE);
    }
    if (o.db !== undefined && o.db !== 0) this.send(encodeCommand(['SELECT', o.db]), HANDSHAKE);
  }

  private fail(code: RedisErrorCode, message: string, cause?: Error): void {
    this._fail(new RedisError(code, message, cause === undefined ? undefined : { cause }));
  }

  private send(bytes: string, pending: PendingCommand): void {
    this.socket!.write(bytes);
    this.pending.push(pending);
    // The reply time-out starts once connected; until then the connect time-out applies.
    if (this.pending.length === 1 && this.isConnected) this.armReplyTimer();
  }

  private armReplyTimer(): void {
    if (this.replyTimer === undefined) {
      this.replyTimer = this.wheel.schedule(this.commandTimeoutMs, onCommandTimeout, this);
    } else {
      this.wheel.reschedule(this.replyTimer, this.commandTimeoutMs);
    }
  }

  private receive(chunk: Buffer): void {
    let replies: (RespValue | RedisError)[];
    try {
      replies = this.reader!.receive(chunk);
    } catch (error) {
      this._fail(error as Error);
      return;
    }
    for (const reply of replies) {
      const p = this.pending.shift();
      if (p === undefined) {
        this._fail(protocolError('a reply to no command'));
        return;
      }
      if (reply instanceof RedisError) {
        if (p === HANDSHAKE) {
          this._fail(reply);
          return;
        }
        p.reject(reply);
      } else {
        p.resolve(reply);
      }
    }
    if (this.socket === undefined) return;
    if (this.pending.length === 0) this.replyTimer?.cancel();
    else if (replies.length > 0) this.armReplyTimer();
  }
}
