/**
 * The body of a request being sent, normalised from whatever the caller gave: a string, bytes,
 * `URLSearchParams`, `FormData`, a `Blob`, a Node stream, a WHATWG `ReadableStream` or any async
 * iterable. A body known in full is sent with Content-Length (RFC 9110 §8.6) in the same write as
 * the head; a stream of unknown length is sent with the chunked transfer coding (RFC 9112 §7.1).
 * Bodies known in full (and FormData / Blob) can be sent again, for a retry or a 307/308
 * redirect (RFC 9110 §15.4.8); a stream can be sent once.
 */
import { Buffer } from 'node:buffer';
import { InvalidRequestError } from './client-errors.js';
import { encodeMultipartFormData } from './multipart-form-data.js';

/** What a request body can be given as. */
export type RequestBodyInit =
  | string
  | Uint8Array
  | ArrayBuffer
  | URLSearchParams
  | FormData
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array>;

/** A normalised request body. */
export class RequestBody {
  /** The whole body, when known up front; the fast path writes it together with the head. */
  readonly bytes: Buffer | undefined;
  /** Length in bytes, or -1 when unknown (then the body is sent chunked). */
  readonly length: number;
  /** The Content-Type this kind of body implies (form, multipart, blob type), if any. */
  readonly contentType: string | undefined;
  readonly #open: (() => AsyncIterable<Uint8Array | string>) | undefined;
  readonly #replayable: boolean;
  #opened = false;

  private constructor(
    bytes: Buffer | undefined,
    length: number,
    contentType: string | undefined,
    open: (() => AsyncIterable<Uint8Array | string>) | undefined,
    replayable: boolean,
  ) {
    this.bytes = bytes;
    this.length = length;
    this.contentType = contentType;
    this.#open = open;
    this.#replayable = replayable;
  }

  /** A body known in full. */
  static fromBytes(bytes: Buffer, contentType?: string): RequestBody {
    return new RequestBody(bytes, bytes.length, contentType, undefined, true);
  }

  /**
   * A body produced by `open()`. `replayable` says whether `open` may be called again for a new
   * attempt; `length` is -1 when unknown.
   */
  static fromSource(
    open: () => AsyncIterable<Uint8Array | string>,
    length: number,
    contentType: string | undefined,
    replayable: boolean,
  ): RequestBody {
    return new RequestBody(undefined, length, contentType, open, replayable);
  }

  /** True when the body can be sent (again) now: bytes always, a one-shot stream until opened. */
  get replayable(): boolean {
    return this.bytes !== undefined || this.#replayable || !this.#opened;
  }

  /** True when the body can be sent more than once. */
  get reusable(): boolean {
    return this.bytes !== undefined || this.#replayable;
  }

  /** The body's bytes as an async iterable. Throws for a one-shot stream opened before. */
  open(): AsyncIterable<Uint8Array | string> {
    if (this.bytes !== undefined) return singleChunk(this.bytes);
    if (this.#opened && !this.#replayable) {
      throw new InvalidRequestError(
        'the request body is a stream that was already sent and cannot be replayed',
      );
    }
    this.#opened = true;
    return this.#open!();
  }
}

async function* singleChunk(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array | string> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
  );
}

async function* fromSyncIterable(items: Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for (const item of items) yield item;
}

async function* fromReadableStream(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Normalises `init` into a {@link RequestBody}; `null` / `undefined` give `null`. Throws
 * {@link InvalidRequestError} for anything that is not a body.
 */
export function normalizeRequestBody(
  init: RequestBodyInit | RequestBody | null | undefined,
): RequestBody | null {
  if (init === undefined || init === null) return null;
  if (init instanceof RequestBody) return init;
  if (typeof init === 'string')
    return RequestBody.fromBytes(Buffer.from(init, 'utf8'), 'text/plain;charset=UTF-8');
  if (Buffer.isBuffer(init)) return RequestBody.fromBytes(init);
  if (init instanceof Uint8Array)
    return RequestBody.fromBytes(Buffer.from(init.buffer, init.byteOffset, init.byteLength));
  if (init instanceof ArrayBuffer) return RequestBody.fromBytes(Buffer.from(init));
  if (init instanceof URLSearchParams) {
    // WHATWG Fetch "extract a body": application/x-www-form-urlencoded;charset=UTF-8.
    return RequestBody.fromBytes(
      Buffer.from(init.toString(), 'utf8'),
      'application/x-www-form-urlencoded;charset=UTF-8',
    );
  }
  if (typeof FormData === 'function' && init instanceof FormData) {
    const form = encodeMultipartFormData(init);
    return RequestBody.fromSource(form.open, form.length, form.contentType, true);
  }
  if (typeof Blob === 'function' && init instanceof Blob) {
    const blob = init;
    return RequestBody.fromSource(
      () => blob.stream() as unknown as AsyncIterable<Uint8Array>,
      blob.size,
      blob.type === '' ? undefined : blob.type,
      true,
    );
  }
  if (typeof ReadableStream === 'function' && init instanceof ReadableStream) {
    const stream = init;
    return RequestBody.fromSource(() => fromReadableStream(stream), -1, undefined, false);
  }
  if (isAsyncIterable(init)) {
    const source = init;
    return RequestBody.fromSource(() => source, -1, undefined, false);
  }
  if (
    typeof init === 'object' &&
    typeof (init as Partial<Iterable<Uint8Array>>)[Symbol.iterator] === 'function'
  ) {
    const items = init as Iterable<Uint8Array>;
    return RequestBody.fromSource(() => fromSyncIterable(items), -1, undefined, false);
  }
  throw new InvalidRequestError(
    `unsupported request body of type ${typeof init}: use a string, bytes, URLSearchParams, FormData, Blob, a stream or an async iterable`,
  );
}

/** A piece of a request body as it is written: strings as UTF-8, bytes as a Buffer over the same memory. */
export function requestBodyChunk(piece: Uint8Array | string): Buffer {
  if (typeof piece === 'string') return Buffer.from(piece, 'utf8');
  return Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
}
