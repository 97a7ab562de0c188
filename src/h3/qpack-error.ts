/**
 * The errors of QPACK (RFC 9204 §6). Each carries a stable `AVX_QPACK_*` code and the HTTP/3
 * error code the connection closes with: QPACK_DECOMPRESSION_FAILED for a field section that
 * cannot be decoded, QPACK_ENCODER_STREAM_ERROR for a bad encoder-stream instruction,
 * QPACK_DECODER_STREAM_ERROR for a bad decoder-stream instruction. All three are connection
 * errors (§6). (A decoded field section over our size limit is not a QPACK error: the decoder
 * flags it, see `QpackFieldSection.tooLarge`, and the HTTP/3 layer refuses the message.)
 */
import { AvxError } from '../core/errors.js';

/** RFC 9204 §6 and §8.3: the HTTP/3 error codes of QPACK. */
export const QpackErrorCode = {
  QPACK_DECOMPRESSION_FAILED: 0x0200,
  QPACK_ENCODER_STREAM_ERROR: 0x0201,
  QPACK_DECODER_STREAM_ERROR: 0x0202,
} as const;

/** Stable codes of {@link QpackError}. */
export type QpackErrorKind =
  | 'AVX_QPACK_DECOMPRESSION_FAILED'
  | 'AVX_QPACK_ENCODER_STREAM'
  | 'AVX_QPACK_DECODER_STREAM';

const NAMES = new Map<number, string>(Object.entries(QpackErrorCode).map(([k, v]) => [v, k]));

/** Base class of QPACK errors. */
export class QpackError extends AvxError {
  /** The HTTP/3 error code to close the connection (or reset the stream) with. */
  readonly errorCode: number;
  /** The request stream whose field section failed, or -1 for the encoder or decoder stream. */
  readonly streamId: number;

  constructor(code: QpackErrorKind, errorCode: number, streamId: number, message: string) {
    super(code, `${message} [${NAMES.get(errorCode) ?? `0x${errorCode.toString(16)}`}]`);
    this.errorCode = errorCode;
    this.streamId = streamId;
  }

  /** True: every QPACK error closes the connection (RFC 9204 §6). */
  get isConnectionError(): boolean {
    return true;
  }
}

/** A field section the decoder cannot interpret (RFC 9204 §6: QPACK_DECOMPRESSION_FAILED). */
export class QpackDecompressionError extends QpackError {
  constructor(streamId: number, message: string) {
    super('AVX_QPACK_DECOMPRESSION_FAILED', QpackErrorCode.QPACK_DECOMPRESSION_FAILED, streamId, message);
  }
}

/** A bad instruction on the encoder stream (RFC 9204 §6: QPACK_ENCODER_STREAM_ERROR). */
export class QpackEncoderStreamError extends QpackError {
  constructor(message: string) {
    super('AVX_QPACK_ENCODER_STREAM', QpackErrorCode.QPACK_ENCODER_STREAM_ERROR, -1, message);
  }
}

/** A bad instruction on the decoder stream (RFC 9204 §6: QPACK_DECODER_STREAM_ERROR). */
export class QpackDecoderStreamError extends QpackError {
  constructor(message: string) {
    super('AVX_QPACK_DECODER_STREAM', QpackErrorCode.QPACK_DECODER_STREAM_ERROR, -1, message);
  }
}
