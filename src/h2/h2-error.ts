/**
 * The error of the HTTP/2 layer (RFC 9113 §5.4): a stable `AVX_H2_*` code, the HTTP/2 error
 * code sent to the peer (§7), and the stream it concerns (0 for a connection error, §5.4.1;
 * a stream id for a stream error, §5.4.2). HPACK failures are connection errors with
 * COMPRESSION_ERROR (RFC 7541 §2.3.3, RFC 9113 §4.3).
 */
import { AvxError } from '../core/errors.js';
import { H2ErrorCode, h2ErrorCodeName } from './h2-error-codes.js';

/** Stable codes of {@link H2Error}. */
export type H2ErrorKind =
  | 'AVX_H2_PROTOCOL'
  | 'AVX_H2_BAD_PREFACE'
  | 'AVX_H2_FRAME_SIZE'
  | 'AVX_H2_FLOW_CONTROL'
  | 'AVX_H2_STREAM_CLOSED'
  | 'AVX_H2_REFUSED_STREAM'
  | 'AVX_H2_MALFORMED_HEADERS'
  | 'AVX_H2_HEADER_LIST_TOO_LARGE'
  | 'AVX_H2_COMPRESSION'
  | 'AVX_H2_SETTINGS_TIMEOUT'
  | 'AVX_H2_FLOOD'
  | 'AVX_H2_STREAM_IDS_EXHAUSTED'
  | 'AVX_H2_PEER_RESET'
  | 'AVX_H2_PEER_GOAWAY'
  | 'AVX_H2_CANCELLED'
  | 'AVX_H2_SEND_STALLED';

/** An HTTP/2 connection or stream error. */
export class H2Error extends AvxError {
  /** The RFC 9113 §7 error code (sent in RST_STREAM or GOAWAY). */
  readonly errorCode: number;
  /** The stream concerned; 0 for a connection error. */
  readonly streamId: number;

  constructor(code: H2ErrorKind, errorCode: number, streamId: number, message: string) {
    super(code, `${message} [${h2ErrorCodeName(errorCode)}]`);
    this.errorCode = errorCode;
    this.streamId = streamId;
  }

  /** True when the whole connection fails (RFC 9113 §5.4.1). */
  get isConnectionError(): boolean {
    return this.streamId === 0;
  }
}

/** A header block that cannot be decoded (RFC 7541 §2.3.3, §4.2, §5): a connection error. */
export class HpackError extends H2Error {
  constructor(message: string) {
    super('AVX_H2_COMPRESSION', H2ErrorCode.COMPRESSION_ERROR, 0, message);
  }
}
