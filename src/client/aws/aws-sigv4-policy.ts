/**
 * `awsSigV4()`: client dispatch middleware that signs every request with AWS Signature
 * Version 4 (sigv4-signer.ts), for `client.use(awsSigV4({ region, service }))`.
 *
 * What is signed: the method, the path and query as they go on the wire, `host` (the
 * request's Host field, else the URL's authority, as the connection sends it: RFC 9110 §7.2,
 * or `:authority`, RFC 9113 §8.3.1), every field of the request but those proxies and the
 * transport may change (see {@link UNSIGNED_FIELDS}), and the body's SHA-256. A body known in
 * full is hashed; one that can be read only once (a stream) cannot be hashed up front, so it
 * is sent as `UNSIGNED-PAYLOAD` where the service accepts that (S3, and wherever
 * `unsignedPayload` says so), or its hash is taken from an `x-amz-content-sha256` field the
 * caller set; otherwise the request fails with `AVX_SIGV4_UNHASHABLE_BODY`.
 *
 * Placed with `client.use()`, it runs before the redirect and retry policies: a retry sends
 * the same signature again (valid for 15 minutes at AWS), and a redirect to another origin
 * drops `Authorization` (redirect-policy.ts).
 *
 * For S3 the path is sent as it is signed: each segment decoded and encoded again the SigV4
 * way, since S3 compares the path it receives with the signed one (WHATWG URLs leave `!`,
 * `*`, `'`, `(`, `)` and others unencoded).
 */
import { Headers } from '../../core/headers.js';
import type { ClientRequest } from '../client-request.js';
import type { DispatchMiddleware } from '../dispatch.js';
import { type AwsCredentialsSource, resolveAwsCredentials } from './aws-credentials.js';
import { AwsSigV4Error } from './aws-sigv4-error.js';
import { sigv4EncodePath } from './sigv4-canonical-request.js';
import {
  EMPTY_PAYLOAD_SHA256,
  type SigV4Request,
  SigV4Signer,
  type SigV4SignerOptions,
  sha256Hex,
  UNSIGNED_PAYLOAD,
} from './sigv4-signer.js';

/** Options of {@link awsSigV4}. */
export interface AwsSigV4Options extends SigV4SignerOptions {
  /** The credentials, or a provider asked before each request. Default: the AWS_* environment variables. */
  credentials?: AwsCredentialsSource;
  /**
   * Send bodies that cannot be hashed up front (streams) as `UNSIGNED-PAYLOAD`. Default: true
   * for `s3`, false otherwise (most services refuse unsigned bodies).
   */
  unsignedPayload?: boolean;
  /** Send and sign `x-amz-content-sha256`. Default: true for `s3` (which requires it), false otherwise. */
  payloadHashHeader?: boolean;
  /** Add the session token after signing, unsigned. Default false. */
  omitSessionToken?: boolean;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * Fields left out of the signature: hop-by-hop or rewritten on the way (RFC 9110 §7.6.1,
 * proxies, tracing), and those the connection writes itself after this middleware
 * (`content-length`, `transfer-encoding`).
 */
const UNSIGNED_FIELDS = new Set([
  'authorization',
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'traceparent',
  'tracestate',
  'x-amzn-trace-id',
]);

/** Signs every request (see the file comment). */
export function awsSigV4(options: AwsSigV4Options): DispatchMiddleware {
  const signer = new SigV4Signer(options);
  const s3 = options.service === 's3';
  const unsignedPayload = options.unsignedPayload ?? s3;
  const payloadHashHeader = options.payloadHashHeader ?? s3;
  const signOptions = { payloadHashHeader, omitSessionToken: options.omitSessionToken === true };
  const now = options.now ?? Date.now;
  return async (request, next) => {
    const credentials = await resolveAwsCredentials(options.credentials);
    let url = request.url;
    if (!signer.doubleEncodePath) {
      const path = sigv4EncodePath(url.pathname);
      if (path !== url.pathname) {
        url = new URL(url.href);
        url.pathname = path;
      }
    }
    const headers = new Headers(request.headers);
    const body = request.body;
    if (body !== null && body.contentType !== undefined && !headers.has('content-type')) {
      headers.set('content-type', body.contentType);
    }
    const fields: [string, string][] = [];
    let hasHost = false;
    for (const [name, value] of headers) {
      const key = name.toLowerCase();
      if (key === 'host') hasHost = true;
      if (!UNSIGNED_FIELDS.has(key)) fields.push([key, value]);
    }
    if (!hasHost) fields.push(['host', url.host]);
    const toSign: SigV4Request = {
      method: request.method,
      path: url.pathname,
      query: url.search === '' ? '' : url.search.slice(1),
      headers: fields,
      payloadHash: payloadHashOf(request, headers, unsignedPayload),
    };
    const signed = signer.sign(toSign, credentials, now(), signOptions);
    for (const [name, value] of signed.headers) headers.set(name, value);
    return next(request.with({ url, headers }));
  };
}

/** The payload hash of the request's body (see the file comment). */
function payloadHashOf(request: ClientRequest, headers: Headers, unsignedPayload: boolean): string {
  const body = request.body;
  if (body === null || body.length === 0) return EMPTY_PAYLOAD_SHA256;
  if (body.bytes !== undefined) return sha256Hex(body.bytes);
  const given = headers.get('x-amz-content-sha256');
  if (given !== undefined) return given;
  if (unsignedPayload) return UNSIGNED_PAYLOAD;
  throw new AwsSigV4Error(
    'AVX_SIGV4_UNHASHABLE_BODY',
    'a streamed body cannot be hashed before it is sent: give its hex SHA-256 in x-amz-content-sha256, pass the body as bytes, or set unsignedPayload if the service accepts UNSIGNED-PAYLOAD',
  );
}
