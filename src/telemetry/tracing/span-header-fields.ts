/**
 * SpanHeaderFields: the four request header fields a SERVER span reads (Host, User-Agent,
 * `traceparent`, `tracestate`), found in one scan of the request's field list. Looked up one
 * by one they were four scans per request, a visible part of what tracing a small request
 * costs. Repeated lines are joined with ", " as `Headers.get` joins them (RFC 9110 §5.3).
 *
 * One instance is reused from request to request: {@link read} overwrites it.
 */
import type { Headers } from '../../core/headers.js';

/** The span's header fields of the last request read (undefined where absent). */
export class SpanHeaderFields {
  host: string | undefined = undefined;
  userAgent: string | undefined = undefined;
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;

  /** Reads the fields of `headers` into this object; returns it. */
  read(headers: Headers): this {
    const keys = headers.rawKeys;
    const values = headers.rawValues;
    let host: string | undefined;
    let userAgent: string | undefined;
    let traceparent: string | undefined;
    let tracestate: string | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      // Keys are lowercase; the names the parser knows are the same interned strings.
      if (key === 'host') host = joined(host, values[i]!);
      else if (key === 'user-agent') userAgent = joined(userAgent, values[i]!);
      else if (key === 'traceparent') traceparent = joined(traceparent, values[i]!);
      else if (key === 'tracestate') tracestate = joined(tracestate, values[i]!);
    }
    this.host = host;
    this.userAgent = userAgent;
    this.traceparent = traceparent;
    this.tracestate = tracestate;
    return this;
  }
}

function joined(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}
