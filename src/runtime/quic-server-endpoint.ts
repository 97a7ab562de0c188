/**
 * The UDP side of a QUIC server (RFC 9000 §5.2, §14.1): one node:dgram socket and a table of
 * server `QuicConnection`s, each found by the Destination Connection ID of the packets
 * that reach it. Long headers carry the DCID with its length (§17.2); short headers carry ours
 * without one, and ours are always 8 bytes (see QuicConnection), so the first 8 bytes after the
 * first byte are the key (§17.3). An Initial (§17.2.2) with an unknown DCID, in a datagram of
 * at least 1200 bytes (§14.1), starts a new connection while fewer than `maxConnections` are
 * open; anything else unknown is dropped (no version negotiation, Retry or stateless reset).
 *
 * Time: each connection has one {@link TimerHandle} on the {@link TimerWheel}, re-armed to the
 * core's `nextTimeout()` after every input, so no Node timer is made per packet. A connection
 * leaves the table once its core reports the state 'closed' (closing and draining periods
 * included, §10.2), or at once when the endpoint is destroyed.
 *
 * This file knows nothing of HTTP nor of the QUIC core's insides (see {@link QuicEndpointCore}):
 * the owner makes each core and accepts each connection with an
 * {@link QuicEndpointConnectionHandler} that is told of the core's events and decides what to
 * write on its streams.
 */
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import type { TimerHandle, TimerWheel } from './timer-wheel.js';

/**
 * What the endpoint needs of a sans-I/O QUIC server connection; `QuicConnection` (src/quic) is
 * one. Kept structural so that this runtime layer imports no protocol core.
 */
export interface QuicEndpointCore<E> {
  /** Our connection id: 8 bytes. */
  readonly sourceConnectionId: Uint8Array;
  readonly state: string;
  receiveDatagram(datagram: Uint8Array, now: number): E[];
  pollDatagrams(now: number): Uint8Array[];
  nextTimeout(): number | undefined;
  onTimeout(now: number): E[];
  close(errorCode?: bigint, reason?: string): void;
}

/** Length of the connection ids our server connections choose (QuicConnection's CID_LENGTH). */
const SERVER_CID_LENGTH = 8;
/** RFC 9000 §14.1: a client's first Initial arrives in a datagram of at least this many bytes. */
const MIN_INITIAL_DATAGRAM = 1200;
const QUIC_VERSION_1 = 0x00000001;

/** Options of a {@link QuicServerEndpoint}. */
export interface QuicServerEndpointOptions<C> {
  /** Makes the core of a new server connection (it may throw: the Initial is then dropped). Required. */
  createConnection: () => C;
  /** Connections open at once; Initials beyond them are dropped. Required. */
  maxConnections: number;
  /** The wheel every connection's timer goes on; its clock is the connections' clock. Required. */
  wheel: TimerWheel;
  /** 'udp4' or 'udp6'. Default: 'udp6' when the host contains ':', else 'udp4'. */
  type?: 'udp4' | 'udp6';
}

/** What the owner of the endpoint does with one connection. */
export interface QuicEndpointConnectionHandler<E> {
  /** Events of the core, after each input; the handler may write streams (flushed afterwards). */
  onEvents(events: E[]): void;
  /** The connection left the table (closed, or the endpoint was destroyed). */
  onClosed(): void;
}

/** One connection of the endpoint: the core and where its peer is. */
export class QuicEndpointConnection<C extends QuicEndpointCore<E>, E> {
  readonly quic: C;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** @internal */ handler: QuicEndpointConnectionHandler<E> | undefined;
  /** @internal */ timer: TimerHandle | undefined;
  /** @internal The table keys under which it is registered. */ readonly keys: string[] = [];
  /** @internal */ removed = false;
  /** @internal */ readonly endpoint: QuicServerEndpoint<C, E>;
  private flushQueued = false;

  constructor(endpoint: QuicServerEndpoint<C, E>, quic: C, address: string, port: number) {
    this.endpoint = endpoint;
    this.quic = quic;
    this.remoteAddress = address;
    this.remotePort = port;
  }

  /** Sends what the core has to send and re-arms the timer, in a microtask (writes coalesce). */
  scheduleFlush(): void {
    if (this.flushQueued || this.removed) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.endpoint.flush(this);
    });
  }

  /** Sends what the core has to send and re-arms the timer, now. */
  flush(): void {
    this.endpoint.flush(this);
  }
}

/** A UDP socket serving QUIC server connections (see the file comment). */
export class QuicServerEndpoint<C extends QuicEndpointCore<E>, E> {
  private readonly options: QuicServerEndpointOptions<C>;
  private readonly accept: (conn: QuicEndpointConnection<C, E>) => QuicEndpointConnectionHandler<E>;
  private socket: dgram.Socket | undefined;
  private readonly table = new Map<string, QuicEndpointConnection<C, E>>();
  private readonly connections = new Set<QuicEndpointConnection<C, E>>();
  private accepting = true;
  private emptied: (() => void) | undefined;

  constructor(
    options: QuicServerEndpointOptions<C>,
    accept: (conn: QuicEndpointConnection<C, E>) => QuicEndpointConnectionHandler<E>,
  ) {
    this.options = options;
    this.accept = accept;
  }

  /** Connections in the table. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The UDP socket, once bound. */
  get udpSocket(): dgram.Socket | undefined {
    return this.socket;
  }

  /** Binds the UDP socket; resolves with the bound port. */
  bind(port: number, host: string): Promise<number> {
    const type = this.options.type ?? (host.includes(':') ? 'udp6' : 'udp4');
    const socket = dgram.createSocket({ type });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        // A send or receive error concerns one datagram: QUIC recovers from loss.
        socket.on('error', () => {});
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
        resolve(socket.address().port);
      });
    });
  }

  /** Stops creating connections; the open ones go on. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Every connection, for graceful shutdown by the owner. */
  get all(): Iterable<QuicEndpointConnection<C, E>> {
    return this.connections;
  }

  /** Resolves once the table is empty (each connection closed), then closes the socket. */
  close(): Promise<void> {
    this.accepting = false;
    return new Promise<void>((resolve) => {
      const done = () => {
        const socket = this.socket;
        this.socket = undefined;
        if (socket === undefined) resolve();
        else socket.close(() => resolve());
      };
      if (this.connections.size === 0) done();
      else this.emptied = done;
    });
  }

  /**
   * Sends CONNECTION_CLOSE (`errorCode`, application close) on every connection and drops them
   * all from the table without waiting for the closing period (RFC 9000 §10.2 allows discarding
   * the state early).
   */
  destroy(errorCode: bigint): void {
    for (const conn of [...this.connections]) {
      conn.quic.close(errorCode, 'server shutting down');
      this.send(conn, conn.quic.pollDatagrams(this.options.wheel.now()));
      this.remove(conn);
    }
  }

  /** @internal Sends the core's datagrams, re-arms its timer, removes it once closed. */
  flush(conn: QuicEndpointConnection<C, E>): void {
    if (conn.removed) return;
    const wheel = this.options.wheel;
    const now = wheel.now();
    this.send(conn, conn.quic.pollDatagrams(now));
    if (conn.quic.state === 'closed') {
      this.remove(conn);
      return;
    }
    const at = conn.quic.nextTimeout();
    if (at === undefined) {
      if (conn.timer !== undefined) wheel.cancel(conn.timer);
      return;
    }
    const delay = Math.max(0, at - now);
    if (conn.timer === undefined)
      conn.timer = wheel.schedule(
        delay,
        onConnectionTimer,
        conn as QuicEndpointConnection<QuicEndpointCore<unknown>, unknown>,
      );
    else wheel.reschedule(conn.timer, delay);
  }

  /** @internal The connection's timer fired. */
  timeout(conn: QuicEndpointConnection<C, E>): void {
    if (conn.removed) return;
    const events = conn.quic.onTimeout(this.options.wheel.now());
    if (events.length > 0) conn.handler?.onEvents(events);
    this.flush(conn);
  }

  private send(conn: QuicEndpointConnection<C, E>, datagrams: Uint8Array[]): void {
    const socket = this.socket;
    if (socket === undefined) return;
    for (const d of datagrams) socket.send(d, conn.remotePort, conn.remoteAddress);
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (msg.length === 0) return;
    const long = (msg[0]! & 0x80) !== 0;
    let key: string;
    if (long) {
      // RFC 9000 §17.2: first byte, version (4), DCID length (1), DCID.
      if (msg.length < 6) return;
      const dcidLength = msg[5]!;
      if (dcidLength > 20 || msg.length < 6 + dcidLength) return;
      key = msg.toString('latin1', 6, 6 + dcidLength);
    } else {
      if (msg.length < 1 + SERVER_CID_LENGTH) return;
      key = msg.toString('latin1', 1, 1 + SERVER_CID_LENGTH);
    }
    let conn = this.table.get(key);
    if (conn === undefined) {
      if (!long || !this.isNewInitial(msg)) return;
      conn = this.open(key, address, port);
      if (conn === undefined) return;
    }
    const events = conn.quic.receiveDatagram(msg, this.options.wheel.now());
    if (events.length > 0) conn.handler?.onEvents(events);
    this.flush(conn);
  }

  /** A v1 Initial (§17.2.2) in a full-sized datagram (§14.1), while we accept connections. */
  private isNewInitial(msg: Buffer): boolean {
    if (!this.accepting || this.connections.size >= this.options.maxConnections) return false;
    if (msg.length < MIN_INITIAL_DATAGRAM) return false;
    if (msg.readUInt32BE(1) !== QUIC_VERSION_1) return false;
    return (msg[0]! & 0x30) >> 4 === 0;
  }

  private open(
    originalDcid: string,
    address: string,
    port: number,
  ): QuicEndpointConnection<C, E> | undefined {
    let quic: C;
    try {
      quic = this.options.createConnection();
    } catch {
      return undefined;
    }
    const conn = new QuicEndpointConnection(this, quic, address, port);
    const ours = Buffer.from(quic.sourceConnectionId).toString('latin1');
    for (const key of [originalDcid, ours]) {
      if (!conn.keys.includes(key)) {
        conn.keys.push(key);
        this.table.set(key, conn);
      }
    }
    this.connections.add(conn);
    conn.handler = this.accept(conn);
    return conn;
  }

  private remove(conn: QuicEndpointConnection<C, E>): void {
    if (conn.removed) return;
    conn.removed = true;
    if (conn.timer !== undefined) this.options.wheel.cancel(conn.timer);
    for (const key of conn.keys) if (this.table.get(key) === conn) this.table.delete(key);
    this.connections.delete(conn);
    conn.handler?.onClosed();
    if (this.connections.size === 0 && this.emptied !== undefined) {
      const emptied = this.emptied;
      this.emptied = undefined;
      emptied();
    }
  }
}

function onConnectionTimer(conn: QuicEndpointConnection<QuicEndpointCore<unknown>, unknown>): void {
  conn.endpoint.timeout(conn);
}
