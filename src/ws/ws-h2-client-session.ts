/**
 * The client's HTTP/2 connection for WebSockets over HTTP/2 (RFC 8441): one socket and one
 * sans-I/O `H2Connection` in the client role, shared by the WebSockets opened to one origin
 * with the same TLS and HTTP/2 settings. It connects (`ws:` with h2c prior knowledge, RFC 9113
 * §3.3; `wss:` offering `h2` by ALPN, RFC 7301), waits for the server's first SETTINGS, which
 * must announce SETTINGS_ENABLE_CONNECT_PROTOCOL before a client may send `:protocol` (RFC 8441
 * §3), then opens one extended CONNECT stream per WebSocket (§4), each read and written through a
 * {@link WsH2StreamTransport}. A reset stream ends only its own WebSocket; the loss of the
 * connection (or a connection error) ends all of them with 1006.
 *
 * At the server's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2) a new WebSocket waits for
 * one of the connection's streams to close ({@link WsH2ClientSession.streamSlotFreed}) rather
 * than open one more, which the server would refuse with REFUSED_STREAM; its handshake timeout
 * bounds the wait (a GOAWAY or the connection's loss during it sends the WebSocket to a new
 * connection). One connection per origin (the RFC 9113 §9.1 advice) is kept so: the limit is
 * the server's statement of what it will serve us at once, and a second connection would only
 * step around it.
 *
 * The session counts what it wrote to the socket, so that a stream's write completes only once
 * its frames were handed to the operating system ({@link WsH2ClientSession.outputFlushed}): a
 * congested connection shows in every WebSocket's `bufferedAmount`, as a TCP socket's does.
 *
 * A session with no WebSocket and nobody waiting for one stops holding the process (its socket
 * is unref'd) and closes with GOAWAY (RFC 9113 §6.8) after {@link WS_H2_IDLE_MS}; a GOAWAY from
 * the server takes it out of use (streams in flight finish). When ALPN picks HTTP/1.1 the
 * session hands its TLS socket to one waiting handshake, which does RFC 6455 on it.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type tls from 'node:tls';
import { ConnectAttempt, type ConnectTarget, openConnection } from '../client/connector.js';
import { H2Connection, type H2ConnectionHandler } from '../h2/h2-connection.js';
import type { H2ConnectionOptions } from '../h2/h2-connection-options.js';
import type { H2Error } from '../h2/h2-error.js';
import { H2ErrorCode } from '../h2/h2-error-codes.js';
import type { H2Stream } from '../h2/h2-stream.js';
import { SocketFlushTracker } from '../runtime/socket-flush-tracker.js';
import type { TimerHandle, TimerWheel } from '../runtime/timer-wheel.js';
import { handshakeFailure, WsHandshakeError } from './ws-errors.js';
import { type WsH2StreamHost, WsH2StreamTransport } from './ws-h2-stream-transport.js';

/** How long an HTTP/2 connection without WebSockets is kept for the next one, in ms. */
export const WS_H2_IDLE_MS = 5000;

/** How a session connects. */
export interface WsH2SessionSettings {
  /** Where to connect; for `https:` its ALPN list offers `h2` first. */
  target: ConnectTarget;
  /** Options of the HTTP/2 core. */
  h2: H2ConnectionOptions | undefined;
  /** Time allowed for connecting and the server's SETTINGS, in ms. */
  connectTimeout: number;
  wheel: TimerWheel;
}

/** The response of an extended CONNECT: its fields (`:status` first), or why there is none. */
export interface WsH2Opened {
  transport: WsH2StreamTransport;
  /** Resolves with the final response's fields; rejects when the stream ends before one. */
  response: Promise<string[]>;
}

const EMPTY = Buffer.alloc(0);
const noop = () => {};

/** The sessions in use, by origin and settings. */
const sessions = new Map<string, WsH2ClientSession>();

/** One WebSocket's stream and the response it waits for. */
class WsH2ClientStream {
  readonly transport: WsH2StreamTransport;
  readonly response: Promise<string[]>;
  answered = false;
  private resolve!: (fields: string[]) => void;
  private reject!: (error: Error) => void;

  constructor(transport: WsH2StreamTransport) {
    this.transport = transport;
    this.response = new Promise<string[]>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.response.catch(noop);
  }

  answer(fields: string[]): void {
    if (this.answered) return;
    this.answered = true;
    this.resolve(fields);
  }

  fail(error: Error): void {
    if (this.answered) return;
    this.answered = true;
    this.reject(error);
  }
}

function connectTimedOut(session: WsH2ClientSession): void {
  session.onConnectTimeout();
}

function idleTimedOut(session: WsH2ClientSession): void {
  session.onIdleTimeout();
}

/** An HTTP/2 connection carrying WebSockets (RFC 8441). */
export class WsH2ClientSession implements H2ConnectionHandler, WsH2StreamHost {
  readonly core: H2Connection;
  /** Settles once the server's SETTINGS arrived (or ALPN chose HTTP/1.1); rejects if the connection fails first. */
  readonly ready: Promise<void>;
  /** ALPN chose HTTP/1.1: no HTTP/2 here. */
  declined = false;

  private readonly key: string;
  private readonly settings: WsH2SessionSettings;
  private readonly attempt = new ConnectAttempt();
  private socket: net.Socket | undefined;
  /** The TLS socket ALPN gave to HTTP/1.1, for the first handshake that asks. */
  private http1Socket: net.Socket | undefined;
  private closed = false;
  /** `fail` ran: the streams were told. */
  private ended = false;
  private settingsSeen = false;
  private draining = false;
  /** Handshakes waiting for `ready` or for their stream to open. */
  private users = 0;
  private timer: TimerHandle | undefined;
  private error: Error | undefined;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  /** What the socket handed to the OS, for the transports' writes (see {@link outputFlushed}). */
  private readonly flushes = new SocketFlushTracker(() => {
    const socket = this.socket;
    return socket === undefined || socket.destroyed ? undefined : socket;
  });
  /** Handshakes waiting for a stream slot (see `streamSlotFreed`). */
  private slotWaiters: (() => void)[] = [];

  /**
   * The session for `key` when one is usable, else a new one (connecting). The caller is counted
   * as a user until it calls `open` or `release`.
   */
  static acquire(key: string, settings: WsH2SessionSettings): WsH2ClientSession {
    let session = sessions.get(key);
    if (session === undefined || !session.usable) {
      session = new WsH2ClientSession(key, settings);
      sessions.set(key, session);
      session.connect();
    }
    session.users++;
    session.busy();
    return session;
  }

  /** The key of a connection: origin, TLS settings and HTTP/2 options. */
  static keyOf(origin: string, tlsSettings: unknown, h2: H2ConnectionOptions | undefined): string {
    if (tlsSettings === undefined && h2 === undefined) return origin;
    const digest = createHash('sha256')
      .update(JSON.stringify([tlsSettings ?? null, h2 ?? null]))
      .digest('base64');
    return `${origin} ${digest}`;
  }

  private constructor(key: string, settings: WsH2SessionSettings) {
    this.key = key;
    this.settings = settings;
    this.core = new H2Connection('client', this, settings.h2);
    this.ready = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.ready.catch(noop);
  }

  /** True while new WebSockets may go on this connection. */
  get usable(): boolean {
    return !this.closed && !this.draining && !this.declined && !this.core.failed;
  }

  /**
   * The server's SETTINGS_MAX_CONCURRENT_STREAMS leaves room for one more stream (RFC 9113
   * §5.1.2). A client's streams here are all its own (push is off), so `activeStreams` counts them.
   */
  get hasStreamSlot(): boolean {
    return this.core.activeStreams < this.core.peerMaxConcurrentStreams;
  }

  /**
   * Resolves when a stream of the connection closed, the server changed its SETTINGS or the
   * connection stopped taking WebSockets: the waiter looks at `hasStreamSlot` and `usable` again.
   */
  streamSlotFreed(): Promise<void> {
    return new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  /** The TLS socket ALPN gave to HTTP/1.1, once; undefined when taken or there is none. */
  takeHttp1Socket(): net.Socket | undefined {
    const socket = this.http1Socket;
    this.http1Socket = undefined;
    return socket;
  }

  /** A user gives up without opening a stream. */
  release(): void {
    this.users--;
    this.maybeIdle();
  }

  /**
   * Opens an extended CONNECT stream with `fields` (RFC 8441 §4) for a user (who stops counting
   * as one). Throws {@link WsHandshakeError} when the connection cannot take it.
   */
  open(fields: string[]): WsH2Opened {
    this.users--;
    if (!this.usable) {
      this.maybeIdle();
      throw new WsHandshakeError('AVX_WS_HANDSHAKE_FAILED', 'the HTTP/2 connection is closing');
    }
    if (!this.core.peerEnableConnectProtocol) {
      this.maybeIdle();
      // RFC 8441 §3: no `:protocol` without the server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
      throw new WsHandshakeError(
        'AVX_WS_H2_NO_EXTENDED_CONNECT',
        `${this.settings.target.origin} speaks HTTP/2 but does not announce SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)`,
      );
    }
    let stream: H2Stream;
    try {
      stream = this.core.openStream(fields, false);
    } catch (err) {
      this.maybeIdle();
      throw new WsHandshakeError(
        'AVX_WS_HANDSHAKE_FAILED',
        `no HTTP/2 stream for the WebSocket: ${(err as Error).message}`,
        0,
        { cause: err },
      );
    }
    const transport = new WsH2StreamTransport(this, stream);
    const entry = new WsH2ClientStream(transport);
    stream.data = entry;
    this.flushOut();
    return { transport, response: entry.response };
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  private connect(): void {
    const ms = this.settings.connectTimeout;
    if (ms > 0) this.timer = this.settings.wheel.schedule(ms, connectTimedOut, this);
    openConnection(this.settings.target, this.attempt).then(
      (socket) => this.onConnected(socket),
      (err: Error) => this.fail(err),
    );
  }

  private onConnected(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.settings.target.protocol === 'https:' && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
      // RFC 7301: the server chose HTTP/1.1; a waiting handshake takes the socket.
      this.declined = true;
      this.closed = true;
      this.cancelTimer();
      this.forget();
      this.http1Socket = socket; // no 'data' listener yet: what arrives stays buffered
      this.settle.resolve();
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('error', (err: Error) => {
      this.error ??= err;
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => this.onSocketClose());
    // RFC 9113 §3.4: the preface and our SETTINGS; we then wait for the server's (RFC 8441 §3).
    this.core.start(Date.now());
    this.flushOut();
  }

  /** Writes what the core queued. */
  flushOut(): void {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    const out = this.core.takeOutgoing();
    const n = out.length;
    if (n === 0) return;
    // While a transport waits, the last write's callback tells when everything written so far
    // reached the OS.
    const flushes = this.flushes;
    const flushed = flushes.callback;
    if (n === 1) {
      flushes.written += out[0]!.length;
      socket.write(out[0]!, flushed);
    } else {
      socket.cork();
      for (let i = 0; i < n; i++) {
        const chunk = out[i]!;
        flushes.written += chunk.length;
        socket.write(chunk, i === n - 1 ? flushed : undefined);
      }
      socket.uncork();
    }
  }

  /**
   * True when the core has nothing queued and the socket handed all it was given to the OS;
   * otherwise `transport.onOutputFlushed()` runs once the octets queued so far are (see
   * {@link WsH2StreamHost.outputFlushed}).
   */
  outputFlushed(transport: WsH2StreamTransport): boolean {
    // A lost connection fails the write (`onConnectionLost`).
    return this.flushes.wait(transport, this.core.outgoingBytes);
  }

  private wakeSlotWaiters(): void {
    if (this.slotWaiters.length === 0) return;
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private onSocketData(chunk: Buffer): void {
    if (this.closed) return;
    this.core.receive(chunk, Date.now());
    this.flushOut();
  }

  private onSocketClose(): void {
    const error =
      this.error === undefined
        ? new WsHandshakeError('AVX_WS_HANDSHAKE_FAILED', 'the HTTP/2 connection closed')
        : new WsHandshakeError(
            'AVX_WS_HANDSHAKE_FAILED',
            `the HTTP/2 connection failed: ${this.error.message}`,
            0,
            { cause: this.error },
          );
    this.fail(error);
  }

  /** The connection is over: every stream ends (its WebSocket with 1006), waiting handshakes fail. */
  private fail(error: Error): void {
    const wrapped = this.wrap(error);
    this.settle.reject(wrapped); // nothing when `ready` already settled
    if (this.ended) return;
    this.ended = true;
    this.closed = true;
    this.cancelTimer();
    this.forget();
    this.flushes.clear();
    this.wakeSlotWaiters();
    for (const stream of [...this.core.streams.values()]) {
      const entry = stream.data as WsH2ClientStream | undefined;
      if (entry === undefined) continue;
      entry.fail(wrapped);
      entry.transport.onConnectionLost();
    }
    // After a connection error the GOAWAY is queued: let it out, then close.
    this.socket?.destroySoon();
  }

  private wrap(error: Error): Error {
    return handshakeFailure(error, `the HTTP/2 connection to ${this.settings.target.origin}`);
  }

  /** @internal The connect (and SETTINGS) deadline passed. */
  onConnectTimeout(): void {
    this.timer = undefined;
    if (this.settingsSeen || this.closed) return;
    const error = new WsHandshakeError(
      'AVX_WS_HANDSHAKE_TIMEOUT',
      `no HTTP/2 SETTINGS from ${this.settings.target.origin} within ${this.settings.connectTimeout} ms`,
    );
    this.attempt.cancel(error);
    this.fail(error);
  }

  /** @internal The idle deadline passed. */
  onIdleTimeout(): void {
    this.timer = undefined;
    if (this.users === 0 && this.core.activeStreams === 0) this.close();
  }

  /** Graceful close: GOAWAY (RFC 9113 §6.8), then the socket ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer();
    this.forget();
    this.wakeSlotWaiters();
    const socket = this.socket;
    if (socket === undefined) return;
    if (!this.core.failed) {
      this.core.goaway(H2ErrorCode.NO_ERROR);
      this.flushOut();
    }
    // Streams still open end with the connection ('close' runs `fail`).
    socket.end();
  }

  private busy(): void {
    if (this.socket !== undefined && this.settingsSeen) {
      this.socket.ref();
      this.cancelTimer();
    }
  }

  /** No WebSocket and nobody waiting: let the process exit, and close after a while. */
  private maybeIdle(): void {
    if (this.closed || this.users > 0 || this.core.activeStreams > 0) return;
    if (this.draining) {
      this.close();
      return;
    }
    if (this.socket === undefined || !this.settingsSeen) return;
    this.socket.unref();
    if (this.timer === undefined)
      this.timer = this.settings.wheel.schedule(WS_H2_IDLE_MS, idleTimedOut, this);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Takes this session out of the map, so that no new WebSocket finds it. */
  private forget(): void {
    if (sessions.get(this.key) === this) sessions.delete(this.key);
  }

  // ---------------------------------------------------------------------------------------------
  // H2ConnectionHandler

  onSettings(): void {
    if (!this.settingsSeen) {
      // RFC 8441 §3: now we know whether `:protocol` may be sent.
      this.settingsSeen = true;
      this.cancelTimer();
      this.settle.resolve();
    }
    // SETTINGS_MAX_CONCURRENT_STREAMS may have risen.
    this.wakeSlotWaiters();
    this.maybeIdle();
  }

  onHeaders(stream: H2Stream, fields: string[], endStream: boolean, trailers: boolean): void {
    const entry = stream.data as WsH2ClientStream;
    if (!trailers && !entry.answered) {
      // RFC 9113 §8.1: informational responses (1xx) come before the final one; skip them.
      if (Number(fields[1]) >= 200) entry.answer(fields);
    }
    if (endStream) entry.transport.onStreamData(EMPTY, true);
  }

  onData(stream: H2Stream, data: Buffer, endStream: boolean): void {
    (stream.data as WsH2ClientStream).transport.onStreamData(data, endStream);
  }

  onStreamClosed(stream: H2Stream, errorCode: number, byPeer: boolean): void {
    const entry = stream.data as WsH2ClientStream;
    entry.fail(
      new WsHandshakeError(
        'AVX_WS_HANDSHAKE_FAILED',
        `the server ${byPeer ? 'reset' : 'ended'} the extended CONNECT stream before answering (HTTP/2 error code ${errorCode})`,
      ),
    );
    entry.transport.onStreamClosed(errorCode, byPeer);
    // RFC 9113 §5.1.2: a closed stream no longer counts against the server's limit.
    this.wakeSlotWaiters();
    this.maybeIdle();
  }

  onStreamWritable(stream: H2Stream): void {
    (stream.data as WsH2ClientStream).transport.onStreamWritable();
  }

  onGoaway(): void {
    // RFC 9113 §6.8: the streams we have go on; new WebSockets get another connection.
    this.draining = true;
    this.forget();
    this.wakeSlotWaiters();
    this.maybeIdle();
  }

  onConnectionError(error: H2Error): void {
    this.flushOut();
    this.fail(error);
  }
}
