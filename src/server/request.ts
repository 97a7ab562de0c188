/**
 * The protocol-neutral request an application sees. HTTP/1.1, HTTP/2 and HTTP/3 drivers all
 * build this same object; nothing here knows which protocol carried it. Costly views (the
 * parsed query, the full URL, the abort signal) are made on first use only.
 */
import type { Headers } from '../core/headers.js';
import type { IncomingBody } from '../core/incoming-body.js';
import type { PushOptions, ServerPush, ServerPushSource } from './server-push.js';

/** The protocol a request arrived over. */
export type RequestProtocol = 'http/1.0' | 'http/1.1' | 'h2' | 'h3';

/** What a driver knows about the connection a request came from. */
export interface RequestConnectionInfo {
  /** Peer address (IPv4 or IPv6 text form), or '' when unknown. */
  remoteAddress: string;
  remotePort: number;
  /** The connection is TLS. */
  secure: boolean;
}

/** The fields a driver supplies to build a {@link Request}. */
export interface RequestInit {
  method: string;
  /** The request-target as received: origin-form (`/a?b`), absolute-form, authority-form or `*`. */
  target: string;
  headers: Headers;
  body: IncomingBody;
  protocol: RequestProtocol;
  connection: RequestConnectionInfo;
  /** The `:authority` (HTTP/2, HTTP/3) when there is no Host field. */
  authority?: string;
  /** Server push for this request (HTTP/2 drivers); absent where pushing is impossible. */
  push?: ServerPushSource;
}

/** An incoming HTTP request. */
export class Request {
  /** The method, as sent (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target exactly as received, e.g. `/users/7?full=1`. */
  readonly url: string;
  /** The path part of the target, without the query, not percent-decoded. */
  readonly path: string;
  readonly headers: Headers;
  /**
   * The body. Middleware may replace it with one derived from it (`requestDecompression()`
   * puts the decoded body here).
   */
  body: IncomingBody;
  /**
   * The body as the connection receives it, the one it delivers bytes to and fails when the
   * client goes away, whatever middleware put in {@link body}.
   */
  readonly receivedBody: IncomingBody;
  readonly protocol: RequestProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The request came over TLS. */
  readonly secure: boolean;
  /** Route parameters (`/users/:id` gives `{ id }`), filled in by the router. */
  params: Record<string, string> = EMPTY_PARAMS;
  /**
   * The pattern of the route that matched (`/users/:id`), set by the app's router; undefined
   * before routing and when no route matched. Telemetry labels requests with it, never the path.
   */
  route: string | undefined = undefined;
  /** Per-request storage for middleware (request ids, the authenticated user, ...). */
  readonly locals: Record<string, unknown> = {};
  /**
   * @internal The built-in instruments' state, as typed fields rather than `locals` entries:
   * those cost a property add (a hidden-class transition) per request and instrument, which
   * was a measurable part of what telemetry costs a small request. `observedBy` is the app
   * whose finish observers (`ResponseFinishObserver`, handler.ts) are told of this request: the
   * first app with observers that dispatched it, which also notes `instrumentedAt`, when it
   * did (`performance.now()` ms; see src/telemetry/request-clock.ts). Both start undefined so
   * that requests nobody instruments do not each get a number box.
   */
  instrumentedAt: number | undefined = undefined;
  /** @internal See {@link instrumentedAt}. */
  observedBy: object | undefined = undefined;
  /**
   * @internal The tracing middleware's mark: the request's server span, when one was made, or
   * a mark that its span was kept as a record as the response ended.
   */
  traceMark: object | undefined = undefined;

  private readonly queryStart: number;
  private readonly authority: string | undefined;
  private readonly pushSource: ServerPushSource | undefined;
  private parsedQuery: URLSearchParams | undefined;
  private abort: AbortController | undefined;
  private abortReason: Error | undefined;

  constructor(init: RequestInit) {
    this.method = init.method;
    this.url = init.target;
    this.headers = init.headers;
    this.body = init.body;
    this.receivedBody = init.body;
    this.protocol = init.protocol;
    this.remoteAddress = init.connection.remoteAddress;
    this.remotePort = init.connection.remotePort;
    this.secure = init.connection.secure;
    this.authority = init.authority;
    this.pushSource = init.push;
    const target = init.target;
    const q = target.indexOf('?');
    this.queryStart = q;
    if (target.charCodeAt(0) === 0x2f /* / */) {
      this.path = q === -1 ? target : target.slice(0, q);
    } else {
      // absolute-form (proxies, RFC 9112 §3.2.2), authority-form (CONNECT) or asterisk-form.
      this.path = pathOfAbsoluteTarget(target, q);
    }
  }

  /** The query string parameters. */
  get query(): URLSearchParams {
    if (this.parsedQuery === undefined) {
      this.parsedQuery = new URLSearchParams(
        this.queryStart === -1 ? '' : this.url.slice(this.queryStart + 1),
      );
    }
    return this.parsedQuery;
  }

  /** The raw query string without the `?`, or ''. */
  get search(): string {
    return this.queryStart === -1 ? '' : this.url.slice(this.queryStart + 1);
  }

  /** The host the request is for: `Host` (RFC 9110 §7.2) or `:authority`. */
  get host(): string {
    return this.headers.getLowercase('host') ?? this.authority ?? '';
  }

  /** The full URL, built from the scheme, the host and the target. */
  get fullUrl(): URL {
    const base = `${this.secure ? 'https' : 'http'}://${this.host || 'localhost'}`;
    return new URL(this.url.charCodeAt(0) === 0x2f ? this.url : this.path, base);
  }

  /** Fires when the client goes away before the response is complete. */
  get signal(): AbortSignal {
    if (this.abort === undefined) {
      this.abort = new AbortController();
      if (this.abortReason !== undefined) this.abort.abort(this.abortReason);
    }
    return this.abort.signal;
  }

  /** Called by the driver when the peer disconnects or resets the stream. */
  markAborted(reason: Error): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.abort?.abort(reason);
    if (!this.receivedBody.settled) this.receivedBody.fail(reason);
    if (!this.body.settled) this.body.fail(reason);
  }

  /** True once the client went away. */
  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /**
   * Server push (RFC 9113 §8.4): promises the response to a GET of `path` (origin-form, e.g.
   * `/style.css`) on this request's HTTP/2 stream and returns the {@link ServerPush} to send it
   * on. Returns null over HTTP/1.1 and HTTP/3, when the client disabled push
   * (SETTINGS_ENABLE_PUSH = 0), at its stream limit, or once this request's response is
   * complete. Throws {@link PushRequestError} for a path or method that cannot be pushed.
   */
  push(path: string, options?: PushOptions): ServerPush | null {
    return this.pushSource === undefined ? null : this.pushSource.push(path, options);
  }

  /** The body as text (UTF-8). */
  text(): Promise<string> {
    return this.body.text();
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): Promise<T> {
    return this.body.json<T>();
  }

  /** The body as one Buffer. */
  bytes(): Promise<Buffer> {
    return this.body.bytes();
  }

  /** The body as an `application/x-www-form-urlencoded` form. */
  form(): Promise<URLSearchParams> {
    return this.body.form();
  }
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function pathOfAbsoluteTarget(target: string, q: number): string {
  if (target === '*') return '*';
  const scheme = target.indexOf('://');
  if (scheme === -1) return target; // authority-form
  const slash = target.indexOf('/', scheme + 3);
  if (slash === -1 || (q !== -1 && slash > q)) return '/';
  return q === -1 ? target.slice(slash) : target.slice(slash, q);
}
