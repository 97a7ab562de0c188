/**
 * Client tracing as dispatch middleware, the innermost policy (so each attempt, after redirects
 * and retries, is one CLIENT span): it starts a span that is the child of the active span (see
 * trace-context-storage.ts), injects `traceparent` / `tracestate` (W3C Trace Context §3.2, §3.3)
 * into the request, and leaves the span for the `avx:client:*` diagnostics subscriber below to
 * finish: status code at the response head, end at the end of the body, `error.type` on failure.
 * Handing the span over through the synchronous start event costs no closure per request.
 * Without an active span, a `traceparent` the caller set on the request is the parent. Without a
 * tracer (or with `record: false`) it only propagates the context.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequestMessage } from '../../client/client-diagnostics.js';
import type { ClientRequest } from '../../client/client-request.js';
import type { ClientResponse } from '../../client/client-response.js';
import { installClientTracing, type TracingClientOptions } from '../../client/client-tracing.js';
import type { Dispatch, DispatchMiddleware } from '../../client/dispatch.js';
import { methodLabel } from '../http-label-values.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from './http-span-attributes.js';
import { type Span, SpanKind, SpanStatusCode } from './span.js';
import { activeSpan, carryActiveSpan } from './trace-context-storage.js';
import { defaultTracer } from './tracer.js';
import { formatTraceparent, parseTraceparent, type SpanContext } from './w3c-trace-context.js';

/** The span being dispatched right now, claimed synchronously by the start event. */
let pendingSpan: Span | undefined;

function onStart(message: unknown): void {
  if (pendingSpan === undefined) return;
  (message as ClientRequestMessage).span = pendingSpan;
  pendingSpan = undefined;
}

function onHeaders(message: unknown): void {
  const m = message as ClientRequestMessage;
  const span = m.span as Span | undefined;
  if (span === undefined || m.response === undefined) return;
  const status = m.response.status;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 400) {
    span.setAttribute(ATTR_ERROR_TYPE, String(status));
    span.setStatus(SpanStatusCode.Error);
  }
}

function onFinish(message: unknown): void {
  (message as ClientRequestMessage & { span: Span | undefined }).span?.end();
}

function onError(message: unknown): void {
  const m = message as ClientRequestMessage;
  const span = m.span as Span | undefined;
  if (span === undefined) return;
  const error = m.error;
  if (span.attribute(ATTR_ERROR_TYPE) === undefined) {
    span.setAttribute(
      ATTR_ERROR_TYPE,
      (error as { code?: string } | undefined)?.code ?? error?.name ?? 'Error',
    );
  }
  span.setStatus(SpanStatusCode.Error, error?.message ?? '');
  span.end();
}

let subscribed = false;
function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('avx:client:request:start', onStart);
  subscribe('avx:client:response:headers', onHeaders);
  subscribe('avx:client:request:finish', onFinish);
  subscribe('avx:client:request:error', onError);
}

function inject(request: ClientRequest, context: SpanContext): void {
  request.headers.set('traceparent', formatTraceparent(context));
  if (context.traceState !== undefined) request.headers.set('tracestate', context.traceState);
  else request.headers.delete('tracestate');
}

/** The client tracing dispatch policy. */
export function clientTracingPolicy(options: TracingClientOptions = {}): DispatchMiddleware {
  const record = options.record ?? true;
  subscribeOnce();
  // This client reads the active span: servers in this process must carry it from now on.
  carryActiveSpan();
  return (request: ClientRequest, next: Dispatch): Promise<ClientResponse> => {
    // The active span, else a traceparent the caller put on the request itself.
    const parent =
      activeSpan() ?? parseTraceparent(request.headers.get('traceparent'), request.headers.get('tracestate'));
    const tracer = record ? defaultTracer() : undefined;
    if (tracer === undefined) {
      if (parent !== undefined) inject(request, parent);
      return next(request);
    }
    const method = methodLabel(request.method);
    const span = tracer.startSpan(method === '_OTHER' ? 'HTTP' : method, SpanKind.Client, parent);
    if (span.recording) {
      const url = request.url;
      span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
      if (method === '_OTHER') span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, request.method);
      span.setAttribute(ATTR_URL_FULL, url.href);
      span.setAttribute(ATTR_SERVER_ADDRESS, url.hostname);
      span.setAttribute(ATTR_SERVER_PORT, Number(url.port) || (url.protocol === 'https:' ? 443 : 80));
    }
    inject(request, span);
    pendingSpan = span;
    try {
      return next(request);
    } finally {
      if (pendingSpan === span) {
        // No attempt reached the pool (the request failed before): nothing will end it.
        pendingSpan = undefined;
        span.setStatus(SpanStatusCode.Error, 'the request did not reach a connection');
        span.setAttribute(ATTR_ERROR_TYPE, 'AVX_NOT_SENT');
        span.end();
      }
    }
  };
}

installClientTracing(clientTracingPolicy);
