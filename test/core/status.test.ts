// Tests for src/core/status.ts: the IANA HTTP Status Code Registry constants and phrases,
// the RFC 9110 §15 class predicates and status validation.
import assert from 'node:assert/strict';
import test from 'node:test';
import { InvalidStatusError } from '../../src/core/errors.js';
import {
  isClientError,
  isInformational,
  isRedirection,
  isServerError,
  isSuccessful,
  REGISTERED_STATUS_CODES,
  reasonPhrase,
  Status,
  validateStatus,
} from '../../src/core/status.js';

/** The registry, typed out independently of the implementation's table. */
const EXPECTED: Record<number, string> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  104: 'Upload Resumption Supported',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

test('Status constants carry the registered numbers', () => {
  assert.equal(Status.OK, 200);
  assert.equal(Status.NOT_FOUND, 404);
  assert.equal(Status.CONTINUE, 100);
  assert.equal(Status.EARLY_HINTS, 103);
  assert.equal(Status.UPLOAD_RESUMPTION_SUPPORTED, 104);
  assert.equal(Status.IM_USED, 226);
  assert.equal(Status.PERMANENT_REDIRECT, 308);
  assert.equal(Status.CONTENT_TOO_LARGE, 413);
  assert.equal(Status.MISDIRECTED_REQUEST, 421);
  assert.equal(Status.UNPROCESSABLE_CONTENT, 422);
  assert.equal(Status.TOO_MANY_REQUESTS, 429);
  assert.equal(Status.UNAVAILABLE_FOR_LEGAL_REASONS, 451);
  assert.equal(Status.NETWORK_AUTHENTICATION_REQUIRED, 511);
});

test('Status has exactly the registered codes, each once', () => {
  const codes = Object.values(Status).sort((a, b) => a - b);
  const expected = Object.keys(EXPECTED)
    .map(Number)
    .sort((a, b) => a - b);
  assert.deepEqual(codes, expected);
  assert.equal(new Set(codes).size, codes.length, 'no two constants share a code');
  assert.deepEqual([...REGISTERED_STATUS_CODES], expected);
  assert.ok(Object.isFrozen(REGISTERED_STATUS_CODES));
});

test('every registered code maps to its registry phrase', () => {
  for (const [code, phrase] of Object.entries(EXPECTED)) {
    assert.equal(reasonPhrase(Number(code)), phrase, `phrase of ${code}`);
  }
});

test('registry wording of RFC 9110, not the older RFC 7231 names', () => {
  assert.equal(reasonPhrase(413), 'Content Too Large');
  assert.equal(reasonPhrase(422), 'Unprocessable Content');
  assert.equal(reasonPhrase(421), 'Misdirected Request');
  assert.equal(reasonPhrase(416), 'Range Not Satisfiable');
  assert.equal(reasonPhrase(414), 'URI Too Long');
});

test('reasonPhrase is empty for unused, unassigned and out-of-range codes', () => {
  // 306 and 418 are "(Unused)" in the registry.
  assert.equal(reasonPhrase(306), '');
  assert.equal(reasonPhrase(418), '');
  for (const code of [
    0, 99, 105, 199, 209, 225, 227, 309, 418, 419, 420, 427, 430, 432, 450, 452, 509, 512, 599,
  ]) {
    assert.equal(reasonPhrase(code), '', `code ${code}`);
  }
  for (const code of [600, 999, 1000, 20000, -1, -404, 200.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.equal(reasonPhrase(code), '', `code ${code}`);
  }
});

test('class predicates at the class boundaries (RFC 9110 §15)', () => {
  const predicates = [isInformational, isSuccessful, isRedirection, isClientError, isServerError];
  // For each boundary code, the index of the predicate that must be true (-1: none).
  const cases: Array<[number, number]> = [
    [99, -1],
    [100, 0],
    [199, 0],
    [200, 1],
    [299, 1],
    [300, 2],
    [399, 2],
    [400, 3],
    [499, 3],
    [500, 4],
    [599, 4],
    [600, -1],
    [0, -1],
    [-200, -1],
    [999, -1],
  ];
  for (const [code, which] of cases) {
    predicates.forEach((predicate, i) => {
      assert.equal(predicate(code), i === which, `${predicate.name}(${code})`);
    });
  }
});

test('validateStatus accepts integers 100..999 and returns them', () => {
  for (const code of [100, 200, 404, 599, 600, 999]) assert.equal(validateStatus(code), code);
});

test('validateStatus rejects non-integers and codes outside 100..999', () => {
  for (const code of [
    99,
    0,
    -1,
    1000,
    200.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '200' as unknown as number,
  ]) {
    assert.throws(
      () => validateStatus(code),
      (err: unknown) => {
        assert.ok(err instanceof InvalidStatusError);
        assert.equal(err.code, 'AVX_INVALID_STATUS');
        assert.equal(err.status, code);
        assert.equal(err.name, 'InvalidStatusError');
        return true;
      },
      `code ${String(code)}`,
    );
  }
});
