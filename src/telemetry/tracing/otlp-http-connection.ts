/**
 * OtlpHttpConnection: one persistent HTTP/1.1 connection to an OTLP collector, carrying export
 * POSTs one after another. It exists because an exporter posts only a few dozen times a
 * second: node:http's client code never got past V8's baseline tier at that rate and cost
 * about half a millisecond of CPU per POST, most of a busy server's export cost. Here a POST
 * is one corked write of a prepared head and the body, and the answer goes through the same
 * HTTP/1.1 parser the server's requests use (RFC 9112: Content-Length or chunked, keep-alive).
 *
 * A body may also be produced as it is sent ({@link ChunkedBody}: the JSON export request,
 * encoded batch by batch): it goes out in the chunked transfer coding (RFC 9112 §7.1), from one
 * buffer the connection reuses for every chunk (chunked-body-writer.ts). It is produced when
 * its POST's turn comes, and again if that POST is retried.
 *
 * The socket is unreferenced while idle, so it never keeps the process alive; a lost
 * connection fails the POST in flight (retryable) and the next POST opens a new one.
 */
import { Buffer } from 'node:buffer';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { type ChunkedBody, ChunkedBodyWriter } from '../../h1/chunked-body-writer.js';
import { H1Parser } from '../../h1/h1-parser.js';
import { H1ResponseBody, type H1ResponseHead } from '../../h1/h1-types.js';
import { OtlpExportError, retryableStatus } from './otlp-export-error.js';

/** A 2xx answer to an export POST: its body (up to {@link MAX_ANSWER_BYTES}) and media type. */
export interface OtlpAnswer {
  readonly body: Buffer;
  readonly contentType: string | undefined;
}

/**
 * The most bytes of an answer's body kept: an `ExportTraceServiceResponse` is a count and a
 * message; anything past this is read and dropped.
 */
const MAX_ANSWER_BYTES = 65536;

interface PendingPost {
  readonly body: Buffer | ChunkedBody;
  readonly resolve: (answer: OtlpAnswer) => void;
  readonly reject: (err: OtlpExportError) => void;
}

/** A keep-alive HTTP/1.1 connection for export POSTs (see the file comment). */
export class OtlpHttpConnection {
  private readonly url: URL;
  /** The request head up to `content-length: `. */
  private readonly headStart: string;
  /** The request head of a chunked body, whole. */
  private readonly chunkedHead: string;
  /** Writes chunked bodies, from one buffer reused chunk after chunk; made on first use. */
  private chunkWriter: ChunkedBodyWriter | undefined;
  private readonly chunkSize: number;
  private readonly timeout: number;
  private socket: net.Socket | undefined;
  private connected = false;
  private readonly queue: PendingPost[] = [];
  private current: PendingPost | undefined;
  private status = 0;
  private retryAfter: number | undefined;
  private closeAfter = false;
  /** The answer being read: its media type, body pieces and their size. */
  private answerType: string | undefined;
  private answerPieces: Buffer[] = [];
  private answerBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param url the collector endpoint (`http:` or `https:`)
   * @param headers extra request header fields
   * @param timeout longest wait for one POST's answer, in ms
   * @param contentType the bodies' media type (`application/x-protobuf` for `http/protobuf`)
   * @param chunkSize the size of the buffer chunked bodies are produced into, in bytes
   */
  constructor(
    url: URL,
    headers: Record<string, string>,
    timeout: number,
    contentType = 'application/json',
    chunkSize = 65536,
  ) {
    this.url = url;
    this.timeout = timeout;
    this.chunkSize = chunkSize;
    let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const name of Object.keys(headers)) head += `${name}: ${headers[name]}\r\n`;
    head += `content-type: ${contentType}\r\n`;
    this.headStart = `${head}content-length: `;
    this.chunkedHead = `${head}transfer-encoding: chunked\r\n\r\n`;
  }

  /**
   * Sends `body`, a whole buffer or one produced as it is sent (in chunks); resolves on a 2xx
   * answer, rejects with {@link OtlpExportError} otherwise.
   */
  post(body: Buffer | ChunkedBody): Promise<OtlpAnswer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ body, resolve, reject });
      if (this.current === undefined) this.next();
    });
  }

  /** Closes the connection; a POST in flight fails. */
  close(): void {
    this.fail(new OtlpExportError(0, false, 'the exporter closed its connection'));
    for (const p of this.queue.splice(0)) p.reject(new OtlpExportError(0, false, 'the exporter closed'));
  }

  private next(): void {
    const post = this.queue.shift();
    if (post === undefined) {
      this.socket?.unref();
      return;
    }
    this.current = post;
    this.status = 0;
    this.retryAfter = undefined;
    const socket = this.socket ?? this.open();
    socket.ref();
    this.timer = setTimeout(this.onTimeout, this.timeout);
    if (this.connected) this.send();
  }

  private send(): void {
    const socket = this.socket!;
    const body = this.current!.body;
    if (!Buffer.isBuffer(body)) {
      this.chunkWriter ??= new ChunkedBodyWriter(this.chunkSize);
      try {
        this.chunkWriter.write(socket, this.chunkedHead, body);
      } catch (err) {
        // Producing the body failed part way: the message cannot be finished on this connection.
        this.fail(
          new OtlpExportError(0, false, 'the export request body could not be encoded', undefined, err),
        );
      }
      return;
    }
    socket.cork();
    socket.write(`${this.headStart}${body.length}\r\n\r\n`, 'latin1');
    socket.write(body);
    socket.uncork();
  }

  private open(): net.Socket {
    const url = this.url;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const secure = url.protocol === 'https:';
    const port = Number(url.port) || (secure ? 443 : 80);
    const socket = secure
      ? tls.connect({
          host,
          port,
          servername: net.isIP(host) === 0 ? host : undefined,
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.connected = false;
    const parser = new H1Parser<H1ResponseHead>('response', {
      onHead: (head) => {
        if (head.status < 200) return undefined;
        this.status = head.status;
        this.closeAfter = !head.keepAlive;
        this.answerType = undefined;
        this.answerPieces = [];
        this.answerBytes = 0;
        const h = head.headers;
        for (let i = 0; i < h.length; i += 2) {
          const name = h[i]!.toLowerCase();
          if (name === 'retry-after') {
            const seconds = Number(h[i + 1]);
            if (Number.isFinite(seconds) && seconds >= 0) this.retryAfter = seconds * 1000;
          } else if (name === 'content-type') this.answerType = h[i + 1];
        }
        return H1ResponseBody.Normal;
      },
      onBody: (piece: Buffer) => {
        if (this.status === 0 || this.answerBytes >= MAX_ANSWER_BYTES) return;
        // A copy: the piece is a view of the socket's chunk, which it would keep alive.
        const kept = Buffer.from(piece.subarray(0, MAX_ANSWER_BYTES - this.answerBytes));
        this.answerPieces.push(kept);
        this.answerBytes += kept.length;
      },
      onTrailers: () => {},
      onMessageComplete: () => {
        if (this.status !== 0) this.complete();
      },
    });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      if (this.current !== undefined) this.send();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        parser.execute(chunk);
      } catch (err) {
        this.fail(new OtlpExportError(0, true, 'the collector sent an invalid response', undefined, err));
      }
    });
    socket.on('error', (err) => {
      if (this.socket === socket)
        this.fail(new OtlpExportError(0, true, `export request failed: ${err.message}`, undefined, err));
    });
    socket.on('close', () => {
      if (this.socket === socket)
        this.fail(new OtlpExportError(0, true, 'the collector closed the connection'));
    });
    return socket;
  }

  /** A whole answer to the POST in flight arrived. */
  private complete(): void {
    const post = this.current!;
    this.settle();
    if (this.closeAfter) this.drop();
    const status = this.status;
    if (status >= 200 && status < 300) {
      const pieces = this.answerPieces;
      this.answerPieces = [];
      post.resolve({
        body: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces),
        contentType: this.answerType,
      });
    } else {
      post.reject(
        new OtlpExportError(
          status,
          retryableStatus(status),
          `the collector answered ${status}`,
          this.retryAfter,
        ),
      );
    }
    this.next();
  }

  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.fail(new OtlpExportError(0, true, 'export timed out'));
  };

  /** The connection is lost or unusable: fail the POST in flight and start over. */
  private fail(err: OtlpExportError): void {
    this.drop();
    const post = this.current;
    if (post === undefined) return;
    this.settle();
    post.reject(err);
    this.next();
  }

  private settle(): void {
    this.current = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drop(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.socket = undefined;
    this.connected = false;
    socket.destroy();
  }
}
