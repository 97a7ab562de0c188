/**
 * The HTTP/3 pool of one origin at one UDP endpoint (the origin itself with `http3: 'only'`, or
 * an alternative it advertised in Alt-Svc, RFC 7838): ONE multiplexed QUIC connection carries
 * every request (RFC 9114 §3.3); another is opened only when it is gone or draining (GOAWAY), and
 * requests wait in a bounded FIFO while it connects or while the server's stream limit
 * (MAX_STREAMS, RFC 9000 §4.6) is reached. When a connection fails before its handshake
 * completes, the requests waiting for it fail with its {@link ConnectError} or
 * {@link ConnectTimeoutError}, which the client takes as the signal to fall back to TCP.
 */
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { ClientClosedError, PoolExhaustedError } from './client-errors.js';
import { abortError, ClientExchange, type ExchangeQueue, ExchangeState } from './client-exchange.js';
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './client-response.js';
import { H3ClientConnection, type H3ClientSettings, type H3ConnectionOwner } from './h3-client-connection.js';
import type { PoolStats } from './pool/origin-pool.js';

/** The HTTP/3 connections to one origin's endpoint. */
export class H3OriginPool implements ExchangeQueue, H3ConnectionOwner {
  readonly #settings: H3ClientSettings;
  readonly #maxQueued: number;
  readonly #connections: H3ClientConnection[] = [];
  #queue: ClientExchange[] = [];
  #queued = 0;
  #connecting = 0;
  #created = 0;
  #reused = 0;
  #requests = 0;
  #closing = false;
  #destroyed = false;
  #drainWaiters: (() => void)[] = [];
  /** Connections no longer counted as connecting. */
  readonly #left = new WeakSet<H3ClientConnection>();

  constructor(settings: H3ClientSettings, maxQueued: number) {
    this.#settings = settings;
    this.#maxQueued = maxQueued;
  }

  /** Sends `request` over HTTP/3; resolves when the response head arrives. */
  dispatch(request: ClientRequest): Promise<ClientResponse> {
    return new Promise<ClientResponse>((resolve, reject) => {
      const exchange = new ClientExchange(this, request, this.#settings.origin, resolve, reject);
      this.#enqueue(exchange);
    });
  }

  #enqueue(exchange: ClientExchange): void {
    this.#requests++;
    const origin = this.#settings.origin;
    if (this.#closing) {
      exchange.fail(new ClientClosedError(origin));
      return;
    }
    const signal = exchange.request.signal;
    if (signal?.aborted) {
      exchange.fail(abortError(origin, signal.reason));
      return;
    }
    if (this.#queued === 0) {
      const connection = this.#withCapacity();
      if (connection !== undefined) {
        this.#send(connection, exchange);
        return;
      }
    }
    if (this.#queued >= this.#maxQueued) {
      exchange.fail(new PoolExhaustedError(origin, this.#maxQueued));
      return;
    }
    this.#queue.push(exchange);
    this.#queued++;
    this.#open(exchange.request.connectTimeout);
  }

  #send(connection: H3ClientConnection, exchange: ClientExchange): void {
    if (connection.sent > 0) this.#reused++;
    connection.send(exchange);
  }

  #withCapacity(): H3ClientConnection | undefined {
    for (const c of this.#connections) if (c.hasCapacity) return c;
    return undefined;
  }

  /** Opens a connection unless one is connecting or one is usable (only at its stream limit). */
  #open(connectTimeout: number): void {
    if (this.#destroyed || this.#queued === 0 || this.#connecting > 0) return;
    for (const c of this.#connections) if (!c.closed && !c.draining) return;
    const connection = new H3ClientConnection(this, this.#settings);
    this.#connections.push(connection);
    this.#connecting++;
    this.#created++;
    connection.connect(connectTimeout);
  }

  #dequeue(): ClientExchange | undefined {
    while (this.#queue.length > 0) {
      const exchange = this.#queue.shift()!;
      if (exchange.state === ExchangeState.Queued) {
        this.#queued--;
        return exchange;
      }
    }
    return undefined;
  }

  #pump(): void {
    if (this.#destroyed) return;
    while (this.#queued > 0) {
      const connection = this.#withCapacity();
      if (connection === undefined) break;
      const exchange = this.#dequeue();
      if (exchange === undefined) break;
      this.#send(connection, exchange);
    }
    if (this.#queued > 0) this.#open(this.#queue[0]?.request.connectTimeout ?? 10_000);
    this.#checkDrained();
  }

  // H3ConnectionOwner
  onH3Ready(connection: H3ClientConnection): void {
    if (connection.connected && this.#connections.includes(connection) && !this.#left.has(connection)) {
      this.#left.add(connection);
      this.#connecting--;
    }
    this.#pump();
    if (this.#closing && connection.inflight === 0) connection.close();
  }

  onH3Retry(connection: H3ClientConnection, exchanges: ClientExchange[]): void {
    void connection;
    for (let i = exchanges.length - 1; i >= 0; i--) this.#requeueFront(exchanges[i]!);
    this.#pump();
  }

  onH3Closed(connection: H3ClientConnection, reason: Error, retry: ClientExchange[] | undefined): void {
    const at = this.#connections.indexOf(connection);
    if (at !== -1) this.#connections.splice(at, 1);
    if (!this.#left.has(connection)) {
      this.#left.add(connection);
      this.#connecting--;
      // It never came up: the requests waiting for it fail with why (the client may fall back).
      if (!connection.connected)
        for (let e = this.#dequeue(); e !== undefined; e = this.#dequeue()) e.fail(reason);
    }
    if (retry !== undefined) for (let i = retry.length - 1; i >= 0; i--) this.#requeueFront(retry[i]!);
    this.#pump();
  }

  #requeueFront(exchange: ClientExchange): void {
    if (this.#destroyed) {
      exchange.fail(new ClientClosedError(this.#settings.origin, 'the client was destroyed'));
      return;
    }
    this.#queue.unshift(exchange);
    this.#queued++;
  }

  // ExchangeQueue
  dropQueued(exchange: ClientExchange): void {
    const at = this.#queue.indexOf(exchange);
    if (at !== -1) this.#queue.splice(at, 1);
    this.#queued--;
    this.#checkDrained();
  }

  /** Current counters. */
  stats(): PoolStats {
    let active = 0;
    let idle = 0;
    for (const c of this.#connections) {
      if (c.inflight > 0) active++;
      else if (c.connected) idle++;
    }
    return {
      connections: this.#connections.length,
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
    for (const c of this.#connections) if (c.inflight > 0) return false;
    return true;
  }

  #checkDrained(): void {
    if (!this.#closing || !this.quiet) return;
    for (const c of this.#connections.slice()) c.close();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops taking requests; resolves once queued and in-flight ones have finished. */
  close(): Promise<void> {
    this.#closing = true;
    const done = new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    this.#checkDrained();
    return done;
  }

  /** Fails everything queued and in flight with `reason` and closes every connection. */
  destroy(reason: Error = new ClientClosedError(this.#settings.origin, 'the client was destroyed')): void {
    this.#closing = true;
    this.#destroyed = true;
    for (let e = this.#dequeue(); e !== undefined; e = this.#dequeue()) e.fail(reason);
    for (const c of this.#connections.slice()) c.destroy(reason);
    this.#checkDrained();
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * The trust anchors of the QUIC handshake from a client's `tls.ca` (PEM, possibly bundles, or
 * DER): Node's bundled roots when it is not set, as for TCP.
 */
export function h3TrustAnchors(
  ca: string | Buffer | readonly (string | Buffer)[] | undefined,
): X509Certificate[] {
  const list =
    ca === undefined ? rootCertificates : typeof ca === 'string' || Buffer.isBuffer(ca) ? [ca] : ca;
  const out: X509Certificate[] = [];
  for (const item of list) {
    const text = typeof item === 'string' ? item : item.toString('latin1');
    const pems = text.match(PEM_CERTIFICATE);
    if (pems === null) out.push(new X509Certificate(item));
    else for (const pem of pems) out.push(new X509Certificate(pem));
  }
  return out;
}
