/**
 * The state of one HTTP/3 request stream (RFC 9114 §4.1, §6.1): a bidirectional QUIC stream
 * carrying one request and its response. Each direction moves through HEADERS, DATA* and an
 * optional trailing HEADERS (§4.1); a client's receiving side may first see informational
 * (1xx) responses. The connection (`H3Connection`) drives the transitions.
 */
import type { Buffer } from 'node:buffer';
import type { H3FrameReader } from './h3-frame-reader.js';

/** Where a direction of a request stream is in the message (RFC 9114 §4.1). */
export const enum H3MessageState {
  /** No final header section yet (a 1xx response may have passed). */
  Headers,
  /** Final header section done: DATA or trailers may follow. */
  Body,
  /** Trailers done: only the end of the stream may follow. */
  Trailers,
  /** The message ended with the stream (FIN sent or received). */
  Done,
  /** Reset, or reading stopped, by either side. */
  Aborted,
}

/** One request stream. */
export class H3RequestStream {
  readonly id: number;
  /** Reads the frames the peer sends on this stream. */
  readonly reader: H3FrameReader;
  receiving = H3MessageState.Headers;
  sending = H3MessageState.Headers;
  /** Its HEADERS frame waits for QPACK encoder-stream data (RFC 9204 §2.2.1). */
  blocked = false;
  /** Bytes received while blocked, to read once unblocked, and whether the stream ended. */
  pending: Buffer[] = [];
  pendingBytes = 0;
  pendingFin = false;
  /** content-length of the message being received, or -1 (RFC 9114 §4.1.2). */
  contentLength = -1;
  /** DATA payload octets received. */
  received = 0;
  /** The request method: a client needs it to read the response (HEAD has no content). */
  method = '';

  constructor(id: number, reader: H3FrameReader) {
    this.id = id;
    this.reader = reader;
  }

  /** Both directions are finished: the stream can be forgotten. */
  get finished(): boolean {
    return this.receiving >= H3MessageState.Done && this.sending >= H3MessageState.Done;
  }
}
