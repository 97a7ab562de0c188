/**
 * The errors of the HTTP/3 layer (RFC 9114 §8). Each carries a stable `AVX_H3_*` code, the
 * HTTP/3 error code sent to the peer (§8.1; QPACK's codes of RFC 9204 §6 too), and its scope:
 * a connection error closes the whole connection (§8), a stream error resets one request
 * stream (§8, §4.1.2). Errors the application causes by misusing the API (sending on a closed
 * stream, a request after GOAWAY) are `H3Error`s too, thrown, with scope 'local'.
 */
import { AvxError } from '../core/errors.js';

/** RFC 9114 §8.1 (and RFC 9204 §6): the HTTP/3 error codes. */
export const H3ErrorCode = {
  H3_NO_ERROR: 0x0100,
  H3_GENERAL_PROTOCOL_ERROR: 0x0101,
  H3_INTERNAL_ERROR: 0x0102,
  H3_STREAM_CREATION_ERROR: 0x0103,
  H3_CLOSED_CRITICAL_STREAM: 0x0104,
  H3_FRAME_UNEXPECTED: 0x0105,
  H3_FRAME_ERROR: 0x0106,
  H3_EXCESSIVE_LOAD: 0x0107,
  H3_ID_ERROR: 0x0108,
  H3_SETTINGS_ERROR: 0x0109,
  H3_MISSING_SETTINGS: 0x010a,
  H3_REQUEST_REJECTED: 0x010b,
  H3_REQUEST_CANCELLED: 0x010c,
  H3_REQUEST_INCOMPLETE: 0x010d,
  H3_MESSAGE_ERROR: 0x010e,
  H3_CONNECT_ERROR: 0x010f,
  H3_VERSION_FALLBACK: 0x0110,
  QPACK_DECOMPRESSION_FAILED: 0x0200,
  QPACK_ENCODER_STREAM_ERROR: 0x0201,
  QPACK_DECODER_STREAM_ERROR: 0x0202,
} as const;

const NAMES = new Map<number, string>(Object.entries(H3ErrorCode).map(([k, v]) => [v, k]));

/** The name of an HTTP/3 error code (`H3_FRAME_ERROR`), or its hex value when unknown (§9). */
export function h3ErrorCodeName(code: number): string {
  return NAMES.get(code) ?? `0x${code.toString(16)}`;
}

/** Where an {@link H3Error} applies. */
export type H3ErrorScope = 'connection' | 'stream' | 'local';

/** An HTTP/3 connection error, stream error, or misuse of the API. */
export class H3Error extends AvxError {
  /** The HTTP/3 error code (RFC 9114 §8.1) sent in CONNECTION_CLOSE or RESET_STREAM. */
  readonly errorCode: number;
  /** The stream concerned, or -1 when none. */
  readonly streamId: number;
  /** Connection error (§8), stream error (§4.1.2), or an API misuse thrown to the caller. */
  readonly scope: H3ErrorScope;

  constructor(scope: H3ErrorScope, errorCode: number, streamId: number, message: string, cause?: unknown) {
    const name = h3ErrorCodeName(errorCode);
    const code =
      scope === 'local' ? 'AVX_H3_INVALID_STATE' : `AVX_${name.startsWith('H3_') ? name : `H3_${name}`}`;
    super(code, `${message} [${name}]`, cause === undefined ? undefined : { cause });
    this.errorCode = errorCode;
    this.streamId = streamId;
    this.scope = scope;
  }

  /** A connection error of `errorCode` (RFC 9114 §8). */
  static connection(errorCode: number, message: string, cause?: unknown): H3Error {
    return new H3Error('connection', errorCode, -1, message, cause);
  }

  /** A stream error of `errorCode` on request stream `streamId` (RFC 9114 §8). */
  static stream(streamId: number, errorCode: number, message: string): H3Error {
    return new H3Error('stream', errorCode, streamId, message);
  }

  /** True when the whole connection fails. */
  get isConnectionError(): boolean {
    return this.scope === 'connection';
  }
}
