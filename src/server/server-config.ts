/**
 * Server options, their defaults, and the resolved configuration the connection drivers read.
 * Timeouts follow node:http's defaults so that moving an app over changes nothing surprising.
 */
import type { SecureContextOptions } from 'node:tls';
import { AvxError } from '../core/errors.js';
import type { H1ParserOptions } from '../h1/h1-types.js';
import type { H2ConnectionOptions } from '../h2/h2-connection-options.js';
import { defaultTimerWheel, type TimerWheel } from '../runtime/timer-wheel.js';

/** TLS settings for {@link ListenOptions.tls}. */
export interface TlsOptions extends SecureContextOptions {
  /** Lowest TLS version accepted. Default 'TLSv1.3'; set 'TLSv1.2' to admit older clients. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** Options of `app.listen()`. Every field is optional. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default '127.0.0.1'; use '0.0.0.0' or '::' to listen on every interface. */
  host?: string;
  /** Listen on a Unix domain socket instead of TCP. */
  path?: string;
  /** Pending-connection queue length. Default 511. */
  backlog?: number;
  /** Serve HTTPS with these certificate and key options (TLS 1.3 minimum by default). */
  tls?: TlsOptions;
  /** Connections open at once; more are refused. Default 10000. */
  maxConnections?: number;
  /** Time to receive a complete request head, in ms (slowloris guard). Default 60000. */
  headersTimeout?: number;
  /** Time to receive a complete request body once its head arrived, in ms. Default 300000. */
  requestTimeout?: number;
  /** Idle time allowed between requests on a kept-alive connection, in ms. Default 5000. */
  keepAliveTimeout?: number;
  /** Requests served on one connection before it is closed; 0 for no limit. Default 0. */
  maxRequestsPerConnection?: number;
  /** Requests a client may pipeline before we stop reading until we catch up. Default 16. */
  maxPipelinedRequests?: number;
  /** Graceful shutdown deadline: connections still busy after it are destroyed, in ms. Default 10000. */
  closeTimeout?: number;
  /** Bytes of a request head. Default 16384 (16 KiB). */
  maxHeaderBytes?: number;
  /** Header fields in a request. Default 100. */
  maxHeaderCount?: number;
  /** Bytes of a request-target. Default 8192 (8 KiB). */
  maxUriLength?: number;
  /** Accept methods outside the registry (answered by the router as usual). Default false (501). */
  acceptAnyMethod?: boolean;
  /**
   * Answer 400 and close when an HTTP/1.1 request has no Host header field (RFC 9112 §3.2),
   * like node:http's `requireHostHeader`. Default true; false admits 1.1 clients that omit
   * it. HTTP/1.0 requests may always omit Host; more than one Host field line, or an invalid
   * Host value, is answered 400 either way.
   */
  requireHostHeader?: boolean;
  /** The timer wheel for every timeout. Default: the process-wide wheel. */
  wheel?: TimerWheel;
  /**
   * HTTP/2 limits (concurrent streams, header list size, frame size, flood thresholds); see
   * `H2ConnectionOptions` for each default. HTTP/2 is offered by ALPN over TLS and accepted
   * with prior knowledge (h2c) on cleartext ports.
   */
  http2?: H2ConnectionOptions;
  /**
   * Also serve HTTP/3 (RFC 9114) over QUIC on the same port number, UDP. Requires `tls` (QUIC
   * carries TLS 1.3; `tls.cert` and `tls.key`, PEM) and a TCP port (not `path`): otherwise
   * `listen` rejects with {@link Http3ConfigError}. When on, HTTP/1.1 and HTTP/2 responses
   * advertise it with `Alt-Svc: h3=":PORT"; ma=86400` (RFC 7838, RFC 9114 §3.1.1). `true` for
   * the defaults, or options. Default false.
   */
  http3?: boolean | Http3Options;
}

/** Options of {@link ListenOptions.http3}. */
export interface Http3Options {
  /** QUIC connections open at once; new ones beyond are dropped. Default 10000. */
  maxConnections?: number;
  /** QUIC idle timeout (RFC 9000 §10.1), ms: an idle connection closes silently. Default 30000. */
  idleTimeoutMs?: number;
}

/** The resolved {@link Http3Options}. */
export interface Http3Config {
  maxConnections: number;
  idleTimeoutMs: number;
}

/** `listen` options that cannot serve HTTP/3. */
export class Http3ConfigError extends AvxError {
  constructor(message: string) {
    super('AVX_HTTP3_CONFIG', message);
  }
}

/** The resolved configuration shared by a server's connections. */
export interface ServerConfig {
  maxConnections: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxRequestsPerConnection: number;
  maxPipelinedRequests: number;
  closeTimeout: number;
  /** See {@link ListenOptions.requireHostHeader}. */
  requireHostHeader: boolean;
  parser: H1ParserOptions;
  wheel: TimerWheel;
  http2: H2ConnectionOptions | undefined;
  /** HTTP/3 settings, or undefined when HTTP/3 is off. */
  http3: Http3Config | undefined;
  /**
   * The `Alt-Svc` value HTTP/1.1 and HTTP/2 responses carry when HTTP/3 is on (RFC 7838 §3,
   * RFC 9114 §3.1.1), set once the port is bound; undefined otherwise. A handler's own Alt-Svc
   * replaces it.
   */
  altSvc: string | undefined;
  /** `Alt-Svc: <altSvc>` CRLF for the HTTP/1.1 head, or `''`. */
  altSvcLine: string;
}

/** Applies the defaults. */
export function resolveServerConfig(options: ListenOptions): ServerConfig {
  return {
    maxConnections: options.maxConnections ?? 10000,
    headersTimeout: options.headersTimeout ?? 60000,
    requestTimeout: options.requestTimeout ?? 300000,
    keepAliveTimeout: options.keepAliveTimeout ?? 5000,
    maxRequestsPerConnection: options.maxRequestsPerConnection ?? 0,
    maxPipelinedRequests: options.maxPipelinedRequests ?? 16,
    closeTimeout: options.closeTimeout ?? 10000,
    requireHostHeader: options.requireHostHeader ?? true,
    parser: {
      maxHeaderBytes: options.maxHeaderBytes ?? 16384,
      maxHeaderCount: options.maxHeaderCount ?? 100,
      maxUriLength: options.maxUriLength ?? 8192,
      acceptAnyMethod: options.acceptAnyMethod ?? false,
    },
    wheel: options.wheel ?? defaultTimerWheel(),
    http2: options.http2,
    http3: resolveHttp3(options),
    altSvc: undefined,
    altSvcLine: '',
  };
}

function resolveHttp3(options: ListenOptions): Http3Config | undefined {
  const h3 = options.http3;
  if (h3 === undefined || h3 === false) return undefined;
  if (options.tls === undefined)
    throw new Http3ConfigError('http3 needs tls: QUIC always carries TLS 1.3 (RFC 9001)');
  if (options.path !== undefined)
    throw new Http3ConfigError('http3 needs a UDP port, not a Unix socket path');
  const o = h3 === true ? {} : h3;
  return { maxConnections: o.maxConnections ?? 10000, idleTimeoutMs: o.idleTimeoutMs ?? 30000 };
}
