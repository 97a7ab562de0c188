/**
 * HTTP status codes (RFC 9110 §15): a constant for every code in the IANA HTTP Status Code
 * Registry, the registry's reason phrases, the five class predicates (RFC 9110 §15.1) and
 * validation of the three-digit range.
 *
 * Registry notes:
 * - 104 Upload Resumption Supported is a temporary registration (draft-ietf-httpbis-resumable-upload);
 *   it is included because peers already send it.
 * - 306 and 418 are "(Unused)" in the registry (RFC 9110 §15.4.7, §15.5.19). They have no constant
 *   and `reasonPhrase` returns '' for them; 418 "I'm a teapot" is deliberately not revived.
 * - 510 Not Extended is marked "(OBSOLETED)" in the registry; the constant and phrase are kept so
 *   messages that use it can still be described.
 */
import { InvalidStatusError } from './errors.js';

/** Every IANA-registered status code by name: `Status.OK === 200`, `Status.NOT_FOUND === 404`. */
export const Status = {
  // 1xx Informational (RFC 9110 §15.2)
  CONTINUE: 100,
  SWITCHING_PROTOCOLS: 101,
  /** RFC 2518 §10.1 */
  PROCESSING: 102,
  /** RFC 8297 */
  EARLY_HINTS: 103,
  /** Temporary registration, draft-ietf-httpbis-resumable-upload. */
  UPLOAD_RESUMPTION_SUPPORTED: 104,

  // 2xx Successful (RFC 9110 §15.3)
  OK: 200,
  CREATED: 201,
  ACCEPTED: 202,
  NON_AUTHORITATIVE_INFORMATION: 203,
  NO_CONTENT: 204,
  RESET_CONTENT: 205,
  PARTIAL_CONTENT: 206,
  /** RFC 4918 §11.1 */
  MULTI_STATUS: 207,
  /** RFC 5842 §7.1 */
  ALREADY_REPORTED: 208,
  /** RFC 3229 §10.4.1 */
  IM_USED: 226,

  // 3xx Redirection (RFC 9110 §15.4)
  MULTIPLE_CHOICES: 300,
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  NOT_MODIFIED: 304,
  USE_PROXY: 305,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,

  // 4xx Client Error (RFC 9110 §15.5)
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  PROXY_AUTHENTICATION_REQUIRED: 407,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  GONE: 410,
  LENGTH_REQUIRED: 411,
  PRECONDITION_FAILED: 412,
  /** Formerly "Payload Too Large" (RFC 7231). */
  CONTENT_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  EXPECTATION_FAILED: 417,
  MISDIRECTED_REQUEST: 421,
  /** Formerly "Unprocessable Entity" (RFC 4918). */
  UNPROCESSABLE_CONTENT: 422,
  /** RFC 4918 §11.3 */
  LOCKED: 423,
  /** RFC 4918 §11.4 */
  FAILED_DEPENDENCY: 424,
  /** RFC 8470 §5.2 */
  TOO_EARLY: 425,
  UPGRADE_REQUIRED: 426,
  /** RFC 6585 §3 */
  PRECONDITION_REQUIRED: 428,
  /** RFC 6585 §4 */
  TOO_MANY_REQUESTS: 429,
  /** RFC 6585 §5 */
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
  /** RFC 7725 §3 */
  UNAVAILABLE_FOR_LEGAL_REASONS: 451,

  // 5xx Server Error (RFC 9110 §15.6)
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  HTTP_VERSION_NOT_SUPPORTED: 505,
  /** RFC 2295 §8.1 */
  VARIANT_ALSO_NEGOTIATES: 506,
  /** RFC 4918 §11.5 */
  INSUFFICIENT_STORAGE: 507,
  /** RFC 5842 §7.2 */
  LOOP_DETECTED: 508,
  /** RFC 2774 §7; obsoleted (the registry marks it "(OBSOLETED)"). */
  NOT_EXTENDED: 510,
  /** RFC 6585 §6 */
  NETWORK_AUTHENTICATION_REQUIRED: 511,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** Registry reason phrases, keyed by code, in registry order. */
const REGISTRY: ReadonlyArray<readonly [number, string]> = [
  [100, 'Continue'],
  [101, 'Switching Protocols'],
  [102, 'Processing'],
  [103, 'Early Hints'],
  [104, 'Upload Resumption Supported'],
  [200, 'OK'],
  [201, 'Created'],
  [202, 'Accepted'],
  [203, 'Non-Authoritative Information'],
  [204, 'No Content'],
  [205, 'Reset Content'],
  [206, 'Partial Content'],
  [207, 'Multi-Status'],
  [208, 'Already Reported'],
  [226, 'IM Used'],
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Found'],
  [303, 'See Other'],
  [304, 'Not Modified'],
  [305, 'Use Proxy'],
  [307, 'Temporary Redirect'],
  [308, 'Permanent Redirect'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'],
  [409, 'Conflict'],
  [410, 'Gone'],
  [411, 'Length Required'],
  [412, 'Precondition Failed'],
  [413, 'Content Too Large'],
  [414, 'URI Too Long'],
  [415, 'Unsupported Media Type'],
  [416, 'Range Not Satisfiable'],
  [417, 'Expectation Failed'],
  [421, 'Misdirected Request'],
  [422, 'Unprocessable Content'],
  [423, 'Locked'],
  [424, 'Failed Dependency'],
  [425, 'Too Early'],
  [426, 'Upgrade Required'],
  [428, 'Precondition Required'],
  [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'],
  [451, 'Unavailable For Legal Reasons'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Timeout'],
  [505, 'HTTP Version Not Supported'],
  [506, 'Variant Also Negotiates'],
  [507, 'Insufficient Storage'],
  [508, 'Loop Detected'],
  [510, 'Not Extended'],
  [511, 'Network Authentication Required'],
];

/** Reason phrase by code, '' where the code is unregistered. Index 0..999. */
const PHRASES: string[] = new Array<string>(1000).fill('');
for (const [code, phrase] of REGISTRY) PHRASES[code] = phrase;

/** Every registered status code, ascending. */
export const REGISTERED_STATUS_CODES: readonly number[] = Object.freeze(REGISTRY.map(([code]) => code));

/**
 * The registry's reason phrase for `code` ('Not Found' for 404), or '' when the code is not
 * registered (including 306 and 418, which the registry lists as unused) or is not an
 * integer from 0 to 999. Reason phrases are advisory only (RFC 9110 §15, RFC 9112 §4).
 */
export function reasonPhrase(code: number): string {
  // `code >>> 0 === code` holds exactly for integers 0..2^32-1, so this is an integer range check.
  return code >>> 0 === code && code < 1000 ? PHRASES[code]! : '';
}

/** True for 1xx: the request was received, processing continues (RFC 9110 §15.2). */
export function isInformational(code: number): boolean {
  return code >= 100 && code < 200;
}

/** True for 2xx: the request was received, understood and accepted (RFC 9110 §15.3). */
export function isSuccessful(code: number): boolean {
  return code >= 200 && code < 300;
}

/** True for 3xx: further action is needed to complete the request (RFC 9110 §15.4). */
export function isRedirection(code: number): boolean {
  return code >= 300 && code < 400;
}

/** True for 4xx: the request is in error (RFC 9110 §15.5). */
export function isClientError(code: number): boolean {
  return code >= 400 && code < 500;
}

/** True for 5xx: the server failed to fulfil a valid request (RFC 9110 §15.6). */
export function isServerError(code: number): boolean {
  return code >= 500 && code < 600;
}

/**
 * Returns `code` when it is an integer from 100 to 999, else throws {@link InvalidStatusError}.
 * RFC 9110 §15 calls only 100..599 valid, but the wire syntax is any three digits
 * (RFC 9112 §4 `status-code = 3DIGIT`) and peers do send 6xx..9xx, so those are accepted here,
 * as Node's own HTTP stack does; the class predicates are all false for them.
 */
export function validateStatus(code: number): number {
  if (!Number.isInteger(code) || code < 100 || code > 999) throw new InvalidStatusError(code);
  return code;
}
