/**
 * The response a client request resolves to: status (RFC 9110 §15), header fields (RFC 9110 §6.3)
 * and a body that arrives as the server sends it and can be read once, as bytes, text, JSON, a
 * Node stream or an async iterable. The body is an {@link IncomingBody}, so reading it slowly
 * slows the connection down (backpressure) instead of buffering without bound.
 */
import type { Readable } from 'node:stream';
import type { Headers } from '../core/headers.js';
import type { IncomingBody } from '../core/incoming-body.js';
import type { PriorityParams } from '../h2/priority-field.js';

/** Where {@link ClientResponse.setPriority} goes: the HTTP/2 stream carrying the response. */
export interface ResponsePriorityTarget {
  /** Sends the new priority (RFC 9218 §7.1); false when it cannot any more. */
  setPriority(priority: Partial<PriorityParams>): boolean;
}

/** A response received by the client. */
export class ClientResponse {
  /** The status code (RFC 9110 §15). */
  readonly status: number;
  /** The reason phrase the server sent (HTTP/1.1 only; may be empty). */
  readonly statusText: string;
  /** The response header fields. */
  readonly headers: Headers;
  /** The body, readable once (see {@link IncomingBody}). Empty for HEAD, 204 and 304. */
  body: IncomingBody;
  /** The URL this response came from (after redirects, the last one). */
  url: string;
  /** True when at least one redirect was followed to get here. */
  redirected = false;
  /** The protocol version, e.g. `'1.1'`. */
  readonly httpVersion: string;
  /** @internal Set by the HTTP/2 driver: the stream {@link setPriority} reprioritizes. */
  priorityTarget: ResponsePriorityTarget | undefined = undefined;

  constructor(
    status: number,
    statusText: string,
    headers: Headers,
    body: IncomingBody,
    url: string,
    httpVersion: string,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.body = body;
    this.url = url;
    this.httpVersion = httpVersion;
  }

  /**
   * Changes the priority of the rest of this response (RFC 9218 §7.1): over HTTP/2 the client
   * sends a PRIORITY_UPDATE frame, and a server that schedules by RFC 9218 sends the remaining
   * DATA in the new order; one that does not ignores it (§2.1). Members left out keep their
   * current value: the last one set here, else the request's `priority` header field, else the
   * defaults (`urgency` 3, `incremental` false, §4). `urgency` is 0 (most urgent) to 7.
   * Returns false, sending nothing, over HTTP/1.1 (which has no such signal) and once the
   * response has fully arrived. Throws RangeError for an urgency outside 0..7.
   */
  setPriority(priority: Partial<PriorityParams>): boolean {
    return this.priorityTarget?.setPriority(priority) ?? false;
  }

  /** True for a 2xx status (RFC 9110 §15.3). */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** Trailer fields (flattened `[name, value, ...]`), once the body has ended; else undefined. */
  get trailers(): string[] | undefined {
    return this.body.trailers;
  }

  /** True once a reader has taken the body. */
  get bodyUsed(): boolean {
    return this.body.used;
  }

  /** The whole body as one Buffer. */
  bytes(): Promise<Buffer> {
    return this.body.bytes();
  }

  /** The whole body as an ArrayBuffer (a copy). */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.body.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  }

  /** The whole body decoded as UTF-8. */
  text(): Promise<string> {
    return this.body.text();
  }

  /** The whole body parsed as JSON (fails with `InvalidJsonBodyError` when it is not JSON). */
  json<T = unknown>(): Promise<T> {
    return this.body.json<T>();
  }

  /** The body as a Node Readable stream. */
  stream(): Readable {
    return this.body.stream();
  }

  /** Read and drop the body, so the connection can carry the next request. */
  dump(): Promise<void> {
    return this.body.discard();
  }

  /** Read the body chunk by chunk. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.body[Symbol.asyncIterator]();
  }
}
