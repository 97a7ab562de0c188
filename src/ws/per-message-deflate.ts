/**
 * PerMessageDeflate: the permessage-deflate extension's codec (RFC 7692 §7.2) for one
 * connection, once negotiated (see per-message-deflate-negotiation.ts).
 *
 * - Sending (§7.2.1): a message is compressed with DEFLATE (RFC 1951), flushed with
 *   Z_SYNC_FLUSH, and the trailing 4 octets 0x00 0x00 0xff 0xff are removed; the frame gets
 *   RSV1. With "no context takeover" for our side the compressor is reset after each message.
 * - Receiving (§7.2.2): the payloads of a message's frames are inflated as they arrive and the
 *   4 octets are appended at the end. The inflated size is checked against `maxMessageSize` as
 *   output appears (a small message cannot inflate into a huge one: close code 1009), and data
 *   that is not valid DEFLATE fails the connection with 1007.
 *
 * The zlib streams are made on first use, so a connection that never compresses never pays for
 * them. Their memory is bounded by the negotiated window sizes and `memLevel`, which the
 * negotiation keeps within `maxMemory` (see {@link zlibMemory}).
 */
import { Buffer } from 'node:buffer';
import zlib from 'node:zlib';
import { WsProtocolError } from './ws-errors.js';

/** Options of permessage-deflate, on a server or a client. */
export interface PerMessageDeflateOptions {
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** zlib compression level 0-9. Default 1 (fastest: most of the gain on JSON, little CPU). */
  level?: number;
  /** zlib memLevel 1-9 (compressor state: 2^(memLevel+9) bytes). Default 8. */
  memLevel?: number;
  /**
   * Largest LZ77 window (as a power of two, 9-15) the server may use to compress. The server
   * side uses this as its own limit; a client offers it as `server_max_window_bits` when below
   * 15. Default 15 (32 KiB). 8 is not supported (zlib cannot compress with a 256-byte window).
   */
  serverMaxWindowBits?: number;
  /** Largest window (9-15) the client may use to compress (`client_max_window_bits`). Default 15. */
  clientMaxWindowBits?: number;
  /** The server resets its compressor after each message (`server_no_context_takeover`). Default false. */
  serverNoContextTakeover?: boolean;
  /** The client resets its compressor after each message (`client_no_context_takeover`). Default false. */
  clientNoContextTakeover?: boolean;
  /**
   * Cap on the zlib memory of one connection (compressor plus decompressor), in bytes. The
   * negotiation chooses window sizes that fit, or declines the extension. Default 524288
   * (512 KiB; the largest windows need about 300 KiB).
   */
  maxMemory?: number;
}

/** What a negotiation settled (RFC 7692 §7.1). */
export interface PerMessageDeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Window bits the server compresses with (9-15). */
  serverMaxWindowBits: number;
  /** Window bits the client compresses with (9-15). */
  clientMaxWindowBits: number;
}

/**
 * Estimated zlib memory in bytes for a compressor (`deflateBits`, `memLevel`) plus a decompressor
 * (`inflateBits`), after zlib's own formula: deflate 2^(w+2) + 2^(m+9), inflate 2^w, plus
 * about 7 KiB of fixed state each.
 */
export function zlibMemory(deflateBits: number, memLevel: number, inflateBits: number): number {
  return (1 << (deflateBits + 2)) + (1 << (memLevel + 9)) + (1 << inflateBits) + 14336;
}

/** The 4 octets a sync flush ends with (RFC 7692 §7.2.1). */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Called with a compressed payload, or an error. */
export type DeflateCallback = (error: Error | null, data: Buffer) => void;

/** The permessage-deflate codec of one connection. */
export class PerMessageDeflate {
  /** Messages shorter than this are sent uncompressed. */
  readonly threshold: number;
  readonly params: PerMessageDeflateParams;
  private readonly level: number;
  private readonly memLevel: number;
  private readonly deflateBits: number;
  private readonly inflateBits: number;
  private readonly resetDeflate: boolean;
  private readonly resetInflate: boolean;
  private readonly maxMessageSize: number;

  private deflater: zlib.DeflateRaw | undefined;
  private deflated: Buffer[] = [];
  private deflatedBytes = 0;
  private deflateCallback: DeflateCallback | undefined;

  private inflater: zlib.InflateRaw | undefined;
  private inflated: Buffer[] = [];
  private inflatedBytes = 0;
  private inflateError: Error | undefined;
  private inflateCallback: DeflateCallback | undefined;
  private closed = false;

  /**
   * @param isServer Which end of the connection this is.
   * @param params The negotiated parameters.
   * @param options Local options (threshold, level, memLevel).
   * @param maxMessageSize Largest inflated message, in bytes (close code 1009 beyond).
   */
  constructor(
    isServer: boolean,
    params: PerMessageDeflateParams,
    options: PerMessageDeflateOptions,
    maxMessageSize: number,
  ) {
    this.params = params;
    this.threshold = options.threshold ?? 1024;
    this.level = options.level ?? 1;
    this.memLevel = options.memLevel ?? 8;
    this.deflateBits = isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    // A peer asked for 8 may still compress with 9 (zlib raises 8 to 9), so inflate with >= 9.
    this.inflateBits = Math.max(9, isServer ? params.clientMaxWindowBits : params.serverMaxWindowBits);
    this.resetDeflate = isServer ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.resetInflate = isServer ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.maxMessageSize = maxMessageSize;
    this.onDeflateData = this.onDeflateData.bind(this);
    this.onDeflateFlushed = this.onDeflateFlushed.bind(this);
    this.onInflateData = this.onInflateData.bind(this);
    this.onInflateError = this.onInflateError.bind(this);
    this.onInflateFlushed = this.onInflateFlushed.bind(this);
  }

  /** Compresses one whole message; `callback` gets the payload without the 4-octet tail. One at a time. */
  compress(data: Buffer | string, callback: DeflateCallback): void {
    if (this.deflater === undefined) {
      this.deflater = zlib.createDeflateRaw({
        level: this.level,
        memLevel: this.memLevel,
        windowBits: this.deflateBits,
      });
      this.deflater.on('data', this.onDeflateData);
      this.deflater.on('error', (err) => this.deflateCallback?.(err, EMPTY));
    }
    this.deflateCallback = callback;
    this.deflater.write(data);
    this.deflater.flush(zlib.constants.Z_SYNC_FLUSH, this.onDeflateFlushed);
  }

  /** Feeds a piece of a compressed message's payload. */
  decompressWrite(data: Buffer): void {
    if (this.inflateError !== undefined) return;
    if (this.inflater === undefined) {
      this.inflater = zlib.createInflateRaw({ windowBits: this.inflateBits });
      this.inflater.on('data', this.onInflateData);
      this.inflater.on('error', this.onInflateError);
    }
    this.inflater.write(data);
  }

  /** Ends a compressed message: `callback` gets the whole inflated message, or a WsProtocolError. */
  decompressEnd(callback: DeflateCallback): void {
    this.inflateCallback = callback;
    if (this.inflateError !== undefined) {
      this.finishInflate();
      return;
    }
    if (this.inflater === undefined) this.decompressWrite(EMPTY);
    this.inflater!.write(TAIL);
    this.inflater!.flush(zlib.constants.Z_SYNC_FLUSH, this.onInflateFlushed);
  }

  /** Frees the zlib streams. Pending callbacks are not called. */
  close(): void {
    this.closed = true;
    this.deflateCallback = undefined;
    this.inflateCallback = undefined;
    this.deflater?.close();
    this.inflater?.close();
    this.deflater = undefined;
    this.inflater = undefined;
  }

  private onDeflateData(chunk: Buffer): void {
    this.deflated.push(chunk);
    this.deflatedBytes += chunk.length;
  }

  private onDeflateFlushed(): void {
    if (this.closed) return;
    const callback = this.deflateCallback!;
    this.deflateCallback = undefined;
    let out =
      this.deflated.length === 1 ? this.deflated[0] : Buffer.concat(this.deflated, this.deflatedBytes);
    this.deflated = [];
    this.deflatedBytes = 0;
    // RFC 7692 §7.2.1: remove the 4 octets the sync flush ended with.
    out = out.subarray(0, out.length - 4);
    if (this.resetDeflate) this.deflater!.reset();
    callback(null, out);
  }

  private onInflateData(chunk: Buffer): void {
    if (this.inflateError !== undefined) return;
    this.inflatedBytes += chunk.length;
    if (this.inflatedBytes > this.maxMessageSize) {
      this.inflateError = new WsProtocolError(
        'AVX_WS_MESSAGE_TOO_LARGE',
        1009,
        `a compressed message inflates beyond the limit of ${this.maxMessageSize} bytes`,
      );
      this.inflated = [];
      this.inflater!.reset();
      return;
    }
    this.inflated.push(chunk);
  }

  private onInflateError(err: Error): void {
    if (this.inflateError === undefined) {
      this.inflateError = new WsProtocolError(
        'AVX_WS_INVALID_DEFLATE',
        1007,
        `a compressed message is not valid DEFLATE data (RFC 7692 §7.2.2): ${err.message}`,
        { cause: err },
      );
    }
    this.inflater = undefined;
    if (this.inflateCallback !== undefined) this.finishInflate();
  }

  private onInflateFlushed(): void {
    if (this.closed || this.inflateCallback === undefined) return;
    this.finishInflate();
  }

  private finishInflate(): void {
    const callback = this.inflateCallback!;
    this.inflateCallback = undefined;
    const error = this.inflateError;
    if (error !== undefined) {
      callback(error, EMPTY);
      return;
    }
    const out =
      this.inflated.length === 1 ? this.inflated[0] : Buffer.concat(this.inflated, this.inflatedBytes);
    this.inflated = [];
    this.inflatedBytes = 0;
    if (this.resetInflate) this.inflater!.reset();
    callback(null, out);
  }
}

const EMPTY = Buffer.alloc(0);
