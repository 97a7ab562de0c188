/**
 * avx-http public entry point. Everything a user imports comes from here.
 */

export { isFieldValue, isToken } from './core/char-classes.js';
export { AvxError, InvalidHeaderError, InvalidMethodError, InvalidStatusError } from './core/errors.js';
export {
  Headers,
  type HeadersFromFlatOptions,
  type HeadersInit,
  type HeaderValue,
  normalizeHeaderValue,
  validateHeaderName,
} from './core/headers.js';
export {
  type BodySource,
  BodyTooLargeError,
  BodyUsedError,
  IncomingBody,
  type IncomingBodyOptions,
  InvalidJsonBodyError,
} from './core/incoming-body.js';
export {
  isIdempotentMethod,
  isKnownMethod,
  isSafeMethod,
  KNOWN_METHODS,
  Method,
  validateMethod,
} from './core/method.js';
export {
  isClientError,
  isInformational,
  isRedirection,
  isServerError,
  isSuccessful,
  REGISTERED_STATUS_CODES,
  reasonPhrase,
  Status,
  validateStatus,
} from './core/status.js';
export { ChunkedEncoder } from './h1/chunked-encoder.js';
export type { H1ParseErrorCode } from './h1/h1-parse-error.js';
export { H1ParseError } from './h1/h1-parse-error.js';
export { H1Parser } from './h1/h1-parser.js';
export { type H1FieldLines, serializeRequestHead, serializeResponseHead } from './h1/h1-serializer.js';
export {
  type H1Leniency,
  type H1MessageHead,
  type H1ParserHandler,
  type H1ParserOptions,
  type H1RequestHead,
  H1ResponseBody,
  type H1ResponseHead,
} from './h1/h1-types.js';
export { ByteQueue, ByteQueueUnderflowError } from './runtime/byte-queue.js';
export {
  formatHttpDate,
  HttpDateCache,
  HttpDateRangeError,
  httpDate,
  httpDateHeaderLine,
  parseHttpDate,
} from './runtime/http-date.js';
export {
  DEFAULT_TICK_MS,
  defaultTimerWheel,
  type TimerCallback,
  TimerHandle,
  TimerWheel,
  TimerWheelError,
  type TimerWheelErrorCode,
  type TimerWheelOptions,
  type TimerWheelTimers,
} from './runtime/timer-wheel.js';
export { VERSION } from './version.js';
