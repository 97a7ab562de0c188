/**
 * Opens the byte stream a client connection runs on: TCP (or a Unix domain socket), optionally
 * through an HTTP proxy tunnel (`CONNECT`, RFC 9110 §9.3.6), then TLS for `https:` origins
 * (TLS 1.3 by default, RFC 8446; SNI per RFC 6066 §3, never for IP literals; ALPN per RFC 7301,
 * offering `http/1.1`). Connect timeouts are the caller's: it cancels the attempt, which
 * destroys whatever socket is in progress.
 */
import net from 'node:net';
import tls from 'node:tls';
import { H1Parser } from '../h1/h1-parser.js';
import { H1ResponseBody, type H1ResponseHead } from '../h1/h1-types.js';
import { ConnectError, ProxyConnectError } from './client-errors.js';
import type { ProxyTarget } from './proxy-config.js';

/** TLS settings of a client. */
export interface ClientTlsOptions {
  /** Trusted CA certificates (PEM). Default: Node's bundled roots. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate chain (PEM), for mutual TLS. Default: none. */
  cert?: string | Buffer | readonly (string | Buffer)[];
  /** Client private key (PEM). Default: none. */
  key?: string | Buffer | readonly (string | Buffer)[];
  /** Verify the server's certificate and name. Default true. */
  rejectUnauthorized?: boolean;
  /** Server name for SNI and certificate checks. Default: the URL's host name (none for IP literals). */
  servername?: string;
  /** Lowest TLS version. Default `'TLSv1.3'`; set `'TLSv1.2'` to allow TLS 1.2. */
  minVersion?: tls.SecureVersion;
  /** Highest TLS version. Default: Node's (TLS 1.3). */
  maxVersion?: tls.SecureVersion;
  /** ALPN protocols offered. Default `['http/1.1']`. */
  ALPNProtocols?: string[];
}

/** Where and how to connect. */
export interface ConnectTarget {
  /** `http:` or `https:`. */
  protocol: string;
  /** Host name or IP literal (no brackets). */
  hostname: string;
  port: number;
  /** Origin string for errors. */
  origin: string;
  /** Connect to this Unix domain socket instead of `hostname:port`. */
  socketPath: string | undefined;
  /** Proxy to go through, if any. */
  proxy: ProxyTarget | undefined;
  tls: ClientTlsOptions | undefined;
}

/** One connection attempt, which its owner may cancel (on a connect timeout or abort). */
export class ConnectAttempt {
  /** The socket being connected right now. */
  socket: net.Socket | undefined;
  /** Set once cancelled; the attempt then fails with `reason`. */
  reason: Error | undefined;

  /** Stops the attempt: destroys the socket in progress. */
  cancel(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.socket?.destroy();
  }
}

/** Strips the brackets of an IPv6 literal host. */
export function bareHostname(hostname: string): string {
  return hostname.charCodeAt(0) === 0x5b ? hostname.slice(1, -1) : hostname;
}

/** Resolves when `socket` emits `event`; rejects on 'error' or an early 'close'. */
function waitFor(socket: net.Socket, event: string, attempt: ConnectAttempt): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      socket.off(event, onEvent);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(attempt.reason ?? err);
    };
    const onClose = () => {
      cleanup();
      reject(attempt.reason ?? new Error('the socket closed while connecting'));
    };
    socket.on(event, onEvent);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

function tlsOptions(target: ConnectTarget, hostname: string): tls.ConnectionOptions {
  const t = target.tls ?? {};
  const servername = t.servername ?? (net.isIP(hostname) === 0 ? hostname : undefined);
  return {
    ca: t.ca as tls.ConnectionOptions['ca'],
    cert: t.cert as tls.ConnectionOptions['cert'],
    key: t.key as tls.ConnectionOptions['key'],
    rejectUnauthorized: t.rejectUnauthorized ?? true,
    servername,
    minVersion: t.minVersion ?? 'TLSv1.3',
    maxVersion: t.maxVersion,
    ALPNProtocols: t.ALPNProtocols ?? ['http/1.1'],
  };
}

/**
 * Connects to `target`. Rejects with {@link ConnectError} or {@link ProxyConnectError}, or with
 * the attempt's cancel reason.
 */
export async function openConnection(target: ConnectTarget, attempt: ConnectAttempt): Promise<net.Socket> {
  const secure = target.protocol === 'https:';
  const hostname = bareHostname(target.hostname);
  let socket: net.Socket;
  try {
    if (target.socketPath !== undefined) {
      socket = net.connect({ path: target.socketPath });
      attempt.socket = socket;
      await waitFor(socket, 'connect', attempt);
    } else if (target.proxy !== undefined) {
      const proxyUrl = target.proxy.url;
      const proxyHost = bareHostname(proxyUrl.hostname);
      const proxyPort = Number(proxyUrl.port) || (proxyUrl.protocol === 'https:' ? 443 : 80);
      if (proxyUrl.protocol === 'https:') {
        socket = tls.connect({ ...tlsOptions(target, proxyHost), host: proxyHost, port: proxyPort });
        attempt.socket = socket;
        await waitFor(socket, 'secureConnect', attempt);
      } else {
        socket = net.connect({ host: proxyHost, port: proxyPort });
        attempt.socket = socket;
        await waitFor(socket, 'connect', attempt);
      }
      if (secure) await openTunnel(socket, target, hostname, attempt);
    } else if (secure) {
      socket = tls.connect({ ...tlsOptions(target, hostname), host: hostname, port: target.port });
      attempt.socket = socket;
      await waitFor(socket, 'secureConnect', attempt);
      return socket;
    } else {
      socket = net.connect({ host: hostname, port: target.port });
      attempt.socket = socket;
      await waitFor(socket, 'connect', attempt);
      return socket;
    }
    if (secure) {
      // TLS to the origin inside the tunnel (or over the Unix socket).
      const inner = tls.connect({ ...tlsOptions(target, hostname), socket });
      attempt.socket = inner;
      await waitFor(inner, 'secureConnect', attempt);
      return inner;
    }
    return socket;
  } catch (err) {
    attempt.socket?.destroy();
    if (attempt.reason !== undefined) throw attempt.reason;
    if (err instanceof ProxyConnectError) throw err;
    throw new ConnectError(target.origin, err);
  }
}

/** RFC 9110 §9.3.6: `CONNECT host:port`, then any 2xx turns the connection into a tunnel. */
async function openTunnel(
  socket: net.Socket,
  target: ConnectTarget,
  hostname: string,
  attempt: ConnectAttempt,
): Promise<void> {
  const proxy = target.proxy!;
  // RFC 9112 §3.2.3: authority-form; an IPv6 literal keeps its brackets.
  const authority = `${net.isIPv6(hostname) ? `[${hostname}]` : hostname}:${target.port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n`;
  if (proxy.authorization !== undefined) head += `proxy-authorization: ${proxy.authorization}\r\n`;
  for (let i = 0; i < proxy.headers.length; i += 2)
    head += `${proxy.headers[i]}: ${proxy.headers[i + 1]}\r\n`;
  head += '\r\n';
  await new Promise<void>((resolve, reject) => {
    let status = 0;
    let done = false;
    const parser = new H1Parser<H1ResponseHead>('response', {
      onHead(h) {
        if (h.status < 200) return undefined;
        status = h.status;
        return status < 300 ? H1ResponseBody.Tunnel : H1ResponseBody.None;
      },
      onBody() {},
      onTrailers() {},
      onMessageComplete() {
        if (status !== 0) done = true;
      },
    });
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      let used: number;
      try {
        used = parser.execute(chunk);
      } catch (err) {
        cleanup();
        reject(new ProxyConnectError(target.origin, 0, 'the proxy sent an invalid response to CONNECT', err));
        return;
      }
      if (!done) return;
      cleanup();
      socket.pause();
      if (status < 200 || status >= 300) {
        reject(
          new ProxyConnectError(
            target.origin,
            status,
            `the proxy refused CONNECT ${authority} with status ${status}`,
          ),
        );
      } else if (used < chunk.length) {
        reject(
          new ProxyConnectError(target.origin, status, 'the proxy sent data before the tunnel was used'),
        );
      } else {
        resolve();
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(
        attempt.reason ??
          new ProxyConnectError(target.origin, 0, `proxy connection failed: ${err.message}`, err),
      );
    };
    const onClose = () => {
      cleanup();
      reject(
        attempt.reason ??
          new ProxyConnectError(target.origin, 0, 'the proxy closed the connection during CONNECT'),
      );
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(head, 'latin1');
  });
}
