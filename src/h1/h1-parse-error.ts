/**
 * The typed error of the HTTP/1.1 codec. Every rejection names the rule that was broken
 * and carries the status code a server should answer with before closing the connection.
 */
import { AvxError } from '../core/errors.js';

/** Stable codes of {@link H1ParseError}. */
export type H1ParseErrorCode =
  | 'AVX_H1_INVALID_METHOD'
  | 'AVX_H1_UNKNOWN_METHOD'
  | 'AVX_H1_INVALID_TARGET'
  | 'AVX_H1_URI_TOO_LONG'
  | 'AVX_H1_INVALID_VERSION'
  | 'AVX_H1_UNSUPPORTED_VERSION'
  | 'AVX_H1_INVALID_STATUS'
  | 'AVX_H1_INVALID_START_LINE'
  | 'AVX_H1_INVALID_LINE_ENDING'
  | 'AVX_H1_INVALID_HEADER_NAME'
  | 'AVX_H1_INVALID_HEADER_VALUE'
  | 'AVX_H1_WHITESPACE_BEFORE_COLON'
  | 'AVX_H1_OBS_FOLD'
  | 'AVX_H1_HEADER_TOO_LARGE'
  | 'AVX_H1_TOO_MANY_HEADERS'
  | 'AVX_H1_INVALID_CONTENT_LENGTH'
  | 'AVX_H1_DUPLICATE_CONTENT_LENGTH'
  | 'AVX_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING'
  | 'AVX_H1_INVALID_TRANSFER_ENCODING'
  | 'AVX_H1_INVALID_CHUNK_SIZE'
  | 'AVX_H1_CHUNK_SIZE_OVERFLOW'
  | 'AVX_H1_INVALID_CHUNK_EXTENSION'
  | 'AVX_H1_CHUNK_EXTENSION_TOO_LARGE'
  | 'AVX_H1_INVALID_CHUNK_DATA_END'
  | 'AVX_H1_DATA_AFTER_CLOSE'
  | 'AVX_H1_UNEXPECTED_EOF'
  | 'AVX_H1_PARSER_FAILED';

/** Raised by `H1Parser` when the input breaks RFC 9112 or a configured limit. */
export class H1ParseError extends AvxError {
  declare readonly code: H1ParseErrorCode;
  /**
   * The status a server should send before closing: 400 for malformed input, 414 for a long
   * target, 431 for an oversized header section, 501 for an unknown method or transfer
   * coding, 505 for an unsupported version.
   */
  readonly status: number;
  /** Offset in the parser's whole input stream at which the problem was seen. */
  readonly offset: number;

  constructor(code: H1ParseErrorCode, message: string, status: number, offset: number) {
    super(code, message);
    this.status = status;
    this.offset = offset;
  }
}
