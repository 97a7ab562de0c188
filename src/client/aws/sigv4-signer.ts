/**
 * AWS Signature Version 4 (AWS IAM user guide, "Create a signed AWS API request"): the
 * `Authorization` header and the presigned-URL query parameters, from the canonical request
 * (sigv4-canonical-request.ts).
 *
 * ```
 * string to sign = "AWS4-HMAC-SHA256" \n amz-date \n date/region/service/aws4_request \n hex(SHA-256(canonical request))
 * signing key    = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
 * signature      = hex(HMAC(signing key, string to sign))
 * ```
 *
 * Sans-I/O: the time is an argument, credentials are given; nothing here reads a clock, the
 * environment or the network. The signing key depends only on the secret, the day, the region
 * and the service, so the last one is kept and reused while they stay the same.
 */
import { createHash, createHmac } from 'node:crypto';
import { AwsSigV4Error } from './aws-sigv4-error.js';
import { canonicalHeaders, canonicalQuery, canonicalUri, sigv4UriEncode } from './sigv4-canonical-request.js';

/** The algorithm name, the first line of the string to sign. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** The payload hash of an empty body: hex SHA-256 of nothing. */
export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** The payload hash that tells the service the body is not signed (S3 and a few others). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The longest lifetime of a presigned URL, in seconds (7 days). */
export const MAX_PRESIGN_SECONDS = 604_800;

/** AWS credentials: an access key, and the session token of temporary ones. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The session token of temporary credentials (STS), sent as `X-Amz-Security-Token`. */
  readonly sessionToken?: string;
}

/** What is signed of a request. */
export interface SigV4Request {
  /** The method, e.g. `GET`. */
  readonly method: string;
  /** The path as it goes on the wire (percent-encoded once), e.g. `/a%20b`. */
  readonly path: string;
  /** The query without `?`, as it goes on the wire; `''` for none. */
  readonly query: string;
  /** The header fields to sign, `host` among them; repeated names allowed. */
  readonly headers: Iterable<readonly [string, string]>;
  /** Hex SHA-256 of the body, or {@link UNSIGNED_PAYLOAD}. */
  readonly payloadHash: string;
}

/** The signer's scope and URI rules. */
export interface SigV4SignerOptions {
  /** The region, e.g. `sa-east-1`. */
  region: string;
  /** The service's signing name, e.g. `s3`, `execute-api`, `dynamodb`. */
  service: string;
  /**
   * Remove dot segments and empty segments from the path before signing. Default: true, but
   * false for `s3`, which signs the path as it is.
   */
  normalizePath?: boolean;
  /** Encode the (already encoded) path again. Default: true, but false for `s3`. */
  doubleEncodePath?: boolean;
}

/** Per-call choices of {@link SigV4Signer.sign} and {@link SigV4Signer.presign}. */
export interface SigV4SignOptions {
  /** Send and sign `x-amz-content-sha256` (S3 requires it). Default false. */
  payloadHashHeader?: boolean;
  /**
   * Add the session token after signing, unsigned (a few services want it so). Default false:
   * it is signed.
   */
  omitSessionToken?: boolean;
}

/** A signature, with what it was made from (for debugging a refused request). */
export interface SigV4Signature {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  /** Hex HMAC-SHA256. */
  readonly signature: string;
}

/** A header signature: the fields to add to the request, in this order. */
export interface SigV4HeaderSignature extends SigV4Signature {
  /** `X-Amz-Date`, `X-Amz-Security-Token`, `x-amz-content-sha256` as asked, then `Authorization`. */
  readonly headers: readonly (readonly [string, string])[];
}

/** A presigned request: the query to send instead of the request's own. */
export interface SigV4Presignature extends SigV4Signature {
  /** The request's query followed by the `X-Amz-*` parameters and the signature. */
  readonly query: string;
}

/** `YYYYMMDDTHHMMSSZ` of `time` (ms since the epoch), UTC. */
export function amzDate(time: number): string {
  const iso = new Date(time).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** Hex SHA-256 of `data`. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A credential-scope part: no `/` (it separates the parts), no whitespace, not empty. */
function checkScopePart(what: string, value: string): void {
  if (typeof value !== 'string' || value === '' || /[\s/]/.test(value)) {
    throw new AwsSigV4Error(
      'AVX_SIGV4_BAD_SCOPE',
      `the ${what} ${JSON.stringify(value)} cannot be signed for`,
    );
  }
}

/** Signs requests for one region and service (see the file comment). */
export class SigV4Signer {
  readonly region: string;
  readonly service: string;
  readonly normalizePath: boolean;
  readonly doubleEncodePath: boolean;
  /** The last signing key and what it was derived from. */
  #keySecret = '';
  #keyDay = '';
  #key: Buffer | undefined;

  constructor(options: SigV4SignerOptions) {
    checkScopePart('region', options.region);
    checkScopePart('service', options.service);
    this.region = options.region;
    this.service = options.service;
    const s3 = options.service === 's3';
    this.normalizePath = options.normalizePath ?? !s3;
    this.doubleEncodePath = options.doubleEncodePath ?? !s3;
  }

  /** The `Authorization` header and the fields that go with it, at `time` (ms since the epoch). */
  sign(
    request: SigV4Request,
    credentials: AwsCredentials,
    time: number,
    options: SigV4SignOptions = {},
  ): SigV4HeaderSignature {
    const date = amzDate(time);
    const added: [string, string][] = [['X-Amz-Date', date]];
    const token = credentials.sessionToken;
    const signToken = token !== undefined && token !== '' && options.omitSessionToken !== true;
    if (signToken) added.push(['X-Amz-Security-Token', token]);
    if (options.payloadHashHeader === true) added.push(['x-amz-content-sha256', request.payloadHash]);
    // The request's own fields, less any of ours it already had, then ours.
    const fields: (readonly [string, string])[] = [];
    for (const field of request.headers) {
      const name = field[0].toLowerCase();
      if (
        name === 'authorization' ||
        name === 'x-amz-date' ||
        (signToken && name === 'x-amz-security-token')
      ) {
        continue;
      }
      if (options.payloadHashHeader === true && name === 'x-amz-content-sha256') continue;
      fields.push(field);
    }
    for (const field of added) fields.push(field);
    const headers = canonicalHeaders(fields);
    const canonicalRequest = this.#canonicalRequest(
      request,
      canonicalQuery(request.query),
      headers.block,
      headers.signedHeaders,
    );
    const signature = this.#signature(canonicalRequest, credentials, date);
    if (token !== undefined && token !== '' && !signToken) added.push(['X-Amz-Security-Token', token]);
    added.push([
      'Authorization',
      `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${this.#scope(date)}, SignedHeaders=${headers.signedHeaders}, Signature=${signature.signature}`,
    ]);
    return { ...signature, headers: added };
  }

  /**
   * The query of a presigned URL valid for `expiresIn` seconds from `time` (ms since the
   * epoch): the request's query, then `X-Amz-Algorithm`, `-Credential`, `-Date`,
   * `-SignedHeaders`, `-Expires`, `-Security-Token` and `-Signature`.
   */
  presign(
    request: SigV4Request,
    credentials: AwsCredentials,
    time: number,
    expiresIn: number,
    options: SigV4SignOptions = {},
  ): SigV4Presignature {
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new AwsSigV4Error(
        'AVX_SIGV4_EXPIRES_RANGE',
        `a presigned URL lives 1 to ${MAX_PRESIGN_SECONDS} whole seconds, not ${expiresIn}`,
      );
    }
    const date = amzDate(time);
    const headers = canonicalHeaders(request.headers);
    const token = credentials.sessionToken;
    const hasToken = token !== undefined && token !== '';
    const signToken = hasToken && options.omitSessionToken !== true;
    let ours =
      `X-Amz-Algorithm=${SIGV4_ALGORITHM}` +
      `&X-Amz-Credential=${sigv4UriEncode(`${credentials.accessKeyId}/${this.#scope(date)}`, false)}` +
      `&X-Amz-Date=${date}` +
      `&X-Amz-SignedHeaders=${sigv4UriEncode(headers.signedHeaders, false)}` +
      `&X-Amz-Expires=${expiresIn}`;
    const tokenParameter = hasToken ? `&X-Amz-Security-Token=${sigv4UriEncode(token, false)}` : '';
    if (signToken) ours += tokenParameter;
    const query = request.query === '' ? ours : `${request.query}&${ours}`;
    const canonicalRequest = this.#canonicalRequest(
      request,
      canonicalQuery(query),
      headers.block,
      headers.signedHeaders,
    );
    const signature = this.#signature(canonicalRequest, credentials, date);
    const signed = `${query}${signToken ? '' : tokenParameter}&X-Amz-Signature=${signature.signature}`;
    return { ...signature, query: signed };
  }

  #canonicalRequest(
    request: SigV4Request,
    query: string,
    headerBlock: string,
    signedHeaders: string,
  ): string {
    const uri = canonicalUri(request.path, this.normalizePath, this.doubleEncodePath);
    return `${request.method}\n${uri}\n${query}\n${headerBlock}\n${signedHeaders}\n${request.payloadHash}`;
  }

  /** `date/region/service/aws4_request` for an amz-date. */
  #scope(date: string): string {
    return `${date.slice(0, 8)}/${this.region}/${this.service}/aws4_request`;
  }

  #signature(canonicalRequest: string, credentials: AwsCredentials, date: string): SigV4Signature {
    const stringToSign = `${SIGV4_ALGORITHM}\n${date}\n${this.#scope(date)}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac('sha256', this.#signingKey(credentials.secretAccessKey, date.slice(0, 8)))
      .update(stringToSign)
      .digest('hex');
    return { canonicalRequest, stringToSign, signature };
  }

  /** The signing key of a day (`YYYYMMDD`), derived again only when the secret or day changes. */
  #signingKey(secret: string, day: string): Buffer {
    if (this.#key !== undefined && this.#keySecret === secret && this.#keyDay === day) return this.#key;
    const dateKey = createHmac('sha256', `AWS4${secret}`).update(day).digest();
    const regionKey = createHmac('sha256', dateKey).update(this.region).digest();
    const serviceKey = createHmac('sha256', regionKey).update(this.service).digest();
    const key = createHmac('sha256', serviceKey).update('aws4_request').digest();
    this.#keySecret = secret;
    this.#keyDay = day;
    this.#key = key;
    return key;
  }
}
