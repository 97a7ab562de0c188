/**
 * The typed errors of the HTTP client. Every way a request can fail has its own class and a
 * stable `code`, so callers can tell a timeout from a refused connection from a malformed
 * response without parsing messages. Each error names the origin it concerns.
 */
import { AvxError, type AvxErrorOptions } from '../core/errors.js';

/** Base class of every client error: carries the origin (`http://host:port`) when known. */
export class ClientError extends AvxError {
  /** The origin the request was for, e.g. `http://127.0.0.1:8080`; '' when unknown. */
  readonly origin: string;

  constructor(code: string, message: string, origin = '', options?: AvxErrorOptions) {
    super(code, message, options);
    this.origin = origin;
  }
}

/** The connection could not be established (refused, DNS failure, TLS handshake failure, ...). */
export class ConnectError extends ClientError {
  /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, ...), else ''. */
  readonly errno: string;

  constructor(origin: string, cause: unknown) {
    const errno = String((cause as NodeJS.ErrnoException | undefined)?.code ?? '');
    super(
      'AVX_CLIENT_CONNECT_FAILED',
      `could not connect to ${origin}: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      origin,
      { cause },
    );
    this.errno = errno;
  }
}

/** Establishing the connection (TCP, TLS, proxy tunnel) took longer than `connectTimeout`. */
export class ConnectTimeoutError extends ClientError {
  constructor(origin: string, timeoutMs: number) {
    super('AVX_CLIENT_CONNECT_TIMEOUT', `connecting to ${origin} took longer than ${timeoutMs} ms`, origin);
  }
}

/** The response head did not arrive within `headersTimeout` of the request being sent. */
export class HeadersTimeoutError extends ClientError {
  constructor(origin: string, timeoutMs: number) {
    super(
      'AVX_CLIENT_HEADERS_TIMEOUT',
      `no response head from ${origin} within ${timeoutMs} ms of sending the request`,
      origin,
    );
  }
}

/** The server sent nothing of the response body for `bodyTimeout` while we were reading. */
export class BodyTimeoutError extends ClientError {
  constructor(origin: string, timeoutMs: number) {
    super(
      'AVX_CLIENT_BODY_TIMEOUT',
      `the response body from ${origin} stalled for more than ${timeoutMs} ms`,
      origin,
    );
  }
}

/** The whole exchange (all attempts, until the body ended) took longer than the total `timeout`. */
export class RequestTimeoutError extends ClientError {
  constructor(origin: string, timeoutMs: number) {
    super('AVX_CLIENT_REQUEST_TIMEOUT', `the request to ${origin} took longer than ${timeoutMs} ms`, origin);
  }
}

/** The request's `AbortSignal` fired; `cause` is the signal's reason. */
export class RequestAbortedError extends ClientError {
  constructor(origin: string, reason?: unknown) {
    super('AVX_CLIENT_REQUEST_ABORTED', `the request to ${origin} was aborted`, origin, { cause: reason });
  }
}

/** The connection closed or failed before the response was complete. */
export class ConnectionClosedError extends ClientError {
  constructor(origin: string, message: string, cause?: unknown) {
    super('AVX_CLIENT_CONNECTION_CLOSED', message, origin, cause === undefined ? undefined : { cause });
  }
}

/** The server's response broke HTTP/1.1 (`cause` is the parser's `H1ParseError`). */
export class ResponseParseError extends ClientError {
  constructor(origin: string, cause: unknown) {
    super(
      'AVX_CLIENT_INVALID_RESPONSE',
      `invalid response from ${origin}: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      origin,
      { cause },
    );
  }
}

/** Every connection of the origin is busy and the wait queue is full (`maxQueued`). */
export class PoolExhaustedError extends ClientError {
  /** The queue bound that was reached. */
  readonly maxQueued: number;

  constructor(origin: string, maxQueued: number) {
    super(
      'AVX_CLIENT_POOL_EXHAUSTED',
      `every connection to ${origin} is busy and ${maxQueued} requests already wait`,
      origin,
    );
    this.maxQueued = maxQueued;
  }
}

/** The client was closed or destroyed: no new request is accepted, queued ones are failed. */
export class ClientClosedError extends ClientError {
  constructor(origin = '', message = 'the client is closed') {
    super('AVX_CLIENT_CLOSED', message, origin);
  }
}

/** The request given to the client is unusable (bad URL, unsupported protocol, bad body). */
export class InvalidRequestError extends ClientError {
  constructor(message: string, origin = '', cause?: unknown) {
    super('AVX_CLIENT_INVALID_REQUEST', message, origin, cause === undefined ? undefined : { cause });
  }
}

/**
 * The request's header section is larger than the server takes: over the
 * SETTINGS_MAX_HEADER_LIST_SIZE it announced over HTTP/2 (RFC 9113 §6.5.2). It was not sent.
 */
export class RequestHeadersTooLargeError extends ClientError {
  constructor(origin: string, cause: unknown) {
    super(
      'AVX_CLIENT_REQUEST_HEADERS_TOO_LARGE',
      `the request headers exceed what ${origin} accepts: ${cause instanceof Error ? cause.message : String(cause)}`,
      origin,
      { cause },
    );
  }
}

/** Reading the request body (a stream or async iterable) failed while sending it. */
export class RequestBodyError extends ClientError {
  constructor(origin: string, cause: unknown) {
    super(
      'AVX_CLIENT_REQUEST_BODY_FAILED',
      `the request body failed while being sent to ${origin}: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      origin,
      { cause },
    );
  }
}

/** More redirects than `maxRedirects` were followed (RFC 9110 §15.4 warns of cycles). */
export class TooManyRedirectsError extends ClientError {
  readonly maxRedirects: number;

  constructor(origin: string, maxRedirects: number) {
    super('AVX_CLIENT_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects`, origin);
    this.maxRedirects = maxRedirects;
  }
}

/** A compressed response body does not decode (`cause` is the zlib error). */
export class DecompressionError extends ClientError {
  constructor(origin: string, encoding: string, cause: unknown) {
    super(
      'AVX_CLIENT_DECOMPRESSION_FAILED',
      `the ${encoding} response body from ${origin} does not decode: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      origin,
      { cause },
    );
  }
}

/** The proxy refused or failed the CONNECT tunnel (RFC 9110 §9.3.6). */
export class ProxyConnectError extends ClientError {
  /** The proxy's status code, or 0 when it sent no usable response. */
  readonly status: number;

  constructor(origin: string, status: number, message: string, cause?: unknown) {
    super('AVX_CLIENT_PROXY_CONNECT_FAILED', message, origin, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}

/** A redirect arrived for a request made with `redirect: 'error'`. */
export class UnexpectedRedirectError extends ClientError {
  /** The redirect's status code. */
  readonly status: number;
  /** The Location it pointed to. */
  readonly location: string;

  constructor(origin: string, status: number, location: string) {
    super(
      'AVX_CLIENT_UNEXPECTED_REDIRECT',
      `redirect ${status} to ${location} while redirects are refused`,
      origin,
    );
    this.status = status;
    this.location = location;
  }
}
