/** Errors of AWS Signature Version 4 signing (sigv4-signer.ts, aws-sigv4-policy.ts). */
import { AvxError, type AvxErrorOptions } from '../../core/errors.js';

/** Codes of {@link AwsSigV4Error}. */
export type AwsSigV4ErrorCode =
  /** No credentials given, and none in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`. */
  | 'AVX_SIGV4_NO_CREDENTIALS'
  /** The credentials provider failed or gave something that is not credentials. */
  | 'AVX_SIGV4_BAD_CREDENTIALS'
  /** A presigned URL's lifetime outside 1 s .. 7 days (604 800 s). */
  | 'AVX_SIGV4_EXPIRES_RANGE'
  /** A body that can be read only once, with no payload hash given and unsigned payloads off. */
  | 'AVX_SIGV4_UNHASHABLE_BODY'
  /** `region` or `service` missing or holding a character the credential scope cannot carry. */
  | 'AVX_SIGV4_BAD_SCOPE';

/** A request could not be signed. */
export class AwsSigV4Error extends AvxError {
  constructor(code: AwsSigV4ErrorCode, message: string, options?: AvxErrorOptions) {
    super(code, message, options);
  }
}
