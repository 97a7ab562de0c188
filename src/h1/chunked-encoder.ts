/**
 * The chunked transfer coding, sending side (RFC 9112 §7.1): each piece of content becomes
 * `<size in hex>\r\n<data>\r\n`; the body ends with the last-chunk `0\r\n`, an optional trailer
 * section (RFC 9112 §7.1.2, RFC 9110 §6.5) and an empty line. Chunk extensions (§7.1.1) are
 * never sent.
 *
 * Data is not copied: `encode` returns the framing around the caller's own Buffer, ready for
 * `socket.writev` / `cork`-ed writes. The encoder refuses to produce anything after the
 * last-chunk, since bytes after it would be read as the next message.
 */
import { Buffer } from 'node:buffer';
import { AvxError, InvalidHeaderError } from '../core/errors.js';
import { Headers } from '../core/headers.js';
import { type H1FieldLines, serializeFieldLines } from './h1-serializer.js';

/** Shared framing bytes. Callers must not modify the Buffers they get back. */
const CRLF: Buffer = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK_WITHOUT_TRAILERS: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

/**
 * Fields a sender must not put in a trailer section because recipients need them before the
 * content (RFC 9110 §6.5.1): message framing, routing, connection management, request
 * modifiers and controls, authentication, and content format.
 */
const DISALLOWED_TRAILER_FIELDS: ReadonlySet<string> = new Set([
  // framing (RFC 9112 §6, RFC 9110 §6.6.2)
  'content-length',
  'transfer-encoding',
  'trailer',
  // routing (RFC 9110 §7.2)
  'host',
  // connection management (RFC 9110 §7.6)
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
  // request modifiers and response controls (RFC 9110 §10.1, §13, §14; RFC 9111 §5.2)
  'cache-control',
  'expect',
  'max-forwards',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  // authentication (RFC 9110 §11)
  'authorization',
  'proxy-authenticate',
  'proxy-authorization',
  'www-authenticate',
  // content format (RFC 9110 §8)
  'content-encoding',
  'content-range',
  'content-type',
]);

/**
 * Frames a body with the chunked transfer coding (RFC 9112 §7.1). One instance per message:
 * call {@link ChunkedEncoder.encode} for each piece, then {@link ChunkedEncoder.end} once.
 */
export class ChunkedEncoder {
  #ended = false;

  /** True once {@link ChunkedEncoder.end} has produced the last-chunk. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Frames one chunk: `[<size-hex>\r\n, data, \r\n]`. A Buffer is returned as is and a
   * Uint8Array wrapped without copying; a string is encoded as UTF-8. Empty input returns `[]`,
   * because a zero-size chunk is the last-chunk and would end the body. Throws an
   * {@link AvxError} with code `AVX_CHUNKED_ENDED` after {@link ChunkedEncoder.end}.
   */
  encode(data: Uint8Array | string): Buffer[] {
    if (this.#ended) throw endedError();
    const bytes =
      typeof data === 'string'
        ? Buffer.from(data, 'utf8')
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const size = bytes.length;
    if (size === 0) return [];
    // RFC 9112 §7.1: chunk-size = 1*HEXDIG, no leading zeros needed.
    return [Buffer.from(`${size.toString(16)}\r\n`, 'latin1'), bytes, CRLF];
  }

  /**
   * The end of the body: `0\r\n`, the trailer field lines, `\r\n` (RFC 9112 §7.1, §7.1.2).
   * Trailers are validated like header fields, and fields that RFC 9110 §6.5.1 keeps out of
   * trailers (framing, routing, connection, controls, authentication, content format, e.g.
   * Content-Length, Host, Content-Type) throw {@link InvalidHeaderError}; on any error nothing
   * is ended and `end` may be called again. A second successful `end` throws an
   * {@link AvxError} with code `AVX_CHUNKED_ENDED`.
   */
  end(trailers?: H1FieldLines): Buffer {
    if (this.#ended) throw endedError();
    if (trailers === undefined) {
      this.#ended = true;
      return LAST_CHUNK_WITHOUT_TRAILERS;
    }
    const fields = serializeFieldLines(trailers);
    checkTrailerNames(trailers);
    this.#ended = true;
    return fields === '' ? LAST_CHUNK_WITHOUT_TRAILERS : Buffer.from(`0\r\n${fields}\r\n`, 'latin1');
  }
}

/** Throws for a field RFC 9110 §6.5.1 keeps out of trailers. Names are already validated. */
function checkTrailerNames(trailers: H1FieldLines): void {
  if (trailers instanceof Headers) {
    for (let i = 0; i < trailers.size; i++) checkTrailerName(trailers.nameAt(i)!);
  } else {
    for (let i = 0; i < trailers.length; i += 2) checkTrailerName(trailers[i]!);
  }
}

function checkTrailerName(name: string): void {
  if (DISALLOWED_TRAILER_FIELDS.has(name.toLowerCase())) {
    throw new InvalidHeaderError(
      'AVX_INVALID_HEADER_NAME',
      name,
      `${name} is not allowed in a trailer section: recipients need it before the content (RFC 9110 §6.5.1)`,
    );
  }
}

function endedError(): AvxError {
  return new AvxError(
    'AVX_CHUNKED_ENDED',
    'the chunked body has already ended: nothing may follow the last-chunk (RFC 9112 §7.1)',
  );
}
