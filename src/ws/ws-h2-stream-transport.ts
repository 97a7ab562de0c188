/**
 * The byte stream of a WebSocket over HTTP/2 (RFC 8441 §5): one HTTP/2 stream of an extended
 * CONNECT, seen as a Node `Duplex` so that the `WebSocket` object runs over it unchanged. Writes
 * become DATA frames of the stream, the peer's DATA frames are what is read.
 *
 * Backpressure both ways is HTTP/2 flow control (RFC 9113 §5.2, §6.9). A write completes, as
 * on a TCP socket, only once its bytes left us: every octet of it went out in DATA frames (none
 * is held back for want of stream or connection window) and, where the host tracks its socket
 * ({@link WsH2StreamHost.outputFlushed}), the connection's output holding those frames was handed
 * to the operating system. So `writableLength` and 'drain' (hence the WebSocket's
 * `bufferedAmount` and the promise of `send`) count what the peer's windows and a congested
 * connection keep back, and a sender that waits for them cannot overrun memory. Received octets
 * are credited back (WINDOW_UPDATE) only as the reader takes them, so a paused WebSocket stops
 * the peer within one stream window.
 *
 * Closing follows RFC 8441 §6 (END_STREAM is TCP's FIN, RST_STREAM its RST): `end()` (after
 * the close handshake) sends END_STREAM, the peer's END_STREAM ends the readable side,
 * `destroy()` before both ends finished sends RST_STREAM CANCEL, and a reset by the peer or the
 * loss of the connection destroys the transport with {@link WsStreamResetError}, which the
 * WebSocket reports as close code 1006. Other streams of the connection are not affected.
 * On the server side (`resetAfterEnd`), `end()` is final: once our END_STREAM is out, a client
 * that keeps its side open is told to stop with RST_STREAM NO_ERROR (RFC 9113 §8.1), as a
 * WebSocket server closes TCP first (RFC 6455 §7.1.1); browsers do not end their side otherwise.
 * A RST_STREAM NO_ERROR after the peer's own END_STREAM is such a stop too, not an error.
 */
import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';
import type { H2Connection } from '../h2/h2-connection.js';
import { H2ErrorCode, h2ErrorCodeName } from '../h2/h2-error-codes.js';
import { type H2Stream, H2StreamState } from '../h2/h2-stream.js';
import { WsStreamResetError } from './ws-errors.js';

/** The HTTP/2 connection driver a transport's stream belongs to. */
export interface WsH2StreamHost {
  /** The connection's sans-I/O core. */
  readonly core: H2Connection;
  /** Writes what the core queued to the socket. */
  flushOut(): void;
  /**
   * Optional: true when everything the core queued so far, and the socket's buffer, was handed
   * to the operating system; otherwise false, and `transport.onOutputFlushed()` runs once it
   * was. Without it a write completes as soon as its octets are in DATA frames.
   */
  outputFlushed?(transport: WsH2StreamTransport): boolean;
}

type WriteCallback = (error?: Error | null) => void;

const EMPTY = Buffer.alloc(0);
const noop = () => {};

/** One HTTP/2 stream as a byte duplex (an extended CONNECT tunnel, RFC 8441). */
export class WsH2StreamTransport extends Duplex {
  /** The stream carried. */
  readonly stream: H2Stream;
  private readonly host: WsH2StreamHost;
  /** Octets received and pushed while the reader was behind: credited when it asks for more. */
  private held = 0;
  /** The callback of the write in progress: its octets are still in the core or the socket. */
  private waiting: WriteCallback | undefined;
  /** Set when the stream no longer belongs to us (a declined request answered by the driver). */
  private detached = false;
  /** The peer sent END_STREAM (or the stream closed): the readable side was ended. */
  private peerEnded = false;
  /** We queued END_STREAM. */
  private endSent = false;
  private readonly resetAfterEnd: boolean;

  /**
   * @param resetAfterEnd After our END_STREAM, stop a peer still sending with RST_STREAM
   *   NO_ERROR (the server side of a WebSocket). Default false.
   */
  constructor(host: WsH2StreamHost, stream: H2Stream, resetAfterEnd = false) {
    // Reads are bounded by the stream window already; 64 KiB is one default window's worth.
    super({ readableHighWaterMark: 65536, decodeStrings: true });
    this.host = host;
    this.stream = stream;
    this.resetAfterEnd = resetAfterEnd;
    // A reset is reported through the owner (the WebSocket's close code 1006, its own 'error'
    // event): a transport nobody listens to yet (a handshake in progress) must not crash.
    this.on('error', noop);
  }

  // ---------------------------------------------------------------------------------------------
  // Events from the connection driver (its H2ConnectionHandler forwards them).

  /** DATA of the stream (`endStream`: the peer sent END_STREAM). */
  onStreamData(data: Buffer, endStream: boolean): void {
    const n = data.length;
    if (n > 0) {
      if (this.destroyed || this.readableEnded) this.host.core.consume(this.stream, n);
      else if (this.push(data)) this.host.core.consume(this.stream, n);
      else this.held += n;
    }
    if (endStream) this.endReadable();
  }

  /** The stream closed: both END_STREAMs (NO_ERROR, not by the peer), or reset by either side. */
  onStreamClosed(errorCode: number, byPeer: boolean): void {
    this.failWaiting();
    if (this.destroyed) return;
    if (errorCode === H2ErrorCode.NO_ERROR && (!byPeer || this.peerEnded)) {
      // Both END_STREAMs, our stop after our END_STREAM, or the peer's stop after its own
      // (RFC 9113 §8.1): an orderly end; what arrived is still read, then the Duplex closes.
      this.endReadable();
      return;
    }
    const who = byPeer ? 'the peer' : 'this endpoint';
    this.destroy(
      new WsStreamResetError(
        errorCode,
        `the HTTP/2 stream ${this.stream.id} was reset by ${who} (${h2ErrorCodeName(errorCode)})`,
      ),
    );
  }

  /** The connection is gone (socket closed or connection error). */
  onConnectionLost(): void {
    this.failWaiting();
    if (this.destroyed) return;
    this.destroy(
      new WsStreamResetError(H2ErrorCode.CANCEL, 'the HTTP/2 connection carrying the WebSocket was lost'),
    );
  }

  /** The core sent DATA of the stream from its queue (asked for with `needsDrain`). */
  onStreamWritable(): void {
    this.settleWrite();
    if (this.endSent) this.stopPeer();
  }

  /** The host handed the connection's output to the operating system (see `outputFlushed`). */
  onOutputFlushed(): void {
    const callback = this.waiting;
    this.waiting = undefined;
    callback?.();
  }

  /** Lets go of the stream without touching it (the driver answers it), then destroys. */
  detach(): void {
    this.detached = true;
    this.destroy();
  }

  // ---------------------------------------------------------------------------------------------
  // Duplex implementation

  override _read(): void {
    const n = this.held;
    if (n === 0) return;
    this.held = 0;
    this.host.core.consume(this.stream, n);
    this.host.flushOut();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    const stream = this.stream;
    if (!stream.canSend) {
      callback(this.gone());
      return;
    }
    this.host.core.sendData(stream, chunk, false);
    this.waiting = callback;
    this.host.flushOut();
    this.settleWrite();
  }

  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    const stream = this.stream;
    if (!stream.canSend) {
      callback(this.gone());
      return;
    }
    const core = this.host.core;
    for (const { chunk } of chunks) core.sendData(stream, chunk, false);
    this.waiting = callback;
    this.host.flushOut();
    this.settleWrite();
  }

  override _final(callback: WriteCallback): void {
    // RFC 8441 §6: END_STREAM (after the queued data) is the orderly close, TCP's FIN.
    if (this.stream.canSend) {
      this.host.core.sendData(this.stream, EMPTY, true);
      this.endSent = true;
      this.stopPeer();
      this.host.flushOut();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.failWaiting();
    const stream = this.stream;
    // Both sides ended (the auto-destroy after 'end' and 'finish'): END_STREAM may still wait
    // for window in the core and goes out on its own. Anything else is an abort: RST_STREAM.
    const ended = this.readableEnded && this.writableFinished;
    if (!this.detached && !ended && stream.state !== H2StreamState.Closed) {
      this.host.core.resetStream(stream, H2ErrorCode.CANCEL);
      this.host.flushOut();
    }
    if (this.held > 0) {
      // What nobody will read still counts for the connection window (RFC 9113 §6.9).
      this.host.core.consume(stream, this.held);
      this.held = 0;
    }
    callback(error);
  }

  /** Ends the readable side once (no more data will come). */
  private endReadable(): void {
    if (this.peerEnded) return;
    this.peerEnded = true;
    if (!this.destroyed) this.push(null);
  }

  /**
   * `resetAfterEnd`: once our END_STREAM left, RST_STREAM NO_ERROR if the peer still has its
   * side open (RFC 9113 §8.1). While data (and END_STREAM) still wait for window, ask the core
   * for `onStreamWritable` and look again then.
   */
  private stopPeer(): void {
    const stream = this.stream;
    if (!this.resetAfterEnd || this.detached || !stream.canReceive) return;
    if (stream.pendingBytes > 0 || stream.pendingEnd) {
      stream.needsDrain = true;
      return;
    }
    if (stream.state === H2StreamState.HalfClosedLocal)
      this.host.core.resetStream(stream, H2ErrorCode.NO_ERROR);
  }

  /**
   * Completes the write in progress once none of the stream's octets wait for window (RFC 9113
   * §6.9: the core asks for `onStreamWritable` each time it sends more of them) and the host has
   * handed the frames to the operating system. Completing earlier would let `bufferedAmount`
   * read 0 while a peer that stopped reading holds everything back.
   */
  private settleWrite(): void {
    const stream = this.stream;
    // A closed stream's write is failed by `onStreamClosed` or `onConnectionLost`.
    if (this.waiting === undefined || stream.state === H2StreamState.Closed) return;
    if (stream.pendingBytes > 0) {
      stream.needsDrain = true;
      return;
    }
    if (this.host.outputFlushed?.(this) === false) return;
    this.onOutputFlushed();
  }

  private failWaiting(): void {
    const callback = this.waiting;
    if (callback === undefined) return;
    this.waiting = undefined;
    callback(this.gone());
  }

  private gone(): Error {
    return new WsStreamResetError(H2ErrorCode.CANCEL, `the HTTP/2 stream ${this.stream.id} is closed`);
  }
}
