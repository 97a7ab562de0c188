/**
 * `tracing()`: server tracing for an app. For every request it extracts the caller's context
 * from `traceparent` / `tracestate` (W3C Trace Context §3.2, §3.3; an invalid one starts a new
 * trace), starts a SERVER span (sampled per the head sampler), and runs the app's middleware
 * and handler inside it (AsyncLocalStorage), so that client requests made while handling become
 * its children. `app.use(tracing())` attaches it (an AppAttachment): it runs every request of
 * the app in the span's context, around all of the app's middleware whatever their order, and
 * adds no middleware layer. Used as ordinary middleware elsewhere, it runs the rest of the chain
 * in the span's context. The span ends when the app's connection reports the end
 * of the response (`onResponseFinish`), with the OpenTelemetry HTTP semantic-convention
 * attributes (see http-span-attributes.ts) and `error.type` for 5xx responses. Ended, sampled
 * spans are exported over OTLP/HTTP, protobuf or JSON ({@link OtlpHttpExporter}).
 *
 * It installs its tracer as the process default, which clients created with `tracing: true`
 * use to record their spans.
 */
import type {
  AppAttachment,
  AttachmentHost,
  DispatchContext,
  Middleware,
  Next,
  ResponseFinishObserver,
} from '../../server/handler.js';
import type { Request } from '../../server/request.js';
import type { Response } from '../../server/response.js';
import { methodLabel } from '../http-label-values.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import { requestStartTime } from '../request-clock.js';
import type { HttpServerSpan } from './http-server-span.js';
import { type OtelEnvironmentRecord, samplerEnvironment } from './otel-environment.js';
import { type OtlpExporterOptions, OtlpHttpExporter } from './otlp-http-exporter.js';
import { parentBasedSampler, ratioSampler, type Sampler } from './sampler.js';
import { ServerSpanFactsReader } from './server-span-facts.js';
import { type Span, type SpanSink, timeOrigin } from './span.js';
import { SpanHeaderFields } from './span-header-fields.js';
import {
  carryActiveSpan,
  type DeferredSpanSource,
  runWithActiveSpan,
  runWithDeferredSpan,
} from './trace-context-storage.js';
import { newTraceId } from './trace-ids.js';
import { setDefaultTracer, Tracer } from './tracer.js';
import { parseTraceparent, type SpanContext } from './w3c-trace-context.js';
import './client-tracing-policy.js';

/** Options of {@link tracing}. */
export interface TracingOptions {
  /**
   * Where spans go: OTLP/HTTP exporter options, or any {@link SpanSink}. Default: an
   * exporter to `http://127.0.0.1:4318/v1/traces`.
   */
  exporter?: OtlpExporterOptions | SpanSink;
  /**
   * Fraction of new traces sampled, 0..1 (parent-based: callers' decisions are kept). Default:
   * what `OTEL_TRACES_SAMPLER` asks for (see `env`), else 1.
   */
  sampleRatio?: number;
  /** A sampler replacing `sampleRatio`. Default: `parentBasedSampler(ratioSampler(sampleRatio))`. */
  sampler?: Sampler;
  /**
   * Where the OpenTelemetry SDK environment variables are read from (`OTEL_TRACES_SAMPLER`,
   * `OTEL_TRACES_SAMPLER_ARG`, `OTEL_SDK_DISABLED`, and the exporter's, see
   * {@link OtlpExporterOptions.env}), as defaults under these options; `false` reads none.
   * Default `process.env`.
   */
  env?: OtelEnvironmentRecord | false;
  /**
   * When the server span is carried through the handler's async context: `'auto'` once
   * something reads it (a `Client` with `tracing`, or `activeSpan()`), `'always'` from the
   * start. Default `'auto'`; see trace-context-storage.ts.
   */
  context?: 'auto' | 'always';
  /** Trust an incoming `traceparent`. Default true; false makes every request a new trace. */
  extract?: boolean;
  /**
   * A registry to expose exporter counters in (`avx_tracing_spans_exported_total`,
   * `avx_tracing_spans_dropped_total{reason}`: `queue_full`, `export_failed`, `rejected`).
   * Default: none.
   */
  registry?: MetricsRegistry;
}

/** The middleware {@link tracing} returns, with its tracer and exporter. */
export interface TracingMiddleware extends Middleware, ResponseFinishObserver, AppAttachment {
  readonly tracer: Tracer;
  /** The OTLP exporter, when the sink is one. */
  readonly exporter: OtlpHttpExporter | undefined;
  /** Sends every queued span now. */
  flush(): Promise<void>;
  /** Stops tracing new requests, flushes and stops the exporter. */
  close(): Promise<void>;
}

/** Traces an app's requests (see the file comment). */
export function tracing(options: TracingOptions = {}): TracingMiddleware {
  const given = options.exporter;
  const exporter =
    given !== undefined && typeof (given as SpanSink).onEnd === 'function'
      ? undefined
      : new OtlpHttpExporter({ env: options.env, ...(given as OtlpExporterOptions | undefined) });
  const sink: SpanSink = exporter ?? (given as SpanSink);
  // Options in code first, then the environment's sampler, then everything sampled.
  const fromEnv =
    options.sampler !== undefined || options.sampleRatio !== undefined || options.env === false
      ? undefined
      : samplerEnvironment(options.env ?? process.env);
  const sampler =
    options.sampler ?? fromEnv?.sampler ?? parentBasedSampler(ratioSampler(options.sampleRatio ?? 1));
  const tracer = new Tracer(sink, sampler);
  const extract = options.extract ?? true;
  setDefaultTracer(tracer);
  if (options.context === 'always') carryActiveSpan();

  if (exporter !== undefined && options.registry !== undefined) {
    options.registry.counter({
      name: 'avx_tracing_spans_exported_total',
      help: 'Spans the OTLP collector accepted',
      collect: (c) => {
        c.labels().value = exporter.exportedSpans;
      },
    });
    options.registry.counter({
      name: 'avx_tracing_spans_dropped_total',
      help: 'Spans dropped, by reason: queue_full, export_failed, or rejected by the collector',
      labelNames: ['reason'],
      collect: (c) => {
        c.child('queue_full').value = exporter.droppedQueueFull;
        c.child('export_failed').value = exporter.droppedExportFailed;
        c.child('rejected').value = exporter.rejectedSpans;
      },
    });
  }

  // Server spans are deferred (made only if something asks for them, else kept as records
  // when the response ends: server-span-records.ts) when they go to our exporter, whether or
  // not the active span is carried through async context (trace-context-storage.ts).
  const factsAtEnd = new ServerSpanFactsReader();
  const factsAtStart = new ServerSpanFactsReader();
  const headerFields = new SpanHeaderFields();
  // The default sampler records every new trace: no trace id is needed to decide.
  const everyRoot = options.sampler === undefined && (fromEnv?.everyRoot ?? (options.sampleRatio ?? 1) >= 1);

  let closed = false;

  /** Ends the span of `req` (made or deferred) as its response finishes. */
  const onResponseFinish = (request: Request, status: number, _bytes: number, finishedAt: number): void => {
    if (closed) return;
    const marked = request.traceMark;
    if (marked === undefined) {
      // No span was made: the span was deferred, or (used as ordinary middleware) the request
      // was answered before it ran (still one of the app's requests; see App.responseFinished).
      if (exporter !== undefined) {
        record(request, status, finishedAt);
        // Its ids are drawn only when its batch is encoded: a span asked for from here on
        // (work the handler left running after answering) could not be its child.
        request.traceMark = RECORDED;
      }
      return;
    }
    const span = marked as HttpServerSpan;
    if (span.recording) span.finish(status, request.route, timeOrigin + finishedAt);
  };

  /** Queues the deferred span of a finished request, when sampled, as a record. */
  const record = (req: Request, status: number, finishedAt: number): void => {
    const fields = headerFields.read(req.headers);
    const parent = extract ? incomingContext(fields) : undefined;
    let traceId = parent?.traceId;
    if (parent !== undefined || !everyRoot) {
      traceId ??= newTraceId();
      if (!sampler.shouldSample(parent, traceId)) return;
    }
    exporter!.addServerSpan(
      factsAtEnd.read(req, req.route, status, fields),
      parent,
      traceId,
      timeOrigin + requestStartTime(req),
      timeOrigin + finishedAt,
    );
  };

  /** Starts the server span of `req` and notes it on the request. */
  const begin = (req: Request): HttpServerSpan => {
    const fields = headerFields.read(req.headers);
    const parent = extract ? incomingContext(fields) : undefined;
    const method = methodLabel(req.method);
    const span = tracer.startHttpServerSpan(method, parent, timeOrigin + requestStartTime(req));
    req.traceMark = span;
    if (span.recording) factsAtStart.read(req, undefined, 0, fields).applyTo(span);
    return span;
  };

  /**
   * Makes the deferred span of a request the handler asked for (trace-context-storage.ts): a
   * request whose span is deferred has no `req.traceMark` yet. Once its response has ended
   * and it was kept as a record, there is no span to give.
   */
  const deferred: DeferredSpanSource<Request> = {
    spanOf(req) {
      const marked = req.traceMark;
      if (marked === undefined) return begin(req);
      return marked === RECORDED ? undefined : (marked as Span);
    },
  };

  /** Runs `fn(arg)`, the rest of the chain, with the span of `req` active, deferred or made. */
  const enter = <A, R>(req: Request, fn: (arg: A) => R, arg: A): R => {
    // The app noted the start (App.dispatch); the span is made only if someone asks for it.
    if (exporter !== undefined) return runWithDeferredSpan(deferred, req, fn, arg);
    return runWithActiveSpan(begin(req), fn, arg);
  };
  const middleware = (req: Request, next: Next): Promise<Response> | Response => enter(req, callNext, next);
  // Attached, the app runs each of its requests in this context, before its first layer.
  const context: DispatchContext = { run: (req, dispatch) => enter(req, dispatch, req) };
  const instrument: ResponseFinishObserver = { onResponseFinish };

  return Object.assign(middleware, {
    onResponseFinish,
    attachTo(app: AttachmentHost): void {
      app.observeFinish(instrument);
      app.dispatchIn(context);
    },
    tracer,
    exporter,
    flush: async () => {
      await exporter?.flush();
    },
    close: async () => {
      closed = true;
      await exporter?.shutdown();
    },
  });
}

const callNext = (next: Next) => next();

/** `req.traceMark` of a request whose deferred span was kept as a record when it ended. */
const RECORDED: object = Object.freeze({ recorded: true });

/** The caller's context (`traceparent`, `tracestate`), or undefined for a new trace. */
function incomingContext(fields: SpanHeaderFields): SpanContext | undefined {
  const traceparent = fields.traceparent;
  return traceparent === undefined ? undefined : parseTraceparent(traceparent, fields.tracestate);
}
