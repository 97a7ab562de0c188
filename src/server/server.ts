/**
 * A listening server: accepts TCP (or TLS, or Unix socket) connections and gives each one an
 * HTTP/1.1 connection driver running the app. Tracks connections for limits and graceful
 * shutdown: `close()` stops accepting, lets in-flight requests finish, closes idle
 * connections at once and destroys whatever is still busy after `closeTimeout`. With `http3`
 * on, an {@link H3Listener} also serves the app over QUIC on the same port number (UDP), and
 * the TCP responses advertise it with Alt-Svc (RFC 7838, RFC 9114 §3.1.1).
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { App } from './app.js';
import { H1ServerConnection } from './h1-server-connection.js';
import { H2ServerConnection } from './h2-server-connection.js';
import { H3Listener } from './h3-listener.js';
import { type ListenOptions, resolveServerConfig, type ServerConfig } from './server-config.js';

export type { Http3Options, ListenOptions, TlsOptions } from './server-config.js';

/** What the server needs of a connection driver (HTTP/1.1 or HTTP/2). */
type ServerConnection = H1ServerConnection | H2ServerConnection;

/** A running server, as `app.listen()` resolves it. */
export class Server {
  /** The bound port (0 for a Unix socket). */
  port = 0;
  /** The bound address. */
  host = '';
  /** True for HTTPS. */
  readonly secure: boolean;

  /** The app as the TCP drivers see it (with Alt-Svc when HTTP/3 is on). */
  private readonly app: App;
  private readonly options: ListenOptions;
  /** The HTTP/3 listener, with `http3` on. */
  private readonly h3: H3Listener | undefined;
  private readonly config: ServerConfig;
  private readonly net: NetServer;
  private readonly connections = new Set<ServerConnection>();
  /** Upgraded sockets (WebSocket, ...) and what to call on graceful shutdown. */
  private readonly upgraded = new Map<Socket, (() => void) | undefined>();
  private readonly upgrades = {
    adopt: (socket: Socket) => {
      this.upgraded.set(socket, undefined);
      socket.once('close', () => {
        this.upgraded.delete(socket);
        if (this.closing !== undefined && this.connections.size === 0 && this.upgraded.size === 0) {
          this.allClosed?.();
        }
      });
      return (callback: () => void) => {
        if (this.upgraded.has(socket)) this.upgraded.set(socket, callback);
      };
    },
  };
  private closing: Promise<void> | undefined;
  private readonly onConnectionClosed = (conn: ServerConnection) => {
    this.connections.delete(conn);
    if (this.closing !== undefined && this.connections.size === 0 && this.upgraded.size === 0)
      this.allClosed?.();
  };
  private allClosed: (() => void) | undefined;

  constructor(app: App, options: ListenOptions) {
    this.options = options;
    this.config = resolveServerConfig(options);
    this.secure = options.tls !== undefined;
    const http3 = this.config.http3;
    if (http3 !== undefined && options.tls !== undefined) {
      this.h3 = new H3Listener(app, this.config, http3, options.tls);
    }
    this.app = app;
    if (options.tls !== undefined) {
      const tls = options.tls;
      this.net = createTlsServer(
        { ...tls, minVersion: tls.minVersion ?? 'TLSv1.3', ALPNProtocols: ['h2', 'http/1.1'] },
        (socket) => this.accept(socket, true),
      );
      // A failed handshake concerns one client only.
      this.net.on('tlsClientError', (_err, socket) => socket.destroy());
    } else {
      this.net = createServer({ noDelay: true }, (socket) => this.accept(socket, false));
    }
  }

  /** Connections currently open (TCP; see {@link http3ConnectionCount} for QUIC). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** QUIC connections currently open (0 without `http3`). */
  get http3ConnectionCount(): number {
    return this.h3?.connectionCount ?? 0;
  }

  /** Starts listening (TCP, then UDP on the same port number with `http3`). */
  async start(): Promise<void> {
    await this.startTcp();
    if (this.h3 !== undefined) {
      try {
        await this.h3.bind(this.port, this.host);
        // RFC 7838 §3: HTTP/1.1 and HTTP/2 responses name the HTTP/3 endpoint (same port, UDP).
        this.config.altSvc = `h3=":${this.port}"; ma=86400`;
        this.config.altSvcLine = `Alt-Svc: ${this.config.altSvc}\r\n`;
      } catch (err) {
        await new Promise<void>((resolve) => this.net.close(() => resolve()));
        throw err;
      }
    }
  }

  private startTcp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.net.once('error', onError);
      const done = () => {
        this.net.off('error', onError);
        this.net.on('error', () => {});
        const address = this.net.address();
        if (address !== null && typeof address === 'object') {
          this.port = address.port;
          this.host = address.address;
        } else if (typeof address === 'string') {
          this.host = address;
        }
        resolve();
      };
      if (this.options.path !== undefined)
        this.net.listen({ path: this.options.path, backlog: this.options.backlog ?? 511 }, done);
      else
        this.net.listen(
          {
            port: this.options.port ?? 0,
            host: this.options.host ?? '127.0.0.1',
            backlog: this.options.backlog ?? 511,
          },
          done,
        );
    });
  }

  /** The base URL, e.g. `http://127.0.0.1:8080`. */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.secure ? 'https' : 'http'}://${host}:${this.port}`;
  }

  /**
   * Graceful shutdown: stop accepting, finish in-flight requests, close idle connections now,
   * destroy the rest after `closeTimeout`. Resolves when every connection is gone.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      const h3Closed = this.h3?.close();
      const deadline = setTimeout(() => {
        void this.h3?.destroy();
        for (const conn of this.connections) conn.destroy();
        for (const socket of this.upgraded.keys()) socket.destroy();
      }, this.config.closeTimeout);
      deadline.unref();
      const finish = () => {
        this.net.close(() => {
          const done = () => {
            clearTimeout(deadline);
            resolve();
          };
          if (h3Closed === undefined) done();
          else void h3Closed.then(done);
        });
      };
      this.allClosed = finish;
      this.net.close();
      if (this.connections.size === 0 && this.upgraded.size === 0) {
        finish();
        return;
      }
      for (const conn of this.connections) conn.shutdown();
      for (const [socket, shutdown] of this.upgraded) {
        if (shutdown !== undefined) shutdown();
        else socket.end();
      }
    });
    return this.closing;
  }

  /** Destroys every connection and stops listening at once. */
  destroy(): Promise<void> {
    void this.h3?.destroy();
    for (const conn of this.connections) conn.destroy();
    for (const socket of this.upgraded.keys()) socket.destroy();
    return this.close();
  }

  private accept(socket: Socket, secure: boolean): void {
    if (this.closing !== undefined || this.connections.size >= this.config.maxConnections) {
      socket.destroy();
      return;
    }
    if (secure && (socket as TLSSocket).alpnProtocol === 'h2') {
      this.acceptHttp2(socket, secure, undefined, false);
      return;
    }
    const conn = new H1ServerConnection(socket, this.app, this.config, secure, this.upgrades);
    conn.onClose = this.onConnectionClosed;
    conn.onHttp2 = (s, head) => this.acceptHttp2(s, secure, head, true);
    this.connections.add(conn);
  }

  /** Serves `socket` over HTTP/2 (ALPN h2, or h2c prior knowledge handed over by HTTP/1.1). */
  private acceptHttp2(
    socket: Socket,
    secure: boolean,
    head: Buffer | undefined,
    prefaceConsumed: boolean,
  ): void {
    const conn = new H2ServerConnection(socket, this.app, this.config, secure, {
      head,
      prefaceConsumed,
      h2: this.config.http2,
    });
    conn.onClose = this.onConnectionClosed;
    this.connections.add(conn);
    if (this.closing !== undefined) conn.shutdown();
  }
}
