/**
 * The built-in server instruments, fed by the server's `node:diagnostics_channel` events
 * (src/server/server-diagnostics.ts) for connections and streams, and by the app's connections
 * for finished responses (`ResponseFinishObserver`, through the `metrics()` middleware):
 * - `http_server_requests_total{method,route,status_class}` (counter)
 * - `http_server_request_duration_seconds{method,route,status_class}` (histogram)
 * - `http_server_request_size_bytes{method,route}`, `http_server_response_size_bytes{method,route}`
 * - `http_server_active_connections{protocol}` (gauge; every server of the process)
 * - `http_server_active_streams{protocol}` (gauge) and `http_server_streams_total{protocol}`
 *   (counter): HTTP/2 streams, requests and pushes alike (every server of the process)
 * - `http_server_stream_resets_total{protocol,error_code}` (counter): streams that ended with
 *   RST_STREAM, by error-code name (RFC 9113 §7)
 * The route label is the route template (`/users/:id`, never the raw path), `(unmatched)` when no
 * route matched; methods outside RFC 9110 are `_OTHER` (OTel HTTP semconv).
 *
 * The `metrics()` middleware records the requests its app reports finished: those the app
 * dispatched first (`App.responseFinished`), so several apps in one process keep their own
 * counts, and a request is counted wherever the middleware sits in the chain.
 * Recording notes three numbers per request in a column of pending samples; they are applied
 * to the series in batches, and always before the registry is read (see
 * {@link ServerMetrics.record}). A new series is found through two Map lookups and an array
 * index: no allocation once the (method, route) pair has been seen.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { h2ErrorCodeName } from '../../h2/h2-error-codes.js';
import type { Request } from '../../server/request.js';
import { methodLabel, statusClassLabel, UNMATCHED_ROUTE } from '../http-label-values.js';
import { requestStartTime } from '../request-clock.js';
import type { Counter, CounterSeries } from './counter.js';
import type { Gauge } from './gauge.js';
import { BYTE_SIZE_BUCKETS, DEFAULT_BUCKETS, type Histogram, type HistogramSeries } from './histogram.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** Options of the server instruments. */
export interface ServerMetricsOptions {
  /** Buckets of the duration histogram, in seconds. Default {@link DEFAULT_BUCKETS}. */
  durationBuckets?: readonly number[];
  /** Buckets of the size histograms, in bytes. Default {@link BYTE_SIZE_BUCKETS}. */
  sizeBuckets?: readonly number[];
  /** Most series per metric. Default 1000. */
  maxSeries?: number;
}

/** The series of one (method, route, status class). */
interface StatusSeries {
  requests: CounterSeries;
  duration: HistogramSeries;
}

/** The series of one (method, route). */
class RouteSeries {
  readonly byClass: (StatusSeries | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  constructor(
    readonly requestSize: HistogramSeries,
    readonly responseSize: HistogramSeries,
  ) {}
}

/** Finished requests noted before they are applied to the series (see ServerMetrics.record). */
const PENDING_SAMPLES = 256;

interface ConnectionMessage {
  protocol: string;
}

interface StreamMessage {
  protocol: string;
  errorCode: number;
}

/** Server request and connection instruments in a registry. */
export class ServerMetrics {
  readonly requests;
  readonly duration: Histogram;
  readonly requestSize: Histogram;
  readonly responseSize: Histogram;
  readonly activeConnections: Gauge;
  private readonly table = new Map<string, Map<string, RouteSeries>>();
  /** The series the last request was recorded in, and its method, route and status class. */
  private lastMethod = '';
  private lastRoute = '';
  private lastClass = -1;
  private lastSeries: RouteSeries | undefined = undefined;
  private lastStatusSeries: StatusSeries | undefined = undefined;
  /** Samples of the current series not yet applied: duration (ms), bytes in, bytes out. */
  private readonly pending = new Float64Array(3 * PENDING_SAMPLES);
  private pendingCount = 0;
  private readonly onOpen = (message: unknown) =>
    this.activeConnections.child((message as ConnectionMessage).protocol).inc();
  private readonly onClose = (message: unknown) =>
    this.activeConnections.child((message as ConnectionMessage).protocol).dec();
  readonly activeStreams: Gauge;
  readonly streams: Counter;
  readonly streamResets: Counter;
  private readonly onStreamOpen = (message: unknown) => {
    const protocol = (message as StreamMessage).protocol;
    this.activeStreams.child(protocol).inc();
    this.streams.child(protocol).inc();
  };
  private readonly onStreamClose = (message: unknown) => {
    const { protocol, errorCode } = message as StreamMessage;
    this.activeStreams.child(protocol).dec();
    if (errorCode !== 0) this.streamResets.child(protocol, h2ErrorCodeName(errorCode)).inc();
  };

  constructor(registry: MetricsRegistry, options: ServerMetricsOptions = {}) {
    const maxSeries = options.maxSeries ?? 1000;
    this.requests = registry.counter({
      name: 'http_server_requests_total',
      help: 'HTTP requests answered, by method, route template and status class',
      labelNames: ['method', 'route', 'status_class'],
      maxSeries,
      // Any read of the registry runs the collect hooks first: the pending samples are in.
      collect: () => this.applyPending(),
    });
    this.duration = registry.histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Time from the request head to the last byte of the response, in seconds',
      labelNames: ['method', 'route', 'status_class'],
      buckets: options.durationBuckets ?? DEFAULT_BUCKETS,
      maxSeries,
    });
    const sizeBuckets = options.sizeBuckets ?? BYTE_SIZE_BUCKETS;
    this.requestSize = registry.histogram({
      name: 'http_server_request_size_bytes',
      help: 'Request body sizes, in bytes',
      labelNames: ['method', 'route'],
      buckets: sizeBuckets,
      maxSeries,
    });
    this.responseSize = registry.histogram({
      name: 'http_server_response_size_bytes',
      help: 'Response body sizes, in bytes',
      labelNames: ['method', 'route'],
      buckets: sizeBuckets,
      maxSeries,
    });
    this.activeConnections = registry.gauge({
      name: 'http_server_active_connections',
      help: 'Open server connections, by protocol',
      labelNames: ['protocol'],
    });
    this.activeStreams = registry.gauge({
      name: 'http_server_active_streams',
      help: 'Open HTTP/2 streams (requests and pushes), by protocol',
      labelNames: ['protocol'],
    });
    this.streams = registry.counter({
      name: 'http_server_streams_total',
      help: 'HTTP/2 streams opened (requests and pushes), by protocol',
      labelNames: ['protocol'],
    });
    this.streamResets = registry.counter({
      name: 'http_server_stream_resets_total',
      help: 'HTTP/2 streams that ended with RST_STREAM, by protocol and error code',
      labelNames: ['protocol', 'error_code'],
      maxSeries: 64,
    });
    subscribe('avx:server:stream:open', this.onStreamOpen);
    subscribe('avx:server:stream:close', this.onStreamClose);
    subscribe('avx:server:connection:open', this.onOpen);
    subscribe('avx:server:connection:close', this.onClose);
  }

  /** Stops listening to the server's events. */
  close(): void {
    unsubscribe('avx:server:connection:open', this.onOpen);
    unsubscribe('avx:server:connection:close', this.onClose);
    unsubscribe('avx:server:stream:open', this.onStreamOpen);
    unsubscribe('avx:server:stream:close', this.onStreamClose);
  }

  private routeSeries(method: string, route: string): RouteSeries {
    let byRoute = this.table.get(method);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.table.set(method, byRoute);
    }
    let series = byRoute.get(route);
    if (series === undefined) {
      series = new RouteSeries(this.requestSize.child(method, route), this.responseSize.child(method, route));
      byRoute.set(route, series);
    }
    return series;
  }

  private statusSeries(
    series: RouteSeries,
    method: string,
    route: string,
    status: number,
    c: number,
  ): StatusSeries {
    const statusClass = statusClassLabel(status);
    const made = {
      requests: this.requests.child(method, route, statusClass),
      duration: this.duration.child(method, route, statusClass),
    };
    series.byClass[c] = made;
    return made;
  }

  /**
   * Records one finished request: its status, body bytes sent (-1 unknown) and when it ended
   * (`performance.now()`). The `metrics()` middleware calls it when the app's connection
   * reports the response done.
   *
   * The request's three values (duration, bytes received, bytes sent) are only noted here, in
   * a column of pending samples of the current series, and applied to the counter and the
   * histograms in one loop every {@link PENDING_SAMPLES} requests, when the series changes,
   * and before the registry is read (a collect hook). Under load, code run per request slows
   * the rest of the request too (docs/telemetry.md), so the per-request part is kept small.
   */
  record(req: Request, status: number, bytes: number, finishedAt: number): void {
    const route = req.route ?? UNMATCHED_ROUTE;
    const c = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
    // Most requests repeat the last one's (method, route, status class): no lookup then.
    if (req.method !== this.lastMethod || route !== this.lastRoute || c !== this.lastClass) {
      this.switchSeries(req.method, route, status, c);
    }
    // Bytes received; a body the handler left unread counts with its declared Content-Length.
    const body = req.body;
    let received = body.receivedBytes;
    if (received === 0 && body.declaredLength > 0) received = body.declaredLength;
    const at = 3 * this.pendingCount;
    const pending = this.pending;
    pending[at] = finishedAt - requestStartTime(req);
    pending[at + 1] = received;
    pending[at + 2] = bytes;
    if (++this.pendingCount === PENDING_SAMPLES) this.applyPending();
  }

  /** Applies the pending samples, then makes (method, route, class) the current series. */
  private switchSeries(requestMethod: string, route: string, status: number, c: number): void {
    this.applyPending();
    const method = methodLabel(requestMethod);
    const series = this.routeSeries(method, route);
    this.lastStatusSeries = series.byClass[c] ?? this.statusSeries(series, method, route, status, c);
    this.lastSeries = series;
    this.lastMethod = requestMethod;
    this.lastRoute = route;
    this.lastClass = c;
  }

  /** Records the pending samples in the current series (see {@link record}). */
  applyPending(): void {
    const n = this.pendingCount;
    if (n === 0) return;
    this.pendingCount = 0;
    const byStatus = this.lastStatusSeries!;
    const series = this.lastSeries!;
    const pending = this.pending;
    byStatus.requests.inc(n);
    for (let at = 0; at < 3 * n; at += 3) {
      byStatus.duration.observe(pending[at]! / 1000);
      series.requestSize.observe(pending[at + 1]!);
      const sent = pending[at + 2]!;
      if (sent >= 0) series.responseSize.observe(sent);
    }
  }
}
