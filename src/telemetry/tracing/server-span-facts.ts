/**
 * The facts a request's SERVER span records (OpenTelemetry HTTP semantic conventions, see
 * http-span-attributes.ts), read off the request and its response into one object. Requests
 * in a row usually share every one of them (same route, status, client, Host and user agent),
 * so {@link ServerSpanFactsReader} hands out the previous object again while they do: a span
 * kept as a record (server-span-records.ts) then holds one reference instead of a dozen
 * strings, and the exporter knows from that reference alone that two spans encode alike
 * except for their ids and times.
 */
import type { Request } from '../../server/request.js';
import { methodLabel } from '../http-label-values.js';
import type { HttpServerSpan, HttpServerSpanFacts } from './http-server-span.js';
import type { SpanHeaderFields } from './span-header-fields.js';

/** A request's server-span facts, with the route and status of its response. */
export class ServerSpanFacts implements HttpServerSpanFacts {
  readonly method: string;
  readonly methodOriginal: string | undefined;
  readonly path: string;
  readonly query: string;
  readonly scheme: string;
  readonly protocolVersion: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly clientAddress: string;
  readonly userAgent: string | undefined;
  /** `http.route`, when a route matched. */
  readonly route: string | undefined;
  /** `http.response.status_code`; 0 before the response. */
  readonly responseStatus: number;
  /**
   * What the facts were read from, as the request has it: the same-as-last check compares
   * these, most of them the very same string objects from request to request.
   */
  readonly target: string;
  readonly host: string;
  readonly requestMethod: string;
  readonly secure: boolean;
  readonly protocol: string;

  constructor(
    req: Request,
    host: string,
    serverAddress: string,
    serverPort: number,
    userAgent: string | undefined,
    route: string | undefined,
    status: number,
  ) {
    this.target = req.url;
    this.host = host;
    this.requestMethod = req.method;
    this.secure = req.secure;
    this.protocol = req.protocol;
    const method = methodLabel(req.method);
    this.method = method;
    this.methodOriginal = method === '_OTHER' ? req.method : undefined;
    this.path = req.path;
    this.query = req.search;
    this.scheme = req.secure ? 'https' : 'http';
    this.protocolVersion = protocolVersion(req.protocol);
    this.serverAddress = serverAddress;
    this.serverPort = serverPort;
    this.clientAddress = req.remoteAddress;
    this.userAgent = userAgent;
    this.route = route;
    this.responseStatus = status;
  }

  /** Copies the request's facts (not the route and status) to `span`. */
  applyTo(span: HttpServerSpan): void {
    span.methodOriginal = this.methodOriginal;
    span.path = this.path;
    span.query = this.query;
    span.scheme = this.scheme;
    span.protocolVersion = this.protocolVersion;
    span.serverAddress = this.serverAddress;
    span.serverPort = this.serverPort;
    span.clientAddress = this.clientAddress;
    span.userAgent = this.userAgent;
  }
}

/** Reads requests' facts, handing out the previous object while they repeat (file comment). */
export class ServerSpanFactsReader {
  private last: ServerSpanFacts | undefined;
  /** Facts objects read before the last one, up to {@link RECENT_FACTS}. */
  private readonly recent: ServerSpanFacts[] = [];
  private nextRecent = 0;
  // The Host of the last request, split into server.address and server.port: it rarely changes.
  private lastHost: string | undefined;
  private lastAddress = '';
  private lastPort = 0;

  /**
   * The facts of `req`, answered with `status` after matching `route`; `fields` are its span
   * header fields, already read.
   */
  read(req: Request, route: string | undefined, status: number, fields: SpanHeaderFields): ServerSpanFacts {
    // No Host field: HTTP/2 and HTTP/3 requests have `:authority` instead.
    const host = fields.host ?? req.host;
    const userAgent = fields.userAgent;
    const f = this.last;
    if (f !== undefined && sameFacts(f, req, route, status, host, userAgent)) return f;
    // Requests of a few routes (or clients) interleave: the last few facts objects are kept,
    // so that each keeps its own (and the exporter's templates for it, server-span-records.ts).
    const recent = this.recent;
    for (let k = 0; k < recent.length; k++) {
      const r = recent[k]!;
      if (sameFacts(r, req, route, status, host, userAgent)) {
        if (f !== undefined) recent[k] = f;
        this.last = r;
        return r;
      }
    }
    if (host !== this.lastHost) this.parseHost(host);
    const made = new ServerSpanFacts(req, host, this.lastAddress, this.lastPort, userAgent, route, status);
    if (f !== undefined) {
      if (recent.length < RECENT_FACTS) recent.push(f);
      else recent[this.nextRecent++ % RECENT_FACTS] = f;
    }
    this.last = made;
    return made;
  }

  private parseHost(host: string): void {
    this.lastHost = host;
    const colon = host.lastIndexOf(':');
    if (colon > host.lastIndexOf(']')) {
      this.lastAddress = host.slice(0, colon);
      const port = Number(host.slice(colon + 1));
      this.lastPort = Number.isInteger(port) && port > 0 && port < 65536 ? port : 0;
    } else {
      this.lastAddress = host;
      this.lastPort = 0;
    }
  }
}

/** Facts objects kept besides the last one (see ServerSpanFactsReader.read). */
const RECENT_FACTS = 8;

/**
 * True when `f` are the facts of `req` answered with `status` on `route`: the target stands for
 * the path and the query, the Host for the server address and port.
 */
function sameFacts(
  f: ServerSpanFacts,
  req: Request,
  route: string | undefined,
  status: number,
  host: string,
  userAgent: string | undefined,
): boolean {
  return (
    f.target === req.url &&
    f.responseStatus === status &&
    f.route === route &&
    f.host === host &&
    f.userAgent === userAgent &&
    f.clientAddress === req.remoteAddress &&
    f.requestMethod === req.method &&
    f.secure === req.secure &&
    f.protocol === req.protocol
  );
}

/** `network.protocol.version` of a request protocol. */
function protocolVersion(protocol: string): string {
  switch (protocol) {
    case 'http/1.0':
      return '1.0';
    case 'h2':
      return '2';
    case 'h3':
      return '3';
    default:
      return '1.1';
  }
}
