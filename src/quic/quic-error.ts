/**
 * The error of the QUIC packet layer: a stable `AVX_QUIC_*` code, the QUIC transport error code
 * an endpoint closes the connection with (RFC 9000 §20.1), and whether the fault is a connection
 * error (§11.1) or only a reason to drop the one packet (a header that cannot be parsed, §5.2;
 * a packet that fails authentication, RFC 9001 §5.5).
 */
import { AvxError } from '../core/errors.js';

/** RFC 9000 §20.1 transport error codes. CRYPTO_ERROR is a range: 0x0100 + TLS alert (§20.1). */
export const QuicTransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
} as const;

const NAMES: readonly string[] = Object.keys(QuicTransportErrorCode);

/** The registered name of a transport error code (`FRAME_ENCODING_ERROR`), else `0x..`. */
export function quicTransportErrorName(code: number): string {
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${(code - 0x100).toString(16)})`;
  return NAMES[code] ?? `0x${code.toString(16)}`;
}

/** Stable codes of {@link QuicError}. */
export type QuicErrorKind =
  /** A frame that breaks its RFC 9000 §19 layout (FRAME_ENCODING_ERROR). */
  | 'AVX_QUIC_FRAME_ENCODING'
  /** A frame or packet that breaks a rule of the protocol (PROTOCOL_VIOLATION). */
  | 'AVX_QUIC_PROTOCOL_VIOLATION'
  /** A stream offset beyond what flow control can ever allow (§19.8: FLOW_CONTROL_ERROR). */
  | 'AVX_QUIC_FLOW_CONTROL'
  /** A stream id or stream count beyond any limit we give (§19.11, §4.6: STREAM_LIMIT_ERROR). */
  | 'AVX_QUIC_STREAM_LIMIT'
  /** CRYPTO data beyond what can be buffered (§19.6: CRYPTO_BUFFER_EXCEEDED). */
  | 'AVX_QUIC_CRYPTO_BUFFER'
  /** A packet whose header cannot be parsed; the packet is dropped (§5.2, §17). */
  | 'AVX_QUIC_MALFORMED_PACKET'
  /** A packet that fails AEAD authentication; the packet is dropped (RFC 9001 §5.5). */
  | 'AVX_QUIC_DECRYPT_FAILED'
  /** A Retry packet whose integrity tag does not verify; it is dropped (RFC 9001 §5.8). */
  | 'AVX_QUIC_RETRY_INTEGRITY';

/** A QUIC frame, packet or protection failure. */
export class QuicError extends AvxError {
  /** The RFC 9000 §20.1 transport error code for CONNECTION_CLOSE (when a connection error). */
  readonly errorCode: number;
  /** The type of the frame that failed (for CONNECTION_CLOSE's Frame Type field), or 0. */
  readonly frameType: number;
  /** True when the connection must close (§11.1); false when only the packet is dropped. */
  readonly isConnectionError: boolean;

  constructor(code: QuicErrorKind, errorCode: number, message: string, frameType = 0) {
    super(code, `${message} [${quicTransportErrorName(errorCode)}]`);
    this.errorCode = errorCode;
    this.frameType = frameType;
    this.isConnectionError =
      code !== 'AVX_QUIC_MALFORMED_PACKET' &&
      code !== 'AVX_QUIC_DECRYPT_FAILED' &&
      code !== 'AVX_QUIC_RETRY_INTEGRITY';
  }
}
