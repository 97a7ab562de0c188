/**
 * OtlpHttpExporter: sends ended spans to an OpenTelemetry collector over OTLP/HTTP with the JSON
 * encoding (`POST {url}`, default path `/v1/traces`, `content-type: application/json`;
 * OpenTelemetry Protocol spec "OTLP/HTTP"). Spans wait in a bounded queue and leave in batches
 * (when a batch is full, or every `scheduleDelay`); a full queue drops new spans. A failed
 * export is retried with exponential backoff and jitter when the failure is retryable (network
 * errors, 429, 502, 503, 504, honouring `Retry-After`; OTLP/HTTP "Failures"), up to
 * `maxRetries`, after which its spans count as dropped. Counters: exported, dropped because the
 * queue was full, dropped after failed exports.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AvxError } from '../../core/errors.js';
import { VERSION } from '../../version.js';
import {
  exportRequestPrefix,
  type ResourceAttributes,
  EXPORT_REQUEST_SUFFIX as SUFFIX,
} from './otlp-json-encoding.js';
import { appendSpanJson, spanJsonBound } from './otlp-json-span-writer.js';
import type { Span, SpanSink } from './span.js';

/** Options of {@link OtlpHttpExporter}. */
export interface OtlpExporterOptions {
  /** The collector's traces endpoint. Default `'http://127.0.0.1:4318/v1/traces'`. */
  url?: string | URL;
  /** Extra header fields (authentication). Default: none. */
  headers?: Record<string, string>;
  /** Resource attributes. Default: `{ 'service.name': 'avx-http' }` plus `telemetry.sdk.*`. */
  resource?: ResourceAttributes;
  /** Most spans waiting; more are dropped. Default 2048. */
  maxQueueSize?: number;
  /** Most spans per export request. Default 512. */
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
}

/** An export request failed for good. */
export class OtlpExportError extends AvxError {
  /** The HTTP status, or 0 for a network failure. */
  readonly status: number;
  readonly retryable: boolean;
  /** Retry-After in ms, when the collector sent one. */
  readonly retryAfter: number | undefined;

  constructor(status: number, retryable: boolean, message: string, retryAfter?: number, cause?: unknown) {
    super('AVX_OTLP_EXPORT_FAILED', message, { cause });
    this.status = status;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** Batching OTLP/HTTP JSON span exporter. */
export class OtlpHttpExporter implements SpanSink {
  readonly url: URL;
  /** Spans the collector accepted. */
  exportedSpans = 0;
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
  /**
   * The batch being filled: the request body so far (prefix, then each span's JSON, written
   * when the span ends), its length and its span count. Encoding at the end into a Buffer keeps
   * no span objects (nor string ropes) alive until the export: retained spans survived
   * young-generation GCs and were promoted, and that GC work, not the encoding, was the cost.
   */
  private batch: Buffer;
  private batchBytes = 0;
  private batchSpans = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private shutDown = false;
  /** The JSON before the spans: resource and scope never change. */
  private readonly prefix: string;
  /** The size the next batch buffer starts with: the largest batch body so far. */
  private batchCapacity = 16384;
  /**
   * A batch buffer whose export was accepted, for reuse: a new half-megabyte buffer per batch
   * would count as external memory and bring on full GCs.
   */
  private spare: Buffer | undefined;

  constructor(options: OtlpExporterOptions = {}) {
    this.url = new URL(options.url ?? 'http://127.0.0.1:4318/v1/traces');
    this.headers = options.headers ?? {};
    this.resource = {
      'service.name': 'avx-http',
      'telemetry.sdk.name': 'avx-http',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.version': VERSION,
      ...options.resource,
    };
    this.maxQueueSize = options.maxQueueSize ?? 2048;
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 512);
    this.scheduleDelay = options.scheduleDelay ?? 1000;
    this.timeout = options.timeout ?? 10_000;
    this.maxRetries = options.maxRetries ?? 5;
    this.initialBackoff = options.initialBackoff ?? 500;
    this.maxBackoff = options.maxBackoff ?? 5000;
    this.prefix = exportRequestPrefix(this.resource, { name: 'avx-http', version: VERSION });
    this.batch = this.newBatch();
  }

  /** Spans waiting to be sent. */
  get queued(): number {
    return this.batchSpans;
  }

  /** Queues an ended span (SpanSink). */
  onEnd(span: Span): void {
    if (this.shutDown || this.batchSpans >= this.maxQueueSize) {
      this.droppedQueueFull++;
      return;
    }
    // After a comma, with room left for the suffix.
    const at = this.batchSpans > 0 ? this.batchBytes + 1 : this.batchBytes;
    let end = appendSpanJson(span, this.batch, at, SUFFIX.length);
    if (end < 0) {
      const need = at + spanJsonBound(span) + SUFFIX.length;
      const grown = Buffer.allocUnsafe(Math.max(need, this.batch.length * 2));
      this.batch.copy(grown, 0, 0, this.batchBytes);
      this.batch = grown;
      end = appendSpanJson(span, this.batch, at, SUFFIX.length);
    }
    if (at > this.batchBytes) this.batch[this.batchBytes] = 0x2c; // ,
    this.batchBytes = end;
    this.batchSpans++;
    if (this.batchSpans >= this.maxBatchSize) this.sendBatch();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.scheduleDelay);
      this.timer.unref();
    }
  }

  /** Sends everything queued and resolves once every export in flight has settled. */
  async flush(): Promise<void> {
    if (this.batchSpans > 0) this.sendBatch();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Flushes, then refuses further spans. */
  async shutdown(): Promise<void> {
    await this.flush();
    this.shutDown = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.batchSpans > 0) this.sendBatch();
  };

  /** A buffer for a new batch, with the request prefix written. */
  private newBatch(): Buffer {
    const size = Math.max(this.batchCapacity, this.prefix.length * 3 + 64);
    let buf = this.spare;
    this.spare = undefined;
    if (buf === undefined || buf.length < size) buf = Buffer.allocUnsafe(size);
    this.batchBytes = buf.write(this.prefix, 0);
    this.batchSpans = 0;
    return buf;
  }

  private sendBatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.batchBytes += this.batch.write(SUFFIX, this.batchBytes, 'latin1');
    const full = this.batch;
    const body = full.subarray(0, this.batchBytes);
    const count = this.batchSpans;
    this.batchCapacity = Math.max(this.batchCapacity, full.length);
    this.batch = this.newBatch();
    const job = this.exportWithRetry(body, count).then((accepted) => {
      this.inFlight.delete(job);
      // Only a body the collector answered has left the socket: safe to write over.
      if (accepted) this.spare = full;
    });
    this.inFlight.add(job);
  }

  /** Resolves true when the collector accepted the batch. */
  private async exportWithRetry(body: Buffer, count: number): Promise<boolean> {
    let delay = this.initialBackoff;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.post(body);
        this.exportedSpans += count;
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
  private post(body: Buffer): Promise<void> {
    const url = this.url;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            ...this.headers,
            'content-type': 'application/json',
            'content-length': body.length,
          },
          timeout: this.timeout,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve();
              return;
            }
            const after = Number(res.headers['retry-after']);
            reject(
              new OtlpExportError(
                status,
                RETRYABLE_STATUS.has(status),
                `the collector answered ${status}`,
                Number.isFinite(after) && after >= 0 ? after * 1000 : undefined,
              ),
            );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('export timed out')));
      req.on('error', (err) =>
        reject(new OtlpExportError(0, true, `export request failed: ${err.message}`, undefined, err)),
      );
      req.end(body);
    });
  }
}
