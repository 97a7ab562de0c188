/**
 * OtlpHttpExporter: sends ended spans to an OpenTelemetry collector over OTLP/HTTP (`POST {url}`,
 * default path `/v1/traces`; OpenTelemetry Protocol spec "OTLP/HTTP"), with the binary protobuf
 * encoding by default (`content-type: application/x-protobuf`; the batch is encoded by
 * otlp-protobuf-request.ts), or with the JSON encoding (`protocol: 'http/json'`,
 * `content-type: application/json`; everything else is the same). Spans wait in a bounded queue
 * and leave in batches (when a batch is full, or every `scheduleDelay`); the bound counts the
 * spans of exports not yet settled too, so a full queue (a slow or silent collector) drops new
 * spans instead of holding more and more batches. A JSON batch is encoded as it is written, in
 * chunks (otlp-json-batch-body.ts), and kept until the collector answers; with `compression: 'gzip'` it is written gzip-compressed
 * (otlp-json-gzip-body.ts). A failed export is retried with exponential backoff and
 * jitter when the failure is retryable (network errors, 429, 502, 503, 504, honouring
 * `Retry-After`; OTLP/HTTP "Failures"), up to `maxRetries`, after which its spans count as
 * dropped. Counters: exported,
 * dropped because the queue was full, dropped after failed exports.
 */
import { Buffer } from 'node:buffer';
import { gzip } from 'node:zlib';
import type { ChunkedBody } from '../../h1/chunked-body-writer.js';
import { VERSION } from '../../version.js';
import { exporterEnvironment, type OtelEnvironmentRecord } from './otel-environment.js';
import { OtlpJsonBatchBody } from './otlp-json-batch-body.js';
import { exportRequestPrefix, type ResourceAttributes } from './otlp-json-encoding.js';
import { OtlpJsonGzipBatchBody } from './otlp-json-gzip-body.js';
import { OtlpSpanBatch } from './otlp-span-batch.js';
import type { ServerSpanFacts } from './server-span-facts.js';
import type { Span, SpanSink } from './span.js';
import type { SpanContext } from './w3c-trace-context.js';

/** Options of {@link OtlpHttpExporter}. */
export interface OtlpExporterOptions {
  /** The collector's traces endpoint. Default `'http://127.0.0.1:4318/v1/traces'`. */
  url?: string | URL;
  /** Extra header fields (authentication). Default: none. */
  headers?: Record<string, string>;
  /**
   * Resource attributes, merged over those of `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`
   * (see `env`). Default: `{ 'service.name': 'avx-http' }` plus `telemetry.sdk.*`.
   */
  resource?: ResourceAttributes;
  /**
   * Most spans held, waiting to leave or in exports not yet settled (retries included); more
   * are dropped and counted (`droppedQueueFull`). Default 8192 (four full batches).
   */
  maxQueueSize?: number;
  /**
   * Most spans per export request, at most `maxQueueSize` (a larger one is lowered to it, or a
   * batch could never fill). Default 2048, four times the OpenTelemetry SDKs' 512: each POST
   * has a fixed cost besides its bytes, and bench/telemetry-export.ts measured the server's CPU
   * in the exporter per span at 0.66x of 512's with 2048.
   */
  maxBatchSize?: number;
  /** Longest wait before a partial batch is sent, in ms. Default 1000. */
  scheduleDelay?: number;
  /** Timeout of one export request, in ms. Default 10000. */
  timeout?: number;
  /** Retries of a failed export. Default 5. */
  maxRetries?: number;
  /** First retry delay, in ms; doubles per retry (with jitter). Default 500. */
  initialBackoff?: number;
  /** Longest retry delay, in ms. Default 5000. */
  maxBackoff?: number;
  /**
   * The OTLP/HTTP encoding: `'http/protobuf'` (binary, `application/x-protobuf`) or
   * `'http/json'` (JSON Protobuf Encoding, `application/json`). Default `'http/protobuf'`, the
   * OpenTelemetry specification's default for SDK exporters; it is also the cheaper one: about
   * 330 bytes a hello-world span against 780, and in bench/telemetry about 1 to 3.5 points less
   * of the server's throughput.
   */
  protocol?: OtlpProtocol;
  /**
   * Compression of export request bodies: `'gzip'` (`content-encoding: gzip`, which every
   * OTLP/HTTP server must accept) or `'none'`. Default `'none'`, as in the OpenTelemetry SDKs.
   * JSON bodies are compressed as they are encoded, from what the encoder knows repeats from
   * span to span rather than by searching (otlp-json-gzip-body.ts): a hello-world server's
   * batch takes about a sixth of its bytes, for about 0.2 µs more CPU per span than the
   * plain JSON. Protobuf bodies go through node:zlib (level 1) on libuv's thread pool, which
   * costs more CPU: with gzip, `protocol: 'http/json'` is the cheaper choice.
   */
  compression?: OtlpCompression;
  /**
   * Where the OpenTelemetry SDK environment variables are read from, as defaults under these
   * options (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`,
   * `_PROTOCOL`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`; see
   * otel-environment.ts), or `false` to read none. Default `process.env`.
   */
  env?: OtelEnvironmentRecord | false;
}

import type { OtlpExportError } from './otlp-export-error.js';
import { type OtlpAnswer, OtlpHttpConnection } from './otlp-http-connection.js';
import { partialSuccessOf } from './otlp-partial-success.js';
import { OtlpProtobufRequestEncoder } from './otlp-protobuf-request.js';
import {
  type OtlpCompression,
  type OtlpProtocol,
  otlpCompression,
  otlpContentType,
  otlpProtocol,
} from './otlp-protocol.js';

export { OtlpExportError } from './otlp-export-error.js';

/** Batching OTLP/HTTP span exporter (protobuf, or JSON with `protocol: 'http/json'`). */
export class OtlpHttpExporter implements SpanSink {
  readonly url: URL;
  /** Spans the collector accepted. */
  exportedSpans = 0;
  /**
   * Spans the collector answered 2xx for but reported rejected (OTLP "Partial Success":
   * `partial_success.rejected_spans`); such a request is not retried.
   */
  rejectedSpans = 0;
  /** The `error_message` of the last partial success the collector reported, if any. */
  lastRejection: string | undefined = undefined;
  /** Spans dropped because the queue was full. */
  droppedQueueFull = 0;
  /** Spans dropped because their export failed after retries. */
  droppedExportFailed = 0;
  /** Export requests that failed (each retry counts). */
  failedRequests = 0;

  private readonly headers: Record<string, string>;
  private readonly resource: ResourceAttributes;
  private readonly maxQueueSize: number;
  private readonly maxBatchSize: number;
  private readonly scheduleDelay: number;
  private readonly timeout: number;
  private readonly maxRetries: number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly protocol: OtlpProtocol;
  private readonly gzip: boolean;
  /** The batch encoder for `http/protobuf`; undefined for JSON. */
  private readonly protobuf: OtlpProtobufRequestEncoder | undefined;
  /**
   * The batch being filled: ended spans and server-span records, encoded all together when it
   * leaves. Encoding each span as it ended, between one request and the next, measured several
   * times slower than the same encoding in one loop over the batch: between requests the
   * encoder's code and data fall out of the CPU caches. Keeping ended spans until then costs an
   * array slot each.
   */
  private filling = new OtlpSpanBatch();
  /** Batches whose export has settled, to fill again. */
  private readonly idle: OtlpSpanBatch[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Spans in batches whose export has not settled. They count against `maxQueueSize` with the
   * batch being filled: a collector that stops answering would otherwise have batch after
   * batch wait for the connection, without bound.
   */
  private exporting = 0;
  /** The connection to the collector, opened by the first export. */
  private connection: OtlpHttpConnection | undefined;
  private shutDown = false;
  /** The JSON before the spans: resource and scope never change. */
  private readonly prefix: Buffer;
  /** The size the next protobuf body buffer starts with: the largest body so far. */
  private bodyCapacity = 16384;
  /**
   * A protobuf body buffer whose export was accepted, for reuse: a new half-megabyte buffer per
   * batch would count as external memory and bring on full GCs.
   */
  private spare: Buffer | undefined;

  constructor(options: OtlpExporterOptions = {}) {
    const env = options.env === false ? {} : exporterEnvironment(options.env ?? process.env);
    this.url = new URL(options.url ?? env.url ?? 'http://127.0.0.1:4318/v1/traces');
    this.headers = { ...env.headers, ...options.headers };
    this.resource = {
      'service.name': 'avx-http',
      'telemetry.sdk.name': 'avx-http',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.version': VERSION,
      ...env.resource,
      ...options.resource,
    };
    this.maxQueueSize = options.maxQueueSize ?? env.maxQueueSize ?? 8192;
    // A batch larger than the queue would never fill, and leave only by the timer.
    this.maxBatchSize = Math.max(
      1,
      Math.min(options.maxBatchSize ?? env.maxBatchSize ?? 2048, this.maxQueueSize),
    );
    this.scheduleDelay = options.scheduleDelay ?? env.scheduleDelay ?? 1000;
    this.timeout = options.timeout ?? env.timeout ?? 10_000;
    this.maxRetries = options.maxRetries ?? 5;
    this.initialBackoff = options.initialBackoff ?? 500;
    this.maxBackoff = options.maxBackoff ?? 5000;
    this.prefix = Buffer.from(exportRequestPrefix(this.resource, { name: 'avx-http', version: VERSION }));
    this.protocol = otlpProtocol(options.protocol ?? env.protocol);
    this.gzip = otlpCompression(options.compression ?? env.compression) === 'gzip';
    this.protobuf =
      this.protocol === 'http/protobuf'
        ? new OtlpProtobufRequestEncoder(this.resource, { name: 'avx-http', version: VERSION })
        : undefined;
  }

  /**
   * Spans held: waiting for their batch to leave, or in a batch whose export has not settled
   * (sent, waiting for its turn on the connection, or between retries). At most `maxQueueSize`.
   */
  get queued(): number {
    return this.filling.count + this.exporting;
  }

  /** Queues an ended span (SpanSink). */
  onEnd(span: Span): void {
    if (this.refused()) return;
    this.filling.add(span);
    this.queuedOne();
  }

  /**
   * Queues an ended, sampled server span kept as a record (see server-span-records.ts): its
   * facts, parent context, a trace id already drawn (else undefined) and its times.
   */
  addServerSpan(
    facts: ServerSpanFacts,
    parent: SpanContext | undefined,
    traceId: string | undefined,
    startTime: number,
    endTime: number,
  ): void {
    if (this.refused()) return;
    this.filling.records.add(facts, parent, traceId, startTime, endTime);
    this.queuedOne();
  }

  /** True (and counted as dropped) when a span cannot be queued: shut down, or the queue is full. */
  private refused(): boolean {
    if (!this.shutDown && this.queued < this.maxQueueSize) return false;
    this.droppedQueueFull++;
    return true;
  }

  private queuedOne(): void {
    if (this.filling.count >= this.maxBatchSize) this.sendBatch();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.scheduleDelay);
      this.timer.unref();
    }
  }

  /** Sends everything queued and resolves once every export in flight has settled. */
  async flush(): Promise<void> {
    if (this.filling.count > 0) this.sendBatch();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Flushes, then refuses further spans. */
  async shutdown(): Promise<void> {
    await this.flush();
    this.shutDown = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.connection?.close();
    this.connection = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.filling.count > 0) this.sendBatch();
  };

  /**
   * Sends the batch being filled. A JSON body is encoded as it is written (and again for a
   * retry), so its batch is kept until the export settles; a protobuf body, whose lengths come
   * before its contents, is encoded whole now into a reused buffer.
   */
  private sendBatch(): void {
    // The schedule timer, if armed, stays: when it fires it sends what has queued by then, if
    // anything. Clearing it here and arming a new one for the next span cost a timer per batch.
    const batch = this.filling;
    this.filling = this.idle.pop() ?? new OtlpSpanBatch();
    const count = batch.count;
    this.exporting += count;
    const protobuf = this.protobuf;
    if (protobuf === undefined) {
      // Ids drawn once, for this encoding and any retry's (the protobuf encoder draws its own).
      batch.seal();
      const body = this.gzip
        ? new OtlpJsonGzipBatchBody(this.prefix, batch)
        : new OtlpJsonBatchBody(this.prefix, batch);
      const job = this.exportWithRetry(body, count).then(() => {
        this.inFlight.delete(job);
        this.exporting -= count;
        batch.clear();
        this.idle.push(batch);
      });
      this.inFlight.add(job);
      return;
    }
    const buf = this.spare ?? Buffer.allocUnsafe(this.bodyCapacity);
    this.spare = undefined;
    const body = protobuf.encode(batch.spans, batch.spanCount, batch.records, buf);
    batch.clear();
    this.idle.push(batch);
    this.bodyCapacity = Math.max(this.bodyCapacity, body.buf.length);
    const encoded = body.buf.subarray(0, body.length);
    const job = (
      this.gzip ? this.compressed(encoded, body.buf, count) : this.exportWithRetry(encoded, count)
    ).then((accepted) => {
      this.inFlight.delete(job);
      this.exporting -= count;
      // Only a body the collector answered has left the socket: safe to write over.
      if (accepted) this.spare = body.buf;
    });
    this.inFlight.add(job);
  }

  /**
   * Exports `encoded` gzip-compressed by node:zlib (level 1) on libuv's thread pool: a batch of
   * a few hundred kilobytes takes milliseconds, which would otherwise stall the event loop.
   * `buf`, which `encoded` is a view of, is free again once compressed. Resolves false: the
   * body the collector saw is the compressed copy, not `buf`.
   */
  private compressed(encoded: Buffer, buf: Buffer, count: number): Promise<boolean> {
    return new Promise<Buffer | undefined>((resolve) => {
      gzip(encoded, { level: 1 }, (err, out) => resolve(err ? undefined : out));
    }).then((sent) => {
      this.spare ??= buf;
      if (sent === undefined) {
        this.droppedExportFailed += count;
        return false;
      }
      return this.exportWithRetry(sent, count).then(() => false);
    });
  }

  /** Resolves true when the collector accepted the batch. */
  private async exportWithRetry(body: Buffer | ChunkedBody, count: number): Promise<boolean> {
    let delay = this.initialBackoff;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.post(body);
        const partial = partialSuccessOf(answer.body, answer.contentType);
        const rejected = partial === undefined ? 0 : Math.min(partial.rejectedSpans, count);
        if (partial !== undefined) {
          this.rejectedSpans += rejected;
          this.lastRejection = partial.errorMessage;
        }
        this.exportedSpans += count - rejected;
        return true;
      } catch (err) {
        this.failedRequests++;
        const e = err as OtlpExportError;
        if (!e.retryable || attempt >= this.maxRetries) {
          this.droppedExportFailed += count;
          return false;
        }
        const wait = e.retryAfter ?? delay * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, this.maxBackoff)).unref());
        delay = Math.min(delay * 2, this.maxBackoff);
      }
    }
  }

  /** One POST of an export request body. */
  private post(body: Buffer | ChunkedBody): Promise<OtlpAnswer> {
    this.connection ??= new OtlpHttpConnection(
      this.url,
      this.gzip ? { ...this.headers, 'content-encoding': 'gzip' } : this.headers,
      this.timeout,
      otlpContentType(this.protocol),
    );
    return this.connection.post(body);
  }
}
