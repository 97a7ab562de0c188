/**
 * The HTTP/3 listener of a server with `http3` on (RFC 9114 §3): a {@link QuicServerEndpoint}
 * on the TCP listener's port number, UDP, whose connections are QUIC servers with ALPN `h3`
 * (RFC 9114 §3.1) and the server's TLS certificate and key, each served by an
 * {@link H3ServerConnection} running the app.
 */
import type { KeyObject } from 'node:crypto';
import { QuicConnection, type QuicConnectionEvent } from '../quic/quic-connection.js';
import { QuicServerEndpoint } from '../runtime/quic-server-endpoint.js';
import type { App } from './app.js';
import { H3ServerConnection } from './h3-server-connection.js';
import { type Http3Config, Http3ConfigError, type ServerConfig, type TlsOptions } from './server-config.js';

/** The ALPN token of HTTP/3 (RFC 9114 §3.1). */
const H3_ALPN = 'h3';

/** Serves an app over HTTP/3 on one UDP port. */
export class H3Listener {
  private readonly endpoint: QuicServerEndpoint<QuicConnection, QuicConnectionEvent>;
  private readonly connections = new Set<H3ServerConnection>();

  constructor(app: App, config: ServerConfig, http3: Http3Config, tls: TlsOptions) {
    const certificateChain = certificatesOf(tls.cert);
    const privateKey = keyOf(tls.key);
    if (certificateChain.length === 0 || privateKey === undefined) {
      throw new Http3ConfigError('http3 needs tls.cert and tls.key (PEM); pfx is not supported for QUIC');
    }
    this.endpoint = new QuicServerEndpoint<QuicConnection, QuicConnectionEvent>(
      {
        createConnection: () =>
          new QuicConnection({
            role: 'server',
            tls: { certificateChain, privateKey, alpnProtocols: [H3_ALPN] },
            maxIdleTimeout: http3.idleTimeoutMs,
            // Flow-control credit goes back as request bodies are read (H3ServerConnection).
            manualCredit: true,
          }),
        maxConnections: http3.maxConnections,
        wheel: config.wheel,
      },
      (conn) => {
        const h3 = new H3ServerConnection(conn, app, config.wheel, this.endpoint.udpSocket);
        this.connections.add(h3);
        h3.onClose = (c) => this.connections.delete(c);
        return h3;
      },
    );
  }

  /** QUIC connections open. */
  get connectionCount(): number {
    return this.endpoint.connectionCount;
  }

  /** Binds the UDP socket on `port` (the TCP listener's) and `host`. */
  bind(port: number, host: string): Promise<number> {
    return this.endpoint.bind(port, host);
  }

  /**
   * Graceful shutdown: no new connections, GOAWAY on each, CONNECTION_CLOSE once its requests
   * are done. Resolves when every connection has closed and the socket too.
   */
  close(): Promise<void> {
    this.endpoint.stopAccepting();
    for (const conn of [...this.connections]) conn.shutdown();
    return this.endpoint.close();
  }

  /** Closes every connection at once (CONNECTION_CLOSE H3_NO_ERROR) and the socket. */
  destroy(): Promise<void> {
    this.endpoint.destroy(0x100n);
    return this.endpoint.close();
  }
}

/** The certificates of `tls.cert`: each PEM block of each entry. */
function certificatesOf(cert: TlsOptions['cert']): string[] {
  if (cert === undefined) return [];
  const out: string[] = [];
  for (const entry of Array.isArray(cert) ? cert : [cert]) {
    const text = typeof entry === 'string' ? entry : entry.toString('latin1');
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (blocks !== null) out.push(...blocks);
  }
  return out;
}

/** The first key of `tls.key` (encrypted keys are not supported here). */
function keyOf(key: TlsOptions['key']): string | Buffer | KeyObject | undefined {
  if (key === undefined) return undefined;
  const first = Array.isArray(key) ? key[0] : key;
  if (first === undefined) return undefined;
  if (typeof first === 'string' || Buffer.isBuffer(first)) return first;
  if (typeof first === 'object' && 'pem' in first) return first.pem as string | Buffer;
  return undefined;
}
