/**
 * `metrics()`: the one-line way to instrument an app. `app.use(metrics())` counts every request
 * the app serves (server instruments: by method, route template and status class, with duration
 * and size histograms), the process's client requests and pools, process and runtime statistics,
 * and answers `GET /metrics` with the registry:
 * - Prometheus text format 0.0.4 by default,
 * - OpenMetrics 1.0.0 when `Accept` prefers `application/openmetrics-text` (as a Prometheus
 *   server's scrape does),
 * - a JSON snapshot for `Accept: application/json` or `?format=json`.
 * With `cluster: true`, in a node:cluster worker, the scrape shows every worker's metrics,
 * merged through the primary (cluster-metrics-scrape.ts); its body is written once the merge
 * arrives, so the response is streamed. Anywhere else the option changes nothing.
 *
 * `app.use` attaches it (`AppAttachment`) rather than adding a middleware layer: it registers a
 * `GET` (and so `HEAD`) route for the scrape, which the middleware after it in the chain then
 * also sees (authentication, say), and a finish observer. Nothing of it runs as a request
 * starts: the app notes the start time, and the sample is recorded when the app's connection
 * reports the response's end (`onResponseFinish`), for every request the app owns. Used as
 * ordinary middleware elsewhere, it answers the scrape itself.
 */
import type {
  AppAttachment,
  AttachmentHost,
  Middleware,
  Next,
  ResponseFinishObserver,
} from '../../server/handler.js';
import type { Request } from '../../server/request.js';
import { Response } from '../../server/response.js';
import { ClientMetrics, type ClientMetricsOptions, type PoolStatsSource } from './client-metrics.js';
import { type ClusterMetricsOptions, ClusterMetricsScrape } from './cluster-metrics-scrape.js';
import { negotiateExposition } from './exposition-negotiation.js';
import { type ExpositionFormat, MetricsRegistry } from './metrics-registry.js';
import { ProcessMetrics, type ProcessMetricsOptions } from './process-metrics.js';
import { ServerMetrics, type ServerMetricsOptions } from './server-metrics.js';
import { writeSnapshotExposition } from './snapshot-exposition.js';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE } from './text-exposition.js';
import { WebSocketMetrics } from './websocket-metrics.js';

/** Options of {@link metrics}. */
export interface MetricsOptions {
  /** The path that serves the exposition (GET and HEAD). Default `'/metrics'`. */
  path?: string;
  /** The registry to record into and expose. Default: a new {@link MetricsRegistry}. */
  registry?: MetricsRegistry;
  /** Server request and connection instruments, or `false`. Default: on. */
  server?: ServerMetricsOptions | boolean;
  /** Client request, connection and pool instruments, or `false`. Default: on. */
  client?: ClientMetricsOptions | boolean;
  /** Clients whose pools `http_client_pool_connections` reports. Default: none. */
  clients?: PoolStatsSource[];
  /** Process, heap, event-loop and GC instruments, or `false`. Default: on. */
  process?: ProcessMetricsOptions | boolean;
  /** WebSocket connection instruments, or `false`. Default: on. */
  websocket?: boolean;
  /**
   * In a node:cluster worker, answer scrapes with the metrics of every worker, merged (the
   * primary must run `aggregateClusterMetrics()`; `avx serve` does). `true` or options
   * (`name`, `timeout`: default 2000 ms). Outside a worker it changes nothing. Default: off.
   */
  cluster?: ClusterMetricsOptions | boolean;
}

/** The middleware {@link metrics} returns, with its instruments. */
export interface MetricsMiddleware extends Middleware, ResponseFinishObserver, AppAttachment {
  readonly registry: MetricsRegistry;
  readonly server: ServerMetrics | undefined;
  readonly client: ClientMetrics | undefined;
  readonly process: ProcessMetrics | undefined;
  readonly websocket: WebSocketMetrics | undefined;
  /** The registry's link to the cluster's primary, with `cluster` in a worker. */
  readonly cluster: ClusterMetricsScrape | undefined;
  /** Stops listening to lifecycle events and the process monitors. */
  close(): void;
}

/** Instruments an app and serves its metrics (see the file comment). */
export function metrics(options: MetricsOptions = {}): MetricsMiddleware {
  const path = options.path ?? '/metrics';
  const registry = options.registry ?? new MetricsRegistry();
  const server =
    options.server === false
      ? undefined
      : new ServerMetrics(registry, typeof options.server === 'object' ? options.server : {});
  const client =
    options.client === false
      ? undefined
      : new ClientMetrics(registry, typeof options.client === 'object' ? options.client : {});
  for (const c of options.clients ?? []) client?.observe(c);
  const processMetrics =
    options.process === false
      ? undefined
      : new ProcessMetrics(registry, typeof options.process === 'object' ? options.process : {});

  const websocket = options.websocket === false ? undefined : new WebSocketMetrics(registry);
  const clusterScrape =
    options.cluster && ClusterMetricsScrape.available
      ? new ClusterMetricsScrape(registry, typeof options.cluster === 'object' ? options.cluster : {})
      : undefined;

  const scrape = (req: Request): Response => expositionResponse(registry, req, clusterScrape);
  // The ordinary-middleware form, for use outside `app.use` (which attaches it instead).
  const middleware = (req: Request, next: Next): Response | Promise<Response> => {
    if (req.path === path && (req.method === 'GET' || req.method === 'HEAD')) {
      req.route = path;
      return scrape(req);
    }
    return next();
  };
  const onResponseFinish = (req: Request, status: number, bytes: number, finishedAt: number): void => {
    server?.record(req, status, bytes, finishedAt);
  };
  const instrument = Object.assign(middleware, {
    onResponseFinish,
    // `app.use` attaches it: a GET (and HEAD) route for the scrape and a finish observer, and
    // no middleware layer, so that other requests pay nothing as they start.
    attachTo(app: AttachmentHost): void {
      app.route('GET', path, scrape);
      app.observeFinish(instrument);
    },
    registry,
    server,
    client,
    process: processMetrics,
    websocket,
    cluster: clusterScrape,
    close(): void {
      clusterScrape?.close();
      websocket?.close();
      server?.close();
      client?.close();
      processMetrics?.close();
    },
  });
  return instrument;
}

/**
 * The registry as the response to a scrape, in the negotiated format; with `cluster`, the merge
 * of every worker's registry shared under its name.
 */
export function expositionResponse(
  registry: MetricsRegistry,
  req: Request,
  cluster?: ClusterMetricsScrape,
): Response {
  const format = req.query.get('format') === 'json' ? 'json' : negotiateExposition(req.headers.get('accept'));
  if (cluster !== undefined) return clusterExpositionResponse(cluster, format);
  if (format === 'json') {
    return Response.json(registry.snapshot(), { headers: { vary: 'Accept' } });
  }
  const body = registry.exposition(format);
  return new Response(body, { headers: textExpositionHeaders(format) });
}

/** The header fields of a text exposition. */
function textExpositionHeaders(format: Exclude<ExpositionFormat, 'json'>): Record<string, string> {
  return {
    'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_TEXT_CONTENT_TYPE,
    vary: 'Accept',
    'cache-control': 'no-store',
  };
}

/**
 * The cluster-wide exposition: the same headers as a single process's, and a body that waits
 * for the merge (the middleware's scrape branch stays synchronous). Nothing is asked of the
 * primary until the body is read, so a HEAD scrape costs no collection.
 */
function clusterExpositionResponse(cluster: ClusterMetricsScrape, format: ExpositionFormat): Response {
  const body = (async function* () {
    const snapshot = await cluster.snapshot();
    yield format === 'json' ? JSON.stringify(snapshot) : writeSnapshotExposition(snapshot, format);
  })();
  const headers =
    format === 'json'
      ? { 'content-type': 'application/json; charset=utf-8', vary: 'Accept' }
      : textExpositionHeaders(format);
  return new Response(body, { headers });
}
