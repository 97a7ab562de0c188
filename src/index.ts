/**
 * avx-http public entry point. Everything a user imports comes from here.
 */

export {
  AltSvcCache,
  type AltSvcCacheOptions,
  type AltSvcEntry,
  type AltSvcField,
  parseAltSvc,
} from './client/alt-svc.js';
export { type AwsCredentialsSource, awsCredentialsFromEnv } from './client/aws/aws-credentials.js';
export { type PresignAwsUrlOptions, presignAwsUrl } from './client/aws/aws-presigned-url.js';
export { AwsSigV4Error, type AwsSigV4ErrorCode } from './client/aws/aws-sigv4-error.js';
export { type AwsSigV4Options, awsSigV4 } from './client/aws/aws-sigv4-policy.js';
export {
  type AwsCredentials,
  EMPTY_PAYLOAD_SHA256,
  MAX_PRESIGN_SECONDS,
  type SigV4HeaderSignature,
  type SigV4Presignature,
  type SigV4Request,
  type SigV4Signature,
  SigV4Signer,
  type SigV4SignerOptions,
  type SigV4SignOptions,
  UNSIGNED_PAYLOAD,
} from './client/aws/sigv4-signer.js';
export { type CacheDirectives, parseCacheControl } from './client/cache/cache-control.js';
export { type CacheOptions, cacheKey, cachePolicy } from './client/cache/cache-policy.js';
export { type CacheStatusParams, formatCacheStatus } from './client/cache/cache-status.js';
export type { CacheStore } from './client/cache/cache-store.js';
export { MemoryCacheStore, type MemoryCacheStoreOptions } from './client/cache/memory-cache-store.js';
export type { StoredResponse } from './client/cache/stored-response.js';
export {
  Client,
  type ClientOptions,
  type ClientRequestOptions,
  type ShortcutOptions,
} from './client/client.js';
export type { ClientRequestMessage } from './client/client-diagnostics.js';
export {
  BodyTimeoutError,
  ClientClosedError,
  ClientError,
  ConnectError,
  ConnectionClosedError,
  ConnectTimeoutError,
  DecompressionError,
  HeadersTimeoutError,
  InvalidRequestError,
  PoolExhaustedError,
  ProxyConnectError,
  RequestAbortedError,
  RequestBodyError,
  RequestHeadersTooLargeError,
  RequestTimeoutError,
  ResponseParseError,
  TooManyRedirectsError,
  UnexpectedRedirectError,
} from './client/client-errors.js';
export type { ClientPush, ClientPushHandler } from './client/client-push.js';
export {
  ClientRequest,
  type RedirectMode,
  type RequestOptions,
  type RequestTimeouts,
} from './client/client-request.js';
export { ClientResponse } from './client/client-response.js';
export type { TracingClientOptions } from './client/client-tracing.js';
export {
  type CompressionChoice,
  CompressionCostModel,
  type RequestCoding,
} from './client/compression/compression-cost-model.js';
export {
  LinkEstimates,
  type LinkEstimatesOptions,
  type LinkSample,
} from './client/compression/link-estimate.js';
export {
  type RequestCompressionOptions,
  type RequestCompressionPolicy,
  requestCompression,
} from './client/compression/request-compression-policy.js';
export type { ClientTlsOptions } from './client/connector.js';
export { type DecompressionOptions, decompressionPolicy } from './client/decompression-policy.js';
export type { Dispatch, DispatchMiddleware } from './client/dispatch.js';
export type { PoolStats } from './client/pool/origin-pool.js';
export { type ProxyOptions, ProxySelector } from './client/proxy-config.js';
export { type RedirectOptions, redirectPolicy } from './client/redirect-policy.js';
export {
  type GeoPoint,
  greatCircleDistanceKm,
  isLatamRegionId,
  LATAM_REGION_PRESETS,
  type LatamRegionId,
  latamRegionPreset,
  orderByDistance,
  type RegionPreset,
} from './client/regional/latam-region-presets.js';
export { Admission, CircuitState, RegionCircuitBreaker } from './client/regional/region-circuit-breaker.js';
export {
  AllRegionsFailedError,
  HedgeCancelledError,
  RegionalOptionsError,
  type RegionFailure,
  UnknownRegionError,
} from './client/regional/regional-errors.js';
export {
  type RegionalCounters,
  type RegionalFailoverMiddleware,
  type RegionalFailoverOptions,
  type RegionalHedgeOptions,
  type RegionEndpoint,
  type RegionHealth,
  regionalFailover,
} from './client/regional/regional-failover.js';
export { RequestBody, type RequestBodyInit } from './client/request-body.js';
export { type RetryOptions, retryPolicy } from './client/retry-policy.js';
export { isFieldValue, isToken } from './core/char-classes.js';
export {
  ContentDecodingError,
  DECODABLE_CODINGS,
  decodedBody,
  parseContentCodings,
} from './core/content-decoding.js';
export { AvxError, InvalidHeaderError, InvalidMethodError, InvalidStatusError } from './core/errors.js';
export {
  Headers,
  type HeadersFromFlatOptions,
  type HeadersInit,
  type HeaderValue,
  normalizeHeaderValue,
  validateHeaderName,
} from './core/headers.js';
export {
  type BodySource,
  BodyTooLargeError,
  BodyUsedError,
  IncomingBody,
  type IncomingBodyOptions,
  InvalidJsonBodyError,
} from './core/incoming-body.js';
export {
  isIdempotentMethod,
  isKnownMethod,
  isSafeMethod,
  KNOWN_METHODS,
  Method,
  validateMethod,
} from './core/method.js';
export {
  isClientError,
  isInformational,
  isRedirection,
  isServerError,
  isSuccessful,
  REGISTERED_STATUS_CODES,
  reasonPhrase,
  Status,
  validateStatus,
} from './core/status.js';
export { ChunkedEncoder } from './h1/chunked-encoder.js';
export type { H1ParseErrorCode } from './h1/h1-parse-error.js';
export { H1ParseError } from './h1/h1-parse-error.js';
export { H1Parser } from './h1/h1-parser.js';
export { type H1FieldLines, serializeRequestHead, serializeResponseHead } from './h1/h1-serializer.js';
export {
  type H1Leniency,
  type H1MessageHead,
  type H1ParserHandler,
  type H1ParserOptions,
  type H1RequestHead,
  H1ResponseBody,
  type H1ResponseHead,
} from './h1/h1-types.js';
export { H2Connection, type H2ConnectionHandler, type H2Role } from './h2/h2-connection.js';
export type { H2ConnectionOptions } from './h2/h2-connection-options.js';
export { H2Error, type H2ErrorKind, HpackError } from './h2/h2-error.js';
export { H2ErrorCode, h2ErrorCodeName } from './h2/h2-error-codes.js';
export { H2FrameParser, type H2FrameSink } from './h2/h2-frame-parser.js';
export { H2Flag, H2FrameType, H2Setting } from './h2/h2-frame-types.js';
export { H2FrameWriter } from './h2/h2-frame-writer.js';
export { H2Stream } from './h2/h2-stream.js';
export { HpackDecoder, type HpackDecoderOptions } from './h2/hpack-decoder.js';
export { HpackDynamicTable } from './h2/hpack-dynamic-table.js';
export { HpackEncoder, type HpackEncoderOptions } from './h2/hpack-encoder.js';
export { HuffmanCodec } from './h2/huffman-codec.js';
export { type PriorityParams, parsePriorityField } from './h2/priority-field.js';
export { H2PriorityScheduler } from './h2/priority-scheduler.js';
export {
  type H3Command,
  H3Connection,
  type H3ConnectionOptions,
  type H3Event,
  type H3Role,
} from './h3/h3-connection.js';
export { H3Error, H3ErrorCode, type H3ErrorScope } from './h3/h3-error.js';
export { H3SettingId, type H3Settings } from './h3/h3-settings.js';
export { QpackDecoder, type QpackDecoderOptions, type QpackFieldSection } from './h3/qpack-decoder.js';
export { QpackDynamicTable } from './h3/qpack-dynamic-table.js';
export { QpackEncoder, type QpackEncoderOptions } from './h3/qpack-encoder.js';
export {
  QpackDecoderStreamError,
  QpackDecompressionError,
  QpackEncoderStreamError,
  QpackError,
  QpackErrorCode,
  type QpackErrorKind,
} from './h3/qpack-error.js';
export { ByteQueue, ByteQueueUnderflowError } from './runtime/byte-queue.js';
export {
  formatHttpDate,
  HttpDateCache,
  HttpDateRangeError,
  httpDate,
  httpDateHeaderLine,
  parseHttpDate,
} from './runtime/http-date.js';
export { RedisError, type RedisErrorCode } from './runtime/resp-connection.js';
export {
  DEFAULT_TICK_MS,
  defaultTimerWheel,
  type TimerCallback,
  TimerHandle,
  TimerWheel,
  TimerWheelError,
  type TimerWheelErrorCode,
  type TimerWheelOptions,
  type TimerWheelTimers,
} from './runtime/timer-wheel.js';
export { App, type AppOptions, statusOf } from './server/app.js';
export { type Closable, type ClusterOptions, runCluster } from './server/cluster.js';
export type { ExtendedConnectContext, ExtendedConnectHandler } from './server/extended-connect.js';
export { H2ServerConnection, H2StreamGoneError } from './server/h2-server-connection.js';
export { H3StreamGoneError } from './server/h3-server-connection.js';
export type {
  AppAttachment,
  AttachmentHost,
  DispatchContext,
  ErrorHandler,
  Handler,
  Middleware,
  Next,
  ObservingMiddleware,
  Proceed,
  ResponseFinishObserver,
} from './server/handler.js';
export { HttpError } from './server/http-error.js';
export {
  type BasicAuthOptions,
  type BearerAuthOptions,
  basicAuth,
  bearerAuth,
} from './server/middleware/auth.js';
export { clientAddressKey } from './server/middleware/client-address-key.js';
export {
  type CompressionCoding,
  type CompressionOptions,
  compression,
} from './server/middleware/compression.js';
export { type CorsOptions, type CorsOrigin, cors } from './server/middleware/cors.js';
export { type LoggerOptions, logger, type RequestLogRecord } from './server/middleware/logger.js';
export {
  MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
} from './server/middleware/memory-rate-limit-store.js';
export { type RateLimitInfo, type RateLimitOptions, rateLimit } from './server/middleware/rate-limit.js';
export {
  type RateLimitCounters,
  RateLimitError,
  type RateLimitErrorCode,
  type RateLimitStore,
} from './server/middleware/rate-limit-store.js';
export {
  RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
} from './server/middleware/redis-rate-limit-store.js';
export {
  type RequestDecompressionOptions,
  requestDecompression,
} from './server/middleware/request-decompression.js';
export { type RequestIdOptions, requestId } from './server/middleware/request-id.js';
export {
  formatSseEvent,
  type SseEvent,
  SseFieldError,
  type SseOptions,
  type SseSource,
  sse,
} from './server/middleware/sse.js';
export { type ServeStaticOptions, serveStatic } from './server/middleware/static-files.js';
export { Request, type RequestInit as ServerRequestInit, type RequestProtocol } from './server/request.js';
export {
  type HandlerResult,
  Response,
  type ResponseBody,
  type ResponseInit as ServerResponseInit,
  toResponse,
} from './server/response.js';
export { RadixRouter } from './server/router/radix-router.js';
export {
  RouteDefinitionError,
  type RouteDefinitionErrorCode,
} from './server/router/route-definition-error.js';
export type { RouteMatch, Router } from './server/router/router.js';
export { type ListenOptions, Server, type TlsOptions } from './server/server.js';
export { Http3ConfigError, type Http3Options } from './server/server-config.js';
export {
  type PushOptions,
  PushRequestError,
  type ServerPush,
  type ServerPushSource,
} from './server/server-push.js';
export type { UpgradeContext, UpgradeHandler } from './server/upgrade.js';
export { fetchHandler, fromWebResponse, toWebRequest } from './server/web-adapter.js';
export {
  ClientMetrics,
  type ClientMetricsOptions,
  type PoolStatsSource,
} from './telemetry/metrics/client-metrics.js';
export {
  aggregateClusterMetrics,
  ClusterMetricsAggregator,
  type ClusterMetricsAggregatorOptions,
} from './telemetry/metrics/cluster-metrics-aggregator.js';
export {
  ClusterMetricsError,
  type ClusterMetricsErrorCode,
} from './telemetry/metrics/cluster-metrics-error.js';
export {
  type ClusterMetricsOptions,
  ClusterMetricsScrape,
  DEFAULT_CLUSTER_SCRAPE_TIMEOUT,
} from './telemetry/metrics/cluster-metrics-scrape.js';
export { Counter, type CounterOptions, CounterSeries } from './telemetry/metrics/counter.js';
export {
  Gauge,
  type GaugeAggregation,
  type GaugeOptions,
  GaugeSeries,
} from './telemetry/metrics/gauge.js';
export {
  BYTE_SIZE_BUCKETS,
  DEFAULT_BUCKETS,
  exponentialBuckets,
  Histogram,
  type HistogramOptions,
  HistogramSeries,
  linearBuckets,
} from './telemetry/metrics/histogram.js';
export type { MetricOptions, MetricSeries, MetricType } from './telemetry/metrics/metric.js';
export {
  MetricDefinitionError,
  type MetricDefinitionErrorCode,
} from './telemetry/metrics/metric-definition-error.js';
export {
  expositionResponse,
  type MetricsMiddleware,
  type MetricsOptions,
  metrics,
} from './telemetry/metrics/metrics-middleware.js';
export { type ExpositionFormat, MetricsRegistry } from './telemetry/metrics/metrics-registry.js';
export type {
  MetricFamilySnapshot,
  MetricsSnapshot,
  SeriesSnapshot,
} from './telemetry/metrics/metrics-snapshot.js';
export {
  contributionOf,
  type MetricsContribution,
  mergeMetricsSnapshots,
} from './telemetry/metrics/metrics-snapshot-merge.js';
export { ProcessMetrics, type ProcessMetricsOptions } from './telemetry/metrics/process-metrics.js';
export { ServerMetrics, type ServerMetricsOptions } from './telemetry/metrics/server-metrics.js';
export { writeSnapshotExposition } from './telemetry/metrics/snapshot-exposition.js';
export {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_TEXT_CONTENT_TYPE,
} from './telemetry/metrics/text-exposition.js';
export { HttpServerSpan, type HttpServerSpanFacts } from './telemetry/tracing/http-server-span.js';
export type { OtelEnvironmentRecord } from './telemetry/tracing/otel-environment.js';
export {
  OtlpExportError,
  type OtlpExporterOptions,
  OtlpHttpExporter,
} from './telemetry/tracing/otlp-http-exporter.js';
export {
  type OtlpCompression,
  type OtlpProtocol,
  OtlpProtocolError,
} from './telemetry/tracing/otlp-protocol.js';
export { parentBasedSampler, ratioSampler, type Sampler } from './telemetry/tracing/sampler.js';
export {
  type AttributeValue,
  Span,
  SpanKind,
  type SpanSink,
  SpanStatusCode,
} from './telemetry/tracing/span.js';
export { activeSpan, carryActiveSpan } from './telemetry/tracing/trace-context-storage.js';
export { defaultTracer, Tracer } from './telemetry/tracing/tracer.js';
export {
  type TracingMiddleware,
  type TracingOptions,
  tracing,
} from './telemetry/tracing/tracing-middleware.js';
export {
  formatTraceparent,
  parseTraceparent,
  type SpanContext,
  validTracestate,
} from './telemetry/tracing/w3c-trace-context.js';
export { VERSION } from './version.js';
export type { PerMessageDeflateOptions } from './ws/per-message-deflate.js';
export {
  WebSocket,
  type WebSocketEvents,
  type WebSocketMessage,
  type WebSocketSendOptions,
} from './ws/websocket.js';
export type { WebSocketOptions } from './ws/websocket-options.js';
export { broadcast } from './ws/ws-broadcast.js';
export type { WebSocketConnectOptions, WebSocketTlsOptions } from './ws/ws-client-handshake.js';
export { WsCloseCode } from './ws/ws-close-code.js';
export { WsConnection } from './ws/ws-connection.js';
export {
  WsClosedError,
  WsHandshakeError,
  WsHeartbeatTimeoutError,
  WsProtocolError,
  WsStreamResetError,
  WsUsageError,
} from './ws/ws-errors.js';
export { WsFrameParser } from './ws/ws-frame-parser.js';
export { WsFrameWriter } from './ws/ws-frame-writer.js';
export {
  acceptWebSocket,
  acceptWebSocketOverH2,
  type WebSocketHandler,
  WebSocketRoutes,
  type WebSocketServerOptions,
} from './ws/ws-server.js';
