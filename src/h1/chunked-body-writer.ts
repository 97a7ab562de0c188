/**
 * ChunkedBodyWriter: sends a body that is produced as it is written, in the chunked transfer
 * coding (RFC 9112 §7.1), from one buffer reused chunk after chunk.
 *
 * Why: an exporter that encoded a whole batch of spans into one body wrote about 400 KiB per
 * batch, which fell out of the CPU caches before it was written again and pushed the server's
 * own data out with it. Encoding into a 64 KiB buffer that is written to the socket as soon as
 * it is full, and then filled again, keeps the whole job inside the cache.
 *
 * The producer writes data into {@link buf} from {@link DATA_START} up to `buf.length -`
 * {@link TAIL} and calls {@link send} with where its data ends. The writer puts the chunk-size
 * line in the room before the data and `\r\n` after it, and writes the chunk with one call. The
 * buffer is written over only when the socket took the whole chunk at once (`writableLength`
 * back to 0); otherwise the socket still holds it, and the writer takes a new one.
 * (chunked-encoder.ts frames pieces the caller already has, with framing buffers of its own.)
 */
import { Buffer } from 'node:buffer';

/** Where a chunk's data starts: room for the chunk-size line (up to 8 hex digits and CRLF). */
const DATA_START = 10;
/** The bytes kept free after the data: CRLF, then the last-chunk and empty line. */
const LAST_CHUNK = '0\r\n\r\n';
const TAIL = 2 + LAST_CHUNK.length;
const CR = 0x0d;
const LF = 0x0a;
const HEX = '0123456789abcdef';

/** Where chunks go: a `net.Socket` or `tls.TLSSocket`. */
export interface ChunkSink {
  write(chunk: Buffer | string, encoding?: BufferEncoding): unknown;
  cork(): void;
  uncork(): void;
  /** Bytes written but not yet handed to the system. */
  readonly writableLength: number;
}

/** A body produced into {@link ChunkedBodyWriter.buf} as it is sent. */
export interface ChunkedBody {
  /** Produces the whole body through `writer` ({@link ChunkedBodyWriter.send}, then `.end`). */
  writeTo(writer: ChunkedBodyWriter): void;
}

/** Writes chunked bodies from one reused buffer (see the file comment). */
export class ChunkedBodyWriter {
  /** Where each chunk's data starts in {@link buf}. */
  static readonly DATA_START = DATA_START;
  /** Bytes to leave free at the end of {@link buf} after the data. */
  static readonly TAIL = TAIL;

  /** The buffer to write the next chunk's data into. */
  buf: Buffer;
  /** A DataView of {@link buf}. */
  view: DataView;
  private sink: ChunkSink | undefined;
  /** The message head, written with the first chunk. */
  private head: string | undefined;
  private readonly capacity: number;

  /** @param capacity the chunk buffer's size in bytes (data up to `capacity - 17`). */
  constructor(capacity = 65536) {
    this.capacity = Math.max(capacity, DATA_START + TAIL + 64);
    this.buf = Buffer.allocUnsafe(this.capacity);
    this.view = viewOf(this.buf);
  }

  /** Writes the message `head` (latin1, ending with the empty line) and then `body` to `sink`. */
  write(sink: ChunkSink, head: string, body: ChunkedBody): void {
    this.sink = sink;
    this.head = head;
    try {
      body.writeTo(this);
    } finally {
      this.sink = undefined;
      this.head = undefined;
    }
  }

  /** The most data bytes one chunk of the current buffer holds. */
  get room(): number {
    return this.buf.length - DATA_START - TAIL;
  }

  /**
   * Sends the data in `buf[DATA_START, end)` as one chunk (nothing when empty); {@link buf} is
   * then free for the next chunk's data, from {@link DATA_START}.
   */
  send(end: number): void {
    if (end > DATA_START) this.put(this.frame(end), end + 2);
  }

  /**
   * Sends `buf[DATA_START, end)` as the last data chunk (if not empty), then the last-chunk:
   * the body is complete.
   */
  end(end: number): void {
    const buf = this.buf;
    let from = end;
    if (end > DATA_START) from = this.frame(end);
    let at = end > DATA_START ? end + 2 : end;
    at += buf.write(LAST_CHUNK, at, 'latin1');
    this.put(from, at);
  }

  /**
   * Makes the buffer hold at least `size` data bytes in one chunk, for a piece of data that
   * does not fit in an empty chunk. Call between chunks: the buffer's data is not kept.
   */
  ensure(size: number): void {
    if (size <= this.room) return;
    this.replace(Math.max(size + DATA_START + TAIL, this.buf.length * 2));
  }

  /** Writes the chunk-size line before `buf[DATA_START, end)` and CRLF after; returns its start. */
  private frame(end: number): number {
    const buf = this.buf;
    let size = end - DATA_START;
    let at = DATA_START - 2;
    buf[at] = CR;
    buf[at + 1] = LF;
    // RFC 9112 §7.1: chunk-size = 1*HEXDIG, written right before the CRLF.
    do {
      buf[--at] = HEX.charCodeAt(size & 15);
      size >>>= 4;
    } while (size !== 0);
    buf[end] = CR;
    buf[end + 1] = LF;
    return at;
  }

  /** Writes `buf[from, to)`, after the head on the body's first write. */
  private put(from: number, to: number): void {
    const sink = this.sink!;
    const head = this.head;
    if (head !== undefined) {
      this.head = undefined;
      sink.cork();
      sink.write(head, 'latin1');
      sink.write(this.buf.subarray(from, to));
      sink.uncork();
    } else {
      sink.write(this.buf.subarray(from, to));
    }
    // The socket keeps what it could not hand to the system at once: leave it that buffer.
    if (sink.writableLength !== 0) this.replace(this.capacity);
  }

  private replace(size: number): void {
    this.buf = Buffer.allocUnsafe(size);
    this.view = viewOf(this.buf);
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}
