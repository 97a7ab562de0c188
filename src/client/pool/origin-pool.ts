/**
 * The connection pool of one origin (RFC 6454 origin: scheme, host, port): up to `connections`
 * HTTP/1.1 connections, an idle stack (most recently used first, so the rest age out), a bounded
 * FIFO of requests waiting for a connection, and the statistics telemetry reads.
 *
 * A request goes to an idle connection at once, else waits in the queue while a new connection
 * is opened (at most one per waiting request, up to the limit). A connection that finishes an
 * exchange takes the oldest waiting request before going idle. Idle connections are closed after
 * the idle timeout (shortened to the server's `Keep-Alive: timeout` hint, minus a margin so we
 * never send on a connection the server is about to close), or at once past `maxIdle`.
 *
 * With HTTP/2 (h2c prior knowledge, or ALPN `h2` over TLS) the pool keeps ONE multiplexed
 * connection and opens another only when every open one is at the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2, §6.5.2); streams refused or cut off by a
 * GOAWAY (RFC 9113 §6.8, §8.7) come back to the head of the queue. Over TLS the first connection
 * probes: if ALPN picks `http/1.1`, its socket is handed to an HTTP/1.1 connection and the pool
 * stays HTTP/1.1.
 */

import type net from 'node:net';
import { clientConnectionCloseChannel, clientConnectionOpenChannel } from '../client-diagnostics.js';
import { ClientClosedError, PoolExhaustedError } from '../client-errors.js';
import { abortError, ClientExchange, type ExchangeQueue, ExchangeState } from '../client-exchange.js';
import type { ClientRequest } from '../client-request.js';
import type { ClientResponse } from '../client-response.js';
import {
  H1ClientConnection,
  type H1ConnectionOwner,
  type H1ConnectionSettings,
} from '../h1-client-connection.js';
import {
  H2ClientConnection,
  type H2ClientSettings,
  type H2ConnectionOwner,
} from '../h2-client-connection.js';

/** How a pool speaks HTTP/2. */
export interface OriginPoolH2 {
  /** `'prior-knowledge'`: h2c straight away; `'alpn'`: offer h2 over TLS and use what the server picks. */
  mode: 'prior-knowledge' | 'alpn';
  /** Settings of the HTTP/2 connections. */
  settings: H2ClientSettings;
}

/** The protocol a pool currently uses. */
const PoolMode = { H1: 0, H2: 1, Probe: 2 } as const;
type PoolMode = (typeof PoolMode)[keyof typeof PoolMode];

/** Limits of one origin's pool. */
export interface OriginPoolLimits {
  /** Most connections to the origin. */
  connections: number;
  /** Most requests waiting for a connection; past it, {@link PoolExhaustedError}. */
  maxQueued: number;
  /** Most idle connections kept. */
  maxIdle: number;
  /** How long an idle connection is kept, in ms. */
  idleTimeout: number;
  /** Upper bound on the idle time a server's `Keep-Alive: timeout` hint may grant, in ms. */
  maxIdleTimeout: number;
  /** Connect timeout for connections opened for retried requests, in ms. */
  connectTimeout: number;
}

/** Counters of one pool (or, summed, of a client). */
export interface PoolStats {
  /** Open connections (connecting ones included). */
  connections: number;
  /** Connections being established. */
  connecting: number;
  /** Connections with a request in flight. */
  active: number;
  /** Idle connections kept for reuse. */
  idle: number;
  /** Requests waiting for a connection. */
  pending: number;
  /** Connections created so far. */
  created: number;
  /** Requests sent on a connection that had carried one before. */
  reused: number;
  /** Requests dispatched so far. */
  requests: number;
}

/** Margin taken off a server's keep-alive hint: a request must not race the server's close. */
const KEEP_ALIVE_MARGIN_MS = 1000;

let capturedResolve: ((response: ClientResponse) => void) | undefined;
let capturedReject: ((error: Error) => void) | undefined;
/** Promise executor that hands out its functions through module state: no closure per request. */
function captureSettlers(resolve: (response: ClientResponse) => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** The pool of connections to one origin. */
export class OriginPool implements ExchangeQueue, H1ConnectionOwner, H2ConnectionOwner {
  /** `scheme://host:port`. */
  readonly origin: string;
  readonly #settings: H1ConnectionSettings;
  readonly #limits: OriginPoolLimits;
  readonly #connections: H1ClientConnection[] = [];
  readonly #idle: H1ClientConnection[] = [];
  readonly #h2: H2ClientConnection[] = [];
  readonly #h2Settings: H2ClientSettings | undefined;
  #mode: PoolMode = PoolMode.H1;
  /** The last SETTINGS_MAX_CONCURRENT_STREAMS an HTTP/2 connection learned, for new ones. */
  #h2StreamLimit = 100;
  #queue: (ClientExchange | undefined)[] = [];
  #queueHead = 0;
  #queued = 0;
  #connecting = 0;
  #created = 0;
  #reused = 0;
  #requests = 0;
  #closing = false;
  #destroyed = false;
  #drained = false;
  #drainWaiters: (() => void)[] = [];
  /** Called once the pool is empty and closing, so its owner can forget it. */
  onDrained: ((pool: OriginPool) => void) | undefined;

  constructor(origin: string, settings: H1ConnectionSettings, limits: OriginPoolLimits, h2?: OriginPoolH2) {
    this.origin = origin;
    this.#settings = settings;
    this.#limits = limits;
    if (h2 !== undefined) {
      this.#h2Settings = h2.settings;
      this.#mode = h2.mode === 'alpn' ? PoolMode.Probe : PoolMode.H2;
    }
  }

  /** The protocol in use: `'h2'`, `'http/1.1'`, or `'unknown'` before ALPN answered. */
  get protocol(): string {
    return this.#mode === PoolMode.H2 ? 'h2' : this.#mode === PoolMode.H1 ? 'http/1.1' : 'unknown';
  }

  /** Sends `request` on a connection of this pool; resolves when the response head arrives. */
  dispatch(request: ClientRequest): Promise<ClientResponse> {
    const promise = new Promise<ClientResponse>(captureSettlers);
    const exchange = new ClientExchange(this, request, this.origin, capturedResolve!, capturedReject!);
    capturedResolve = undefined;
    capturedReject = undefined;
    this.#enqueue(exchange);
    return promise;
  }

  /** Current counters. */
  stats(): PoolStats {
    let active = 0;
    let idle = this.#idle.length;
    for (const c of this.#connections) if (c.inflight.length > 0) active++;
    for (const c of this.#h2) {
      if (c.inflight > 0) active++;
      else if (c.connected) idle++;
    }
    return {
      connections: this.#connections.length + this.#h2.length,
      connecting: this.#connecting,
      active,
      idle,
      pending: this.#queued,
      created: this.#created,
      reused: this.#reused,
      requests: this.#requests,
    };
  }

  /** True when nothing is queued, in flight or connecting. */
  get quiet(): boolean {
    if (this.#queued > 0 || this.#connecting > 0) return false;
    for (const c of this.#connections) if (c.inflight.length > 0) return false;
    for (const c of this.#h2) if (c.inflight > 0) return false;
    return true;
  }

  #enqueue(exchange: ClientExchange): void {
    this.#requests++;
    if (this.#closing) {
      exchange.fail(new ClientClosedError(this.origin));
      return;
    }
    const signal = exchange.request.signal;
    if (signal?.aborted) {
      exchange.fail(abortError(this.origin, signal.reason));
      return;
    }
    if (this.#mode !== PoolMode.H1) {
      this.#enqueueH2(exchange);
      return;
    }
    if (this.#queued === 0) {
      const connection = this.#takeIdle() ?? this.#pipelineCandidate(exchange);
      if (connection !== undefined) {
        this.#send(connection, exchange);
        return;
      }
    }
    if (this.#wait(exchange)) this.#openConnections(exchange.request.connectTimeout);
  }

  /**
   * Puts `exchange` in the bounded wait queue; returns false (having failed it with
   * {@link PoolExhaustedError}) when the queue is full.
   */
  #wait(exchange: ClientExchange): boolean {
    if (this.#queued >= this.#limits.maxQueued) {
      exchange.fail(new PoolExhaustedError(this.origin, this.#limits.maxQueued));
      return false;
    }
    this.#queue.push(exchange);
    this.#queued++;
    return true;
  }

  #send(connection: H1ClientConnection, exchange: ClientExchange): void {
    if (connection.sent > 0) this.#reused++;
    connection.send(exchange);
  }

  /** An idle connection that is still usable, most recently used first. */
  #takeIdle(): H1ClientConnection | undefined {
    const idle = this.#idle;
    while (idle.length > 0) {
      const connection = idle.pop()!;
      if (connection.usable) {
        connection.stopIdle();
        return connection;
      }
      connection.close();
    }
    return undefined;
  }

  /** With pipelining: a busy connection with room, for a request that is safe to pipeline. */
  #pipelineCandidate(exchange: ClientExchange): H1ClientConnection | undefined {
    if (this.#settings.pipelining <= 1) return undefined;
    const req = exchange.request;
    // RFC 9112 §9.3.2: only idempotent requests should be pipelined; a stream body blocks it.
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    if (req.body !== null && req.body.bytes === undefined) return undefined;
    // Prefer a new connection while the limit allows: pipelining adds head-of-line blocking.
    if (this.#connections.length < this.#limits.connections) return undefined;
    let best: H1ClientConnection | undefined;
    for (const c of this.#connections) {
      if (c.hasCapacity && (best === undefined || c.inflight.length < best.inflight.length)) best = c;
    }
    return best;
  }

  #openConnections(connectTimeout: number): void {
    const max = this.#limits.connections;
    while (this.#connecting < this.#queued && this.#connections.length < max) {
      const connection = new H1ClientConnection(this, this.#settings);
      this.#connections.push(connection);
      this.#connecting++;
      this.#created++;
      if (clientConnectionOpenChannel.hasSubscribers) {
        clientConnectionOpenChannel.publish({ origin: this.origin, connection });
      }
      connection.connect(connectTimeout);
    }
  }

  #dequeue(): ClientExchange | undefined {
    const queue = this.#queue;
    while (this.#queueHead < queue.length) {
      const exchange = queue[this.#queueHead]!;
      queue[this.#queueHead++] = undefined;
      if (exchange.state === ExchangeState.Queued) {
        this.#queued--;
        if (this.#queueHead === queue.length) {
          queue.length = 0;
          this.#queueHead = 0;
        }
        return exchange;
      }
    }
    queue.length = 0;
    this.#queueHead = 0;
    return undefined;
  }

  /** Puts an exchange back at the head of the queue (a retry goes before newer requests). */
  #requeueFront(exchange: ClientExchange): void {
    if (this.#queueHead > 0) this.#queue[--this.#queueHead] = exchange;
    else this.#queue.unshift(exchange);
    this.#queued++;
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP/2

  #enqueueH2(exchange: ClientExchange): void {
    if (this.#queued === 0) {
      const connection = this.#h2WithCapacity();
      if (connection !== undefined) {
        this.#sendH2(connection, exchange);
        return;
      }
    }
    if (this.#wait(exchange)) this.#openH2(exchange.request.connectTimeout);
  }

  #sendH2(connection: H2ClientConnection, exchange: ClientExchange): void {
    if (connection.sent > 0) this.#reused++;
    connection.send(exchange);
  }

  /** The first HTTP/2 connection that can open a stream now. */
  #h2WithCapacity(): H2ClientConnection | undefined {
    for (const c of this.#h2) if (c.hasCapacity) return c;
    return undefined;
  }

  /** Opens an HTTP/2 connection unless one is connecting or one has room. */
  #openH2(connectTimeout: number): void {
    if (this.#destroyed || this.#queued === 0) return;
    if (this.#mode === PoolMode.H1) {
      this.#openConnections(connectTimeout);
      return;
    }
    if (this.#connecting > 0 || this.#h2.length >= this.#limits.connections) return;
    if (this.#h2WithCapacity() !== undefined) return;
    const connection = new H2ClientConnection(this, this.#h2Settings!);
    connection.streamLimitHint = this.#h2StreamLimit;
    this.#h2.push(connection);
    this.#connecting++;
    this.#created++;
    if (clientConnectionOpenChannel.hasSubscribers) {
      clientConnectionOpenChannel.publish({ origin: this.origin, connection });
    }
    connection.connect(connectTimeout);
  }

  /** Gives waiting requests to HTTP/2 connections with room, and opens one if none has any. */
  #pumpH2(): void {
    if (this.#destroyed) return;
    if (this.#mode === PoolMode.H1) {
      this.#pump();
      return;
    }
    while (this.#queued > 0) {
      const connection = this.#h2WithCapacity();
      if (connection === undefined) break;
      const exchange = this.#dequeue();
      if (exchange === undefined) break;
      this.#sendH2(connection, exchange);
    }
    if (this.#queued > 0) this.#openH2(this.#limits.connectTimeout);
  }

  #leftConnecting(connection: H2ClientConnection): void {
    if (!connection.leftConnecting) {
      connection.leftConnecting = true;
      this.#connecting--;
    }
  }

  // H2ConnectionOwner
  onH2Ready(connection: H2ClientConnection): void {
    this.#leftConnecting(connection);
    if (this.#mode === PoolMode.Probe) this.#mode = PoolMode.H2;
    this.#h2StreamLimit = connection.streamLimit;
    this.#pumpH2();
    if (connection.inflight === 0 && !connection.closed && (this.#closing || !connection.hasCapacity)) {
      connection.close();
      return;
    }
    this.#checkDrained();
  }

  onH2Declined(connection: H2ClientConnection, socket: net.Socket): void {
    const at = this.#h2.indexOf(connection);
    if (at !== -1) this.#h2.splice(at, 1);
    this.#leftConnecting(connection);
    this.#mode = PoolMode.H1;
    const h1 = new H1ClientConnection(this, this.#settings);
    this.#connections.push(h1);
    this.#connecting++;
    h1.adopt(socket);
    this.#pump();
    this.#checkDrained();
  }

  onH2Retry(connection: H2ClientConnection, exchanges: ClientExchange[]): void {
    void connection;
    for (let i = exchanges.length - 1; i >= 0; i--) {
      const exchange = exchanges[i]!;
      if (this.#destroyed) exchange.fail(new ClientClosedError(this.origin, 'the client was destroyed'));
      else this.#requeueFront(exchange);
    }
    this.#pumpH2();
  }

  onH2Closed(connection: H2ClientConnection, reason: Error, retry: ClientExchange[] | undefined): void {
    const at = this.#h2.indexOf(connection);
    if (at !== -1) this.#h2.splice(at, 1);
    if (at !== -1 && clientConnectionCloseChannel.hasSubscribers) {
      clientConnectionCloseChannel.publish({ origin: this.origin, connection, error: reason });
    }
    if (!connection.leftConnecting) {
      this.#leftConnecting(connection);
      if (this.#queued > 0) {
        if (this.#h2.length === 0 && this.#connections.length === 0) {
          for (let e = this.#dequeue(); e !== undefined; e = this.#dequeue()) e.fail(reason);
        } else {
          this.#dequeue()?.fail(reason);
        }
      }
    }
    if (retry !== undefined) {
      for (let i = retry.length - 1; i >= 0; i--) {
        const exchange = retry[i]!;
        if (this.#destroyed) exchange.fail(reason);
        else this.#requeueFront(exchange);
      }
    }
    this.#pumpH2();
    this.#checkDrained();
  }

  // ExchangeQueue
  dropQueued(exchange: ClientExchange): void {
    void exchange;
    this.#queued--;
    this.#checkDrained();
  }

  // H1ConnectionOwner
  onConnectionReady(connection: H1ClientConnection): void {
    if (!connection.leftConnecting) {
      connection.leftConnecting = true;
      this.#connecting--;
    }
    while (this.#queued > 0 && connection.hasCapacity) {
      const exchange = this.#dequeue()!;
      if (connection.inflight.length > 0 && !this.#pipelineable(exchange)) {
        this.#requeueFront(exchange);
        break;
      }
      this.#send(connection, exchange);
    }
    if (connection.inflight.length === 0 && !connection.closed) {
      if (this.#closing || this.#idle.length >= this.#limits.maxIdle || !connection.usable) {
        connection.close();
        return;
      }
      this.#idle.push(connection);
      connection.startIdle(this.#idleTimeoutFor(connection));
    }
    this.#checkDrained();
  }

  onConnectionClosed(
    connection: H1ClientConnection,
    reason: Error,
    retry: ClientExchange[] | undefined,
  ): void {
    const connections = this.#connections;
    const at = connections.indexOf(connection);
    if (at !== -1) connections.splice(at, 1);
    if (at !== -1 && clientConnectionCloseChannel.hasSubscribers) {
      clientConnectionCloseChannel.publish({ origin: this.origin, connection, error: reason });
    }
    const idleAt = this.#idle.indexOf(connection);
    if (idleAt !== -1) this.#idle.splice(idleAt, 1);
    if (!connection.leftConnecting) {
      connection.leftConnecting = true;
      this.#connecting--;
      // A connection opened for waiting requests failed: fail them if no other connection can
      // serve them, else only the oldest, so a dead origin fails fast and a flaky one recovers.
      if (this.#queued > 0) {
        if (connections.length === 0) {
          for (let e = this.#dequeue(); e !== undefined; e = this.#dequeue()) e.fail(reason);
        } else {
          this.#dequeue()?.fail(reason);
        }
      }
    }
    if (retry !== undefined) {
      for (let i = retry.length - 1; i >= 0; i--) {
        const exchange = retry[i]!;
        if (this.#destroyed) exchange.fail(reason);
        else this.#requeueFront(exchange);
      }
    }
    this.#pump();
    this.#checkDrained();
  }

  /** Gives waiting requests to idle connections, and opens connections for the rest. */
  #pump(): void {
    if (this.#destroyed) return;
    while (this.#queued > 0) {
      const connection = this.#takeIdle();
      if (connection === undefined) break;
      this.#send(connection, this.#dequeue()!);
    }
    if (this.#queued > 0) this.#openConnections(this.#limits.connectTimeout);
  }

  #pipelineable(exchange: ClientExchange): boolean {
    const req = exchange.request;
    return (
      (req.method === 'GET' || req.method === 'HEAD') && (req.body === null || req.body.bytes !== undefined)
    );
  }

  #idleTimeoutFor(connection: H1ClientConnection): number {
    let timeout = this.#limits.idleTimeout;
    const hint = connection.keepAliveHintMs;
    if (hint >= 0) {
      // Stay clear of the server's own timer; a hint of 1 s or less halves instead.
      const safe = hint > 2 * KEEP_ALIVE_MARGIN_MS ? hint - KEEP_ALIVE_MARGIN_MS : hint / 2;
      timeout = Math.min(safe, this.#limits.maxIdleTimeout);
    }
    return timeout;
  }

  #checkDrained(): void {
    if (!this.#closing || this.#drained || !this.quiet) return;
    this.#drained = true;
    for (const c of this.#connections.slice()) c.close();
    for (const c of this.#h2.slice()) c.close();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
    this.onDrained?.(this);
  }

  /** Stops taking requests; resolves once queued and in-flight ones have finished. */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#drained) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    this.#checkDrained();
    return done;
  }

  /** Fails everything queued and in flight with `reason` and closes every connection. */
  destroy(reason: Error = new ClientClosedError(this.origin, 'the client was destroyed')): void {
    this.#closing = true;
    this.#destroyed = true;
    for (let e = this.#dequeue(); e !== undefined; e = this.#dequeue()) e.fail(reason);
    for (const c of this.#connections.slice()) c.destroy(reason);
    for (const c of this.#h2.slice()) c.destroy(reason);
    this.#checkDrained();
  }
}
