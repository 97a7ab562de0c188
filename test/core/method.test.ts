// Tests for src/core/method.ts (RFC 9110 §9 methods) and the syntax tables of
// src/core/char-classes.ts it relies on (RFC 9110 §5.5, §5.6.2; RFC 9112 §3.2, §7.1).
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  FIELD_VALUE_CHARS,
  HEX_CHARS,
  HEX_VALUES,
  isFieldValue,
  isToken,
  TARGET_CHARS,
  TOKEN_CHARS,
} from '../../src/core/char-classes.js';
import { InvalidMethodError } from '../../src/core/errors.js';
import {
  isIdempotentMethod,
  isKnownMethod,
  isSafeMethod,
  KNOWN_METHODS,
  Method,
  validateMethod,
} from '../../src/core/method.js';

/** Every byte value of a table that is set, as a string of Latin-1 characters. */
function members(table: Uint8Array): string {
  let out = '';
  for (let b = 0; b < 256; b++) if (table[b] === 1) out += String.fromCharCode(b);
  return out;
}

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGIT = '0123456789';

test('TOKEN_CHARS is exactly tchar (RFC 9110 §5.6.2)', () => {
  const expected = [...`!#$%&'*+-.^_\`|~${DIGIT}${ALPHA}`].sort().join('');
  assert.equal([...members(TOKEN_CHARS)].sort().join(''), expected);
  assert.equal(members(TOKEN_CHARS).length, 77);
});

test('FIELD_VALUE_CHARS is HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5)', () => {
  for (let b = 0; b < 256; b++) {
    const expected = b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80;
    assert.equal(FIELD_VALUE_CHARS[b] === 1, expected, `byte 0x${b.toString(16)}`);
  }
});

test('TARGET_CHARS is visible ASCII only: no controls, SP, DEL or bytes above 0x7F (RFC 9112 §3.2)', () => {
  for (let b = 0; b < 256; b++) {
    const expected = b > 0x20 && b < 0x7f;
    assert.equal(TARGET_CHARS[b] === 1, expected, `byte 0x${b.toString(16)}`);
  }
});

test('HEX_CHARS and HEX_VALUES cover both letter cases and nothing else', () => {
  assert.equal(members(HEX_CHARS), '0123456789ABCDEFabcdef');
  assert.equal(HEX_VALUES[0x30], 0);
  assert.equal(HEX_VALUES[0x39], 9);
  assert.equal(HEX_VALUES['a'.charCodeAt(0)], 10);
  assert.equal(HEX_VALUES['F'.charCodeAt(0)], 15);
  assert.equal(HEX_VALUES['g'.charCodeAt(0)], 255);
  assert.equal(HEX_VALUES['G'.charCodeAt(0)], 255);
  assert.equal(HEX_VALUES[0x20], 255);
});

test('isToken accepts tokens', () => {
  for (const s of ['GET', 'x', 'Content-Type', "!#$%&'*+-.^_`|~", 'a1', 'M-SEARCH', 'get']) {
    assert.equal(isToken(s), true, JSON.stringify(s));
  }
});

test('isToken rejects the empty string, separators, whitespace, controls and non-ASCII', () => {
  const bad = [
    '',
    ' ',
    'GET ',
    ' GET',
    'Content Type',
    'Host:',
    'a\tb',
    'a\r\nb',
    'a\0',
    '(x)',
    'a"b',
    'a,b',
    'a/b',
    'a;b',
    'a=b',
    'a@b',
    'a[b]',
    'a{b}',
    'a?b',
    'a\\b',
    'a\x7f',
    'caf\u00e9',
    '\u0100',
    '\u212a', // Kelvin sign: lowercases to ASCII 'k', must still be rejected
  ];
  for (const s of bad) assert.equal(isToken(s), false, JSON.stringify(s));
});

test('isFieldValue accepts field values, including empty, inner whitespace and obs-text', () => {
  for (const s of [
    '',
    'text/html',
    'a b',
    'a\tb',
    'a  \t b',
    '"quoted, with comma"',
    'caf\u00e9',
    '\u00ff',
  ]) {
    assert.equal(isFieldValue(s), true, JSON.stringify(s));
  }
});

test('isFieldValue rejects CR, LF, NUL, other controls, DEL, non-Latin-1 and surrounding whitespace', () => {
  const bad = [
    'a\r\nb',
    'a\rb',
    'a\nb',
    'a\0b',
    '\x01',
    '\x1f',
    'a\x7f',
    '\u0100',
    '\u2028',
    ' a',
    'a ',
    '\ta',
    'a\t',
    ' ',
  ];
  for (const s of bad) assert.equal(isFieldValue(s), false, JSON.stringify(s));
});

test('Method constants', () => {
  assert.equal(Method.GET, 'GET');
  assert.equal(Method.DELETE, 'DELETE');
  assert.equal(Method.QUERY, 'QUERY');
  for (const m of Object.values(Method)) assert.ok(isKnownMethod(m), m);
});

test('KNOWN_METHODS is frozen, sorted, duplicate-free and made of tokens', () => {
  assert.ok(Object.isFrozen(KNOWN_METHODS));
  assert.deepEqual([...KNOWN_METHODS], [...KNOWN_METHODS].sort());
  assert.equal(new Set(KNOWN_METHODS).size, KNOWN_METHODS.length);
  for (const m of KNOWN_METHODS) assert.ok(isToken(m), m);
});

test('isKnownMethod is case-sensitive (RFC 9110 §9.1) and covers registry and Node extensions', () => {
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) {
    assert.equal(isKnownMethod(m), true, m);
  }
  for (const m of ['PROPFIND', 'MKCOL', 'M-SEARCH', 'PURGE', 'PRI', 'QUERY'])
    assert.equal(isKnownMethod(m), true, m);
  for (const m of ['get', 'Get', 'FOO', '', 'GET ', 'BREW']) assert.equal(isKnownMethod(m), false, m);
});

test('isSafeMethod (RFC 9110 §9.2.1)', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'QUERY']) assert.equal(isSafeMethod(m), true, m);
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'CONNECT', 'get'])
    assert.equal(isSafeMethod(m), false, m);
});

test('isIdempotentMethod: safe methods plus PUT and DELETE (RFC 9110 §9.2.2)', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'QUERY', 'PUT', 'DELETE']) {
    assert.equal(isIdempotentMethod(m), true, m);
  }
  for (const m of ['POST', 'PATCH', 'CONNECT', 'LOCK', 'put', ''])
    assert.equal(isIdempotentMethod(m), false, m);
});

test('validateMethod returns any token, known or not, unchanged', () => {
  for (const m of ['GET', 'get', 'X-CUSTOM', 'M-SEARCH', 'BREW']) assert.equal(validateMethod(m), m);
});

test('validateMethod throws InvalidMethodError for non-tokens', () => {
  for (const m of ['', 'GET ', 'G ET', 'GET\r\nX-Injected: 1', 'GET\0', 'GET/1', 'G\u00c9T']) {
    assert.throws(
      () => validateMethod(m),
      (err: unknown) => {
        assert.ok(err instanceof InvalidMethodError);
        assert.equal(err.code, 'AVX_INVALID_METHOD');
        assert.equal(err.method, m);
        return true;
      },
      JSON.stringify(m),
    );
  }
});
