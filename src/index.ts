/**
 * avx-http public entry point. Everything a user imports comes from here.
 */

export { isFieldValue, isToken } from './core/char-classes.js';
export { AvxError, InvalidHeaderError, InvalidMethodError, InvalidStatusError } from './core/errors.js';
export {
  isIdempotentMethod,
  isKnownMethod,
  isSafeMethod,
  KNOWN_METHODS,
  Method,
  validateMethod,
} from './core/method.js';
export type { H1ParseErrorCode } from './h1/h1-parse-error.js';
export { H1ParseError } from './h1/h1-parse-error.js';
export { H1Parser } from './h1/h1-parser.js';
export {
  type H1Leniency,
  type H1MessageHead,
  type H1ParserHandler,
  type H1ParserOptions,
  type H1RequestHead,
  H1ResponseBody,
  type H1ResponseHead,
} from './h1/h1-types.js';
export { VERSION } from './version.js';
