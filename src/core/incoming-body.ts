/**
 * The body of a message being received: a server's request body or a client's response body,
 * whatever protocol carries it. A connection driver pushes chunks in as the protocol core
 * reports them; the application reads the body once, as bytes, text, JSON, a form, an async
 * iterable or a Node stream.
 *
 * Backpressure: when more than `highWaterMark` bytes wait unread, the body asks its source to
 * pause (an HTTP/1.1 driver stops reading the socket; an HTTP/2 driver withholds
 * WINDOW_UPDATE) and resumes it once the reader catches up. A body larger than `limit` fails
 * with {@link BodyTooLargeError} (a server answers 413).
 */
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { AvxError } from './errors.js';

/** Hooks through which a body slows down or releases whatever feeds it. */
export interface BodySource {
  /** Stop delivering chunks for now. */
  pause(): void;
  /** Deliver chunks again. */
  resume(): void;
  /** The reader gave up on the body (it was cancelled or is being discarded on error). */
  abandon?(reason: Error): void;
}

/** Options of {@link IncomingBody}. */
export interface IncomingBodyOptions {
  /** Largest body accepted, in bytes. Default: Infinity (the server and client set their own). */
  limit?: number;
  /** Unread bytes above which the source is paused. Default 65536 (64 KiB). */
  highWaterMark?: number;
  /** Where the bytes come from, for backpressure. */
  source?: BodySource;
  /** Declared length (Content-Length), if known: used to size buffers and to reject early. */
  expectedLength?: number;
}

/** The body exceeds the configured limit. */
export class BodyTooLargeError extends AvxError {
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  /** The HTTP status a server should answer with. */
  readonly status = 413;

  constructor(limit: number) {
    super('AVX_BODY_TOO_LARGE', `the body exceeds the limit of ${limit} bytes`);
    this.limit = limit;
  }
}

/** A body was read twice, or read after it was handed to someone else. */
export class BodyUsedError extends AvxError {
  constructor() {
    super('AVX_BODY_USED', 'the body has already been read');
  }
}

/** The body's JSON does not parse. */
export class InvalidJsonBodyError extends AvxError {
  /** The HTTP status a server should answer with. */
  readonly status = 400;

  constructor(cause: unknown) {
    super('AVX_INVALID_JSON', `the body is not valid JSON: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

const EMPTY = Buffer.alloc(0);

/** A message body arriving in chunks, readable once. */
export class IncomingBody implements AsyncIterable<Buffer> {
  /** Trailer fields (flattened `[name, value, ...]`), available once the body has ended. */
  trailers: string[] | undefined;

  /** The declared length (Content-Length), or -1 when none was given. */
  readonly declaredLength: number;
  private readonly limit: number;
  private readonly highWaterMark: number;
  private readonly source: BodySource | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private received = 0;
  private ended = false;
  private failure: Error | undefined;
  private paused = false;
  private consumed = false;
  /** A reader is collecting the whole body, so pausing the source would only slow it. */
  private collecting = false;
  private wake: (() => void) | undefined;

  constructor(options: IncomingBodyOptions = {}) {
    this.limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.highWaterMark = options.highWaterMark ?? 65536;
    this.source = options.source;
    this.declaredLength = options.expectedLength ?? -1;
    if (options.expectedLength !== undefined && options.expectedLength > this.limit) {
      this.failure = new BodyTooLargeError(this.limit);
    }
  }

  /** An already complete body holding `bytes` (for bodies known in full up front). */
  static of(bytes: Buffer | string): IncomingBody {
    const body = new IncomingBody();
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (b.length > 0) body.push(b);
    body.end();
    return body;
  }

  /** An empty, complete body. */
  static empty(): IncomingBody {
    const body = new IncomingBody();
    body.end();
    return body;
  }

  // ---------------------------------------------------------------------------------------------
  // Driver side

  /** Deliver a chunk. Returns false once the body wants no more (failed, or over its limit). */
  push(chunk: Buffer): boolean {
    if (this.ended || this.failure !== undefined) return false;
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.fail(new BodyTooLargeError(this.limit));
      return false;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (!this.paused && !this.collecting && this.buffered > this.highWaterMark && this.source !== undefined) {
      this.paused = true;
      this.source.pause();
    }
    this.notify();
    return true;
  }

  /** The body is complete. */
  end(trailers?: string[]): void {
    if (this.ended || this.failure !== undefined) return;
    this.ended = true;
    this.trailers = trailers;
    this.notify();
  }

  /** The body cannot complete (connection lost, protocol error, limit exceeded). */
  fail(error: Error): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = error;
    this.chunks = [];
    this.buffered = 0;
    this.notify();
  }

  /** True once the body has ended or failed. */
  get settled(): boolean {
    return this.ended || this.failure !== undefined;
  }

  /** True once every byte has arrived (the body ended without failing). */
  get complete(): boolean {
    return this.ended;
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.received;
  }

  // ---------------------------------------------------------------------------------------------
  // Reader side

  /** True once a reader has taken the body. */
  get used(): boolean {
    return this.consumed;
  }

  /** The whole body as one Buffer. */
  async bytes(): Promise<Buffer> {
    this.take();
    this.collecting = true;
    this.release();
    while (!this.ended) {
      if (this.failure !== undefined) throw this.failure;
      await this.next();
    }
    if (this.failure !== undefined) throw this.failure;
    const chunks = this.chunks;
    this.chunks = [];
    this.buffered = 0;
    if (chunks.length === 0) return EMPTY;
    if (chunks.length === 1) return chunks[0];
    return Buffer.concat(chunks, this.received);
  }

  /** The whole body decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** The whole body parsed as JSON; fails with {@link InvalidJsonBodyError} when it is not. */
  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new InvalidJsonBodyError(err);
    }
  }

  /** The body parsed as `application/x-www-form-urlencoded`. */
  async form(): Promise<URLSearchParams> {
    return new URLSearchParams(await this.text());
  }

  /** Read the body chunk by chunk. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    this.take();
    try {
      for (;;) {
        if (this.chunks.length > 0) {
          const chunk = this.chunks.shift()!;
          this.buffered -= chunk.length;
          if (this.paused && this.buffered <= this.highWaterMark / 2) this.release();
          yield chunk;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.ended) return;
        this.release();
        await this.next();
      }
    } finally {
      if (!this.settled)
        this.abandon(new AvxError('AVX_BODY_ABANDONED', 'the reader stopped before the body ended'));
    }
  }

  /** The body as a Node Readable stream. */
  stream(): Readable {
    return Readable.from(this, { objectMode: false });
  }

  /** Read and drop the rest of the body (so a keep-alive connection can carry the next message). */
  async discard(): Promise<void> {
    if (this.consumed) return;
    this.consumed = true;
    // Dropping chunks as they come is keeping up: never pause the source for them.
    this.collecting = true;
    this.chunks = [];
    this.buffered = 0;
    this.release();
    while (!this.settled) {
      await this.next();
      this.chunks = [];
      this.buffered = 0;
    }
  }

  /** Stop reading: fails the body and tells the source to give up on it. */
  cancel(reason: Error = new AvxError('AVX_BODY_CANCELLED', 'the body was cancelled')): void {
    this.consumed = true;
    if (!this.settled) this.abandon(reason);
  }

  // ---------------------------------------------------------------------------------------------

  private take(): void {
    if (this.consumed) throw new BodyUsedError();
    this.consumed = true;
  }

  private abandon(reason: Error): void {
    this.fail(reason);
    this.release();
    this.source?.abandon?.(reason);
  }

  private release(): void {
    if (this.paused) {
      this.paused = false;
      this.source?.resume();
    }
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
  }
}
