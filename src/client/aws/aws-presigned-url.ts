/**
 * `presignAwsUrl()`: a URL that carries its own AWS Signature Version 4 in the query
 * (`X-Amz-Signature`, ...; sigv4-signer.ts), for handing a time-limited S3 download or upload
 * link to someone without credentials.
 */
import { Headers, type HeadersInit } from '../../core/headers.js';
import { type AwsCredentialsSource, resolveAwsCredentials } from './aws-credentials.js';
import { sigv4EncodePath } from './sigv4-canonical-request.js';
import {
  EMPTY_PAYLOAD_SHA256,
  SigV4Signer,
  type SigV4SignerOptions,
  UNSIGNED_PAYLOAD,
} from './sigv4-signer.js';

/** Options of {@link presignAwsUrl}. */
export interface PresignAwsUrlOptions extends SigV4SignerOptions {
  /** The credentials, or a provider. Default: the AWS_* environment variables. */
  credentials?: AwsCredentialsSource;
  /** Seconds the URL stays valid, 1 to 604 800 (7 days). Default 900. */
  expiresIn?: number;
  /** The method the URL is for. Default `'GET'`. */
  method?: string;
  /** Fields the user of the URL must send as they are (signed with `host`). Default: none. */
  headers?: HeadersInit;
  /** The payload hash signed. Default `UNSIGNED-PAYLOAD` for `s3`, else the empty body's hash. */
  payloadHash?: string;
  /** Sign without the session token and add it after. Default false. */
  omitSessionToken?: boolean;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** `url` presigned (see the file comment). Rejects with an `AwsSigV4Error` when it cannot be signed. */
export async function presignAwsUrl(url: string | URL, options: PresignAwsUrlOptions): Promise<URL> {
  const signer = new SigV4Signer(options);
  const credentials = await resolveAwsCredentials(options.credentials);
  const target = new URL(url);
  // S3 signs the path as it is sent: send it encoded the SigV4 way (aws-sigv4-policy.ts).
  if (!signer.doubleEncodePath) target.pathname = sigv4EncodePath(target.pathname);
  const fields: [string, string][] = [['host', target.host]];
  for (const [name, value] of new Headers(options.headers)) {
    if (name.toLowerCase() !== 'host') fields.push([name, value]);
  }
  const signed = signer.presign(
    {
      method: options.method ?? 'GET',
      path: target.pathname,
      query: target.search === '' ? '' : target.search.slice(1),
      headers: fields,
      payloadHash:
        options.payloadHash ?? (options.service === 's3' ? UNSIGNED_PAYLOAD : EMPTY_PAYLOAD_SHA256),
    },
    credentials,
    (options.now ?? Date.now)(),
    options.expiresIn ?? 900,
    { omitSessionToken: options.omitSessionToken === true },
  );
  target.search = `?${signed.query}`;
  return target;
}
