/**
 * The built-in client instruments, fed by the client's `node:diagnostics_channel` events
 * (src/client/client-diagnostics.ts):
 * - `http_client_requests_total{origin,method,status}` (counter; `status` is the code, or
 *   `error` when the attempt failed before a response)
 * - `http_client_request_duration_seconds{origin,method}` (histogram, attempt start to the end
 *   of the response body, or to the failure)
 * - `http_client_open_connections{origin}` (gauge, from connection open/close events)
 * - `http_client_pool_connections{origin,state}` (gauge: `active`, `idle`, `connecting` and
 *   `pending` requests, read from the clients given to {@link ClientMetrics.observe} at scrape)
 * - `http_client_cache_requests_total{origin,result}` (counter: what `cachePolicy()` did with a
 *   request: `hit`, `miss`, `revalidated`, `stale`, `stale-if-error`, `bypass`, `unavailable`)
 * - `http_client_regional_events_total{origin,event}` (counter: `regionalFailover()`'s
 *   `failover`, `hedge-sent`, `hedge-won` and `all-failed`)
 * Every client of the process is counted (the events are process-wide).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type {
  ClientCacheMessage,
  ClientRegionalMessage,
  ClientRequestMessage,
} from '../../client/client-diagnostics.js';
import { methodLabel } from '../http-label-values.js';
import type { Counter } from './counter.js';
import type { Gauge } from './gauge.js';
import { DEFAULT_BUCKETS, type Histogram } from './histogram.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** What the pool gauges read from a client (`Client.stats(origin)`). */
export interface PoolStatsSource {
  stats(origin?: string): { active: number; idle: number; connecting: number; pending: number };
}

/** Options of the client instruments. */
export interface ClientMetricsOptions {
  /** Buckets of the duration histogram, in seconds. Default {@link DEFAULT_BUCKETS}. */
  durationBuckets?: readonly number[];
  /** Most series per metric. Default 1000. */
  maxSeries?: number;
}

/** Client request, connection and pool instruments in a registry. */
export class ClientMetrics {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly openConnections: Gauge;
  readonly pool: Gauge;
  readonly cache: Counter;
  readonly regional: Counter;
  private readonly clients = new Set<PoolStatsSource>();
  private readonly origins = new Set<string>();
  private readonly onFinish = (message: unknown) => this.record(message as ClientRequestMessage, false);
  private readonly onError = (message: unknown) => this.record(message as ClientRequestMessage, true);
  private readonly onOpen = (message: unknown) => {
    const origin = (message as { origin: string }).origin;
    this.origins.add(origin);
    this.openConnections.child(origin).inc();
  };
  private readonly onClose = (message: unknown) =>
    this.openConnections.child((message as { origin: string }).origin).dec();
  private readonly onCache = (message: unknown) => {
    const m = message as ClientCacheMessage;
    this.cache.child(m.origin, m.result).inc();
  };
  private readonly onRegional = (message: unknown) => {
    const m = message as ClientRegionalMessage;
    this.regional.child(m.origin, m.event).inc();
  };
  /** The start channel must have a subscriber for the exchange to publish the others. */
  private readonly onStart = () => {};

  constructor(registry: MetricsRegistry, options: ClientMetricsOptions = {}) {
    const maxSeries = options.maxSeries ?? 1000;
    this.requests = registry.counter({
      name: 'http_client_requests_total',
      help: 'HTTP client request attempts, by origin, method and response status',
      labelNames: ['origin', 'method', 'status'],
      maxSeries,
    });
    this.duration = registry.histogram({
      name: 'http_client_request_duration_seconds',
      help: 'HTTP client attempt duration, to the end of the response body, in seconds',
      labelNames: ['origin', 'method'],
      buckets: options.durationBuckets ?? DEFAULT_BUCKETS,
      maxSeries,
    });
    this.openConnections = registry.gauge({
      name: 'http_client_open_connections',
      help: 'Open client connections, by origin',
      labelNames: ['origin'],
      maxSeries,
    });
    this.pool = registry.gauge({
      name: 'http_client_pool_connections',
      help: 'Client pool state by origin: active and idle connections, connecting, pending requests',
      labelNames: ['origin', 'state'],
      maxSeries,
      collect: (gauge) => {
        for (const origin of this.origins) {
          let active = 0;
          let idle = 0;
          let connecting = 0;
          let pending = 0;
          for (const client of this.clients) {
            const s = client.stats(origin);
            active += s.active;
            idle += s.idle;
            connecting += s.connecting;
            pending += s.pending;
          }
          gauge.child(origin, 'active').set(active);
          gauge.child(origin, 'idle').set(idle);
          gauge.child(origin, 'connecting').set(connecting);
          gauge.child(origin, 'pending').set(pending);
        }
      },
    });
    this.cache = registry.counter({
      name: 'http_client_cache_requests_total',
      help: 'Requests the client cache handled, by origin and outcome (hit, miss, revalidated, ...)',
      labelNames: ['origin', 'result'],
      maxSeries,
    });
    this.regional = registry.counter({
      name: 'http_client_regional_events_total',
      help: 'Regional failover events, by origin: failover, hedge-sent, hedge-won, all-failed',
      labelNames: ['origin', 'event'],
      maxSeries,
    });
    subscribe('avx:client:cache', this.onCache);
    subscribe('avx:client:regional', this.onRegional);
    subscribe('avx:client:request:start', this.onStart);
    subscribe('avx:client:request:finish', this.onFinish);
    subscribe('avx:client:request:error', this.onError);
    subscribe('avx:client:connection:open', this.onOpen);
    subscribe('avx:client:connection:close', this.onClose);
  }

  /** Adds a client whose pools the `http_client_pool_connections` gauge reports. */
  observe(client: PoolStatsSource): void {
    this.clients.add(client);
  }

  /** Stops listening to the client's events. */
  close(): void {
    unsubscribe('avx:client:cache', this.onCache);
    unsubscribe('avx:client:regional', this.onRegional);
    unsubscribe('avx:client:request:start', this.onStart);
    unsubscribe('avx:client:request:finish', this.onFinish);
    unsubscribe('avx:client:request:error', this.onError);
    unsubscribe('avx:client:connection:open', this.onOpen);
    unsubscribe('avx:client:connection:close', this.onClose);
  }

  private record(message: ClientRequestMessage, failed: boolean): void {
    const origin = message.origin;
    const method = methodLabel(message.request.method);
    const response = message.response;
    const status = response !== undefined ? statusText(response.status) : failed ? 'error' : '0';
    this.requests.child(origin, method, status).inc();
    this.duration.child(origin, method).observe((performance.now() - message.startTime) / 1000);
  }
}

const STATUS_TEXT: string[] = [];
/** The status code as a label value, from a table (no number-to-string per request). */
function statusText(status: number): string {
  if (status < 0 || status > 999) return 'error';
  let text = STATUS_TEXT[status];
  if (text === undefined) {
    text = String(status);
    STATUS_TEXT[status] = text;
  }
  return text;
}
