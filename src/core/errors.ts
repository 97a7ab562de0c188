/**
 * The error classes shared by every layer. Each error carries a stable `code` string that
 * programs may match on (`AVX_*`); the message is for people and may change between versions.
 * Protocol layers extend {@link AvxError} with their own classes (`H1ParseError`, ...).
 */

/** Options accepted by every avx-http error constructor. */
export interface AvxErrorOptions {
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
}

/** Base class of every error thrown or emitted by avx-http. */
export class AvxError extends Error {
  /** Stable machine-readable identifier, e.g. `AVX_INVALID_HEADER_NAME`. */
  readonly code: string;

  constructor(code: string, message: string, options?: AvxErrorOptions) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A header field name or value that breaks RFC 9110 §5.1 / §5.5 was supplied. */
export class InvalidHeaderError extends AvxError {
  /** The offending header name (as given). */
  readonly header: string;

  constructor(code: 'AVX_INVALID_HEADER_NAME' | 'AVX_INVALID_HEADER_VALUE', header: string, message: string) {
    super(code, message);
    this.header = header;
  }
}

/** A status code outside 100..999 (RFC 9110 §15 allows three digits only) was supplied. */
export class InvalidStatusError extends AvxError {
  readonly status: number;

  constructor(status: number) {
    super(
      'AVX_INVALID_STATUS',
      `invalid HTTP status code ${status}: must be an integer from 100 to 999 (RFC 9110 §15)`,
    );
    this.status = status;
  }
}

/** A method that is not an RFC 9110 §9.1 token was supplied. */
export class InvalidMethodError extends AvxError {
  readonly method: string;

  constructor(method: string) {
    super(
      'AVX_INVALID_METHOD',
      `invalid HTTP method ${JSON.stringify(method)}: must be a token (RFC 9110 §9.1)`,
    );
    this.method = method;
  }
}
