/**
 * HttpServerSpan: the SERVER span of one request, with the OpenTelemetry HTTP semantic-convention
 * attributes (see http-span-attributes.ts) kept as typed fields instead of a `[key, value, ...]`
 * list. The tracing middleware fills the fields when the request starts and {@link finish}
 * when its response ends; the list form ({@link attributes}) is built only when someone reads
 * it. Two spans of the same route, client and response status then differ only in ids and
 * times, which {@link encodesLike} tells with a few field comparisons, and the exporter copies
 * the previous span's encoding instead of writing every attribute again: at a hundred percent
 * sampling, this is most of what tracing a small request costs.
 */
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from './http-span-attributes.js';
import { type AttributeValue, Span, SpanStatusCode } from './span.js';

/** The request facts a server span records (each `''`, 0 or undefined when absent). */
export interface HttpServerSpanFacts {
  /** `http.request.method`: the method, or `_OTHER` for one outside RFC 9110's. */
  method: string;
  /** `http.request.method_original`, when `method` is `_OTHER`. */
  methodOriginal: string | undefined;
  /** `url.path`. */
  path: string;
  /** `url.query`, without `?`; `''` for none. */
  query: string;
  /** `url.scheme`: `http` or `https`. */
  scheme: string;
  /** `network.protocol.version`: `1.0`, `1.1`, `2` or `3`. */
  protocolVersion: string;
  /** `server.address`, from Host; `''` for none. */
  serverAddress: string;
  /** `server.port`, from Host; 0 for none. */
  serverPort: number;
  /** `client.address`; `''` for none. */
  clientAddress: string;
  /** `user_agent.original`. */
  userAgent: string | undefined;
}

/**
 * The last `{method} {route}` name made, so that every span of a route shares one string and
 * {@link HttpServerSpan.encodesLike} compares names by identity.
 */
let lastNameMethod = '';
let lastNameRoute = '';
let lastName = '';

function spanName(method: string, route: string): string {
  if (method !== lastNameMethod || route !== lastNameRoute) {
    lastNameMethod = method;
    lastNameRoute = route;
    lastName = `${method === '_OTHER' ? 'HTTP' : method} ${route}`;
  }
  return lastName;
}

/** The SERVER span of one HTTP request (see the file comment). */
export class HttpServerSpan extends Span implements HttpServerSpanFacts {
  method = '';
  methodOriginal: string | undefined = undefined;
  path = '';
  query = '';
  scheme = '';
  protocolVersion = '';
  serverAddress = '';
  serverPort = 0;
  clientAddress = '';
  userAgent: string | undefined = undefined;
  /** `http.route`: the matched route template, once known. */
  route: string | undefined = undefined;
  /** `http.response.status_code`; 0 until {@link finish}. */
  responseStatus = 0;

  /**
   * Ends the span for a response: records the route and status, names the span
   * `{method} {route}`, and marks 5xx responses as errors (`error.type` is the status code).
   */
  finish(status: number, route: string | undefined, endTime?: number): void {
    if (this.endTime !== 0) return;
    if (route !== undefined) {
      this.route = route;
      this.name = spanName(this.method, route);
    }
    this.responseStatus = status;
    if (status >= 500) this.setStatus(SpanStatusCode.Error);
    this.end(endTime);
  }

  /** The semantic-convention attributes, then the ones set with `setAttribute`. */
  override get attributes(): readonly (string | AttributeValue)[] {
    if (!this.recording) return this.attributeList;
    const a: (string | AttributeValue)[] = [
      ATTR_HTTP_REQUEST_METHOD,
      this.method,
      ATTR_URL_PATH,
      this.path,
      ATTR_URL_SCHEME,
      this.scheme,
      ATTR_NETWORK_PROTOCOL_VERSION,
      this.protocolVersion,
    ];
    if (this.methodOriginal !== undefined) a.push(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, this.methodOriginal);
    if (this.query !== '') a.push(ATTR_URL_QUERY, this.query);
    if (this.serverAddress !== '') a.push(ATTR_SERVER_ADDRESS, this.serverAddress);
    if (this.serverPort !== 0) a.push(ATTR_SERVER_PORT, this.serverPort);
    if (this.clientAddress !== '') a.push(ATTR_CLIENT_ADDRESS, this.clientAddress);
    if (this.userAgent !== undefined) a.push(ATTR_USER_AGENT_ORIGINAL, this.userAgent);
    if (this.route !== undefined) a.push(ATTR_HTTP_ROUTE, this.route);
    if (this.responseStatus !== 0) {
      a.push(ATTR_HTTP_RESPONSE_STATUS_CODE, this.responseStatus);
      if (this.responseStatus >= 500) a.push(ATTR_ERROR_TYPE, String(this.responseStatus));
    }
    const extra = this.attributeList;
    for (let i = 0; i < extra.length; i++) a.push(extra[i]!);
    return a;
  }

  override encodesLike(other: Span): boolean {
    if (!(other instanceof HttpServerSpan)) return false;
    // Most likely to differ first: the path, then the status and route.
    return (
      other.path === this.path &&
      other.responseStatus === this.responseStatus &&
      other.route === this.route &&
      other.method === this.method &&
      other.query === this.query &&
      other.scheme === this.scheme &&
      other.protocolVersion === this.protocolVersion &&
      other.serverAddress === this.serverAddress &&
      other.serverPort === this.serverPort &&
      other.clientAddress === this.clientAddress &&
      other.userAgent === this.userAgent &&
      other.methodOriginal === this.methodOriginal &&
      super.encodesLike(other)
    );
  }
}
