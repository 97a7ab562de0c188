// Tests for src/core/headers.ts: the ordered, case-insensitive field list (RFC 9110 §5),
// its validation (§5.1, §5.5, §5.6.2), Set-Cookie handling and the flat / WHATWG conversions.
import assert from 'node:assert/strict';
import test from 'node:test';
import { AvxError, InvalidHeaderError } from '../../src/core/errors.js';
import { Headers, normalizeHeaderValue, validateHeaderName } from '../../src/core/headers.js';

/** Asserts that `fn` throws an InvalidHeaderError with `code`, for header `header`. */
function assertHeaderError(fn: () => unknown, code: string, header?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidHeaderError, `expected InvalidHeaderError, got ${String(err)}`);
    assert.ok(err instanceof AvxError);
    assert.equal(err.code, code);
    assert.equal(err.name, 'InvalidHeaderError');
    if (header !== undefined) assert.equal(err.header, header);
    return true;
  });
}

test('lookups ignore case, for common and uncommon names', () => {
  const h = new Headers();
  h.append('Content-Type', 'text/plain');
  h.append('X-Custom-Thing', 'one');
  for (const name of ['Content-Type', 'content-type', 'CONTENT-TYPE', 'cOnTeNt-TyPe']) {
    assert.equal(h.get(name), 'text/plain', name);
    assert.equal(h.has(name), true, name);
  }
  for (const name of ['X-Custom-Thing', 'x-custom-thing', 'X-CUSTOM-THING']) {
    assert.equal(h.get(name), 'one', name);
  }
  assert.equal(h.get('Content-Length'), undefined);
  assert.equal(h.has('content-length'), false);
});

test('getLowercase finds what get finds for a lowercase name, from any spelling stored', () => {
  const h = new Headers();
  h.append('User-Agent', 'a');
  h.append('X-Custom-Thing', 'one');
  h.append('x-custom-THING', 'two');
  const parsed = Headers.fromFlat(['HOST', 'example.com', 'Traceparent', 'tp'], { trusted: true });
  assert.equal(h.getLowercase('user-agent'), 'a');
  assert.equal(h.getLowercase('x-custom-thing'), 'one, two');
  assert.equal(h.getLowercase('x-custom-thing'), h.get('X-Custom-Thing'));
  assert.equal(h.getLowercase('host'), undefined);
  assert.equal(parsed.getLowercase('host'), 'example.com');
  assert.equal(parsed.getLowercase('traceparent'), 'tp');
});

test('names keep their spelling; order and duplicates are kept; size counts field lines', () => {
  const h = new Headers();
  h.append('Host', 'example.com');
  h.append('accept', 'text/html');
  h.append('X-A', '1');
  h.append('ACCEPT', 'application/json');
  h.append('x-a', '2');
  assert.equal(h.size, 5);
  assert.deepEqual(
    [...h],
    [
      ['Host', 'example.com'],
      ['accept', 'text/html'],
      ['X-A', '1'],
      ['ACCEPT', 'application/json'],
      ['x-a', '2'],
    ],
  );
  assert.deepEqual([...h.keys()], ['Host', 'accept', 'X-A', 'ACCEPT', 'x-a']);
  assert.deepEqual([...h.values()], ['example.com', 'text/html', '1', 'application/json', '2']);
  assert.deepEqual([...h.entries()], [...h]);
  assert.equal(h.get('accept'), 'text/html, application/json');
  assert.deepEqual(h.getAll('Accept'), ['text/html', 'application/json']);
  assert.deepEqual(h.getAll('x-missing'), []);
});

test('append returns this for chaining', () => {
  const h = new Headers().append('a', '1').append('b', '2');
  assert.deepEqual(h.toFlat(), ['a', '1', 'b', '2']);
});

test('set replaces every line of the name at the position of the first, with the new spelling', () => {
  const h = new Headers([
    ['A', '1'],
    ['Vary', 'accept'],
    ['B', '2'],
    ['vary', 'origin'],
    ['C', '3'],
    ['VARY', 'cookie'],
  ]);
  const result = h.set('VaRy', 'accept-encoding');
  assert.equal(result, h);
  assert.deepEqual(h.toFlat(), ['A', '1', 'VaRy', 'accept-encoding', 'B', '2', 'C', '3']);
  assert.equal(h.size, 4);
  h.set('D', '4');
  assert.deepEqual(h.toFlat(), ['A', '1', 'VaRy', 'accept-encoding', 'B', '2', 'C', '3', 'D', '4']);
  h.set('a', 'one');
  assert.deepEqual(h.toFlat().slice(0, 2), ['a', 'one']);
  assert.equal(h.size, 5);
});

test('delete removes every line of the name and reports whether it removed any', () => {
  const h = new Headers([
    ['Cookie', 'a=1'],
    ['X', 'y'],
    ['cookie', 'b=2'],
    ['Z', 'w'],
  ]);
  assert.equal(h.delete('COOKIE'), true);
  assert.deepEqual(h.toFlat(), ['X', 'y', 'Z', 'w']);
  assert.equal(h.delete('cookie'), false);
  assert.equal(h.delete('not a token'), false);
  assert.equal(h.size, 2);
  assert.equal(h.delete('Z'), true);
  assert.equal(h.delete('x'), true);
  assert.equal(h.size, 0);
  assert.deepEqual([...h], []);
});

test('Set-Cookie: get joins like WHATWG, getSetCookie keeps the values apart', () => {
  const h = new Headers();
  h.append('Set-Cookie', 'a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT');
  h.append('Content-Type', 'text/html');
  h.append('set-cookie', 'b=2; Path=/');
  assert.deepEqual(h.getSetCookie(), ['a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT', 'b=2; Path=/']);
  assert.equal(h.get('set-cookie'), 'a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT, b=2; Path=/');
  assert.deepEqual(h.getAll('SET-COOKIE'), h.getSetCookie());
  assert.deepEqual(new Headers().getSetCookie(), []);
});

test('values are trimmed of surrounding SP/HTAB; inner whitespace is kept', () => {
  const h = new Headers();
  h.append('A', '  padded \t');
  h.append('B', '\tinner  \t spaces ');
  h.append('C', '   ');
  h.append('D', '');
  h.set('E', ' set ');
  assert.equal(h.get('a'), 'padded');
  assert.equal(h.get('b'), 'inner  \t spaces');
  assert.equal(h.get('c'), '');
  assert.equal(h.get('d'), '');
  assert.equal(h.get('e'), 'set');
});

test('numbers are accepted as values and written in decimal', () => {
  const h = new Headers({ 'Content-Length': 1234 });
  h.append('X-Zero', 0);
  assert.equal(h.get('content-length'), '1234');
  assert.equal(h.get('x-zero'), '0');
});

test('invalid values are rejected: CRLF injection, NUL, controls, DEL, non-Latin-1', () => {
  const bad = [
    'a\r\nb',
    'a\r\nSet-Cookie: evil=1',
    'a\rb',
    'a\nb',
    'value\r\n',
    'a\0b',
    '\x01',
    'a\x1bb',
    'a\x7fb',
    'snow \u2603',
    '\u0100',
  ];
  for (const value of bad) {
    assertHeaderError(() => new Headers().append('X-Test', value), 'AVX_INVALID_HEADER_VALUE', 'X-Test');
    assertHeaderError(() => new Headers().set('X-Test', value), 'AVX_INVALID_HEADER_VALUE', 'X-Test');
  }
  // Latin-1 obs-text is allowed (RFC 9110 §5.5).
  assert.equal(new Headers().append('X', 'caf\u00e9').get('x'), 'caf\u00e9');
});

test('values of other types are rejected', () => {
  for (const value of [undefined, null, {}, ['a'], true, Symbol('s')]) {
    assertHeaderError(
      () => new Headers().append('X-Test', value as unknown as string),
      'AVX_INVALID_HEADER_VALUE',
      'X-Test',
    );
  }
});

test('invalid names are rejected: empty, space, colon, CRLF, separators, non-ASCII', () => {
  const bad = [
    '',
    'Content Type',
    ' Host',
    'Host ',
    'Host:',
    'a:b',
    'a\r\nb',
    'a\0',
    'a"b',
    '(a)',
    'caf\u00e9',
    '\u212a',
  ];
  for (const name of bad) {
    assertHeaderError(() => new Headers().append(name, 'v'), 'AVX_INVALID_HEADER_NAME', name);
    assertHeaderError(() => new Headers().set(name, 'v'), 'AVX_INVALID_HEADER_NAME', name);
  }
  assertHeaderError(
    () => new Headers().append(42 as unknown as string, 'v'),
    'AVX_INVALID_HEADER_NAME',
    '42',
  );
});

test('a failed set or append leaves the list unchanged', () => {
  const h = new Headers([
    ['X', '1'],
    ['x', '2'],
  ]);
  assert.throws(() => h.set('X', 'bad\r\nvalue'), InvalidHeaderError);
  assert.throws(() => h.append('X', '\0'), InvalidHeaderError);
  assert.throws(() => h.set('bad name', 'v'), InvalidHeaderError);
  assert.deepEqual(h.toFlat(), ['X', '1', 'x', '2']);
});

test('lookups with a non-token name find nothing instead of throwing', () => {
  const h = new Headers([['Cookie', 'a=1']]);
  assert.equal(h.get('Coo kie'), undefined);
  assert.equal(h.get(''), undefined);
  assert.equal(h.has('cookie:'), false);
  assert.deepEqual(h.getAll('a\r\nb'), []);
  // U+212A KELVIN SIGN lowercases to ASCII 'k'; it must not match "cookie".
  assert.equal(h.get('Coo\u212aie'), undefined);
  assert.equal(h.has('coo\u212aie'), false);
});

test('validateHeaderName and normalizeHeaderValue', () => {
  assert.equal(validateHeaderName('X-Ok'), 'X-Ok');
  assertHeaderError(() => validateHeaderName('no good'), 'AVX_INVALID_HEADER_NAME', 'no good');
  assert.equal(normalizeHeaderValue('X', ' v '), 'v');
  assert.equal(normalizeHeaderValue('X', 7), '7');
  const same = 'already clean';
  assert.equal(normalizeHeaderValue('X', same), same);
  assertHeaderError(() => normalizeHeaderValue('X-Name', 'a\nb'), 'AVX_INVALID_HEADER_VALUE', 'X-Name');
});

test('error messages name the rule and do not echo the value', () => {
  try {
    new Headers().append('Authorization', 'secret-token\r\n');
    assert.fail('expected a throw');
  } catch (err) {
    assert.ok(err instanceof InvalidHeaderError);
    assert.match(err.message, /RFC 9110 §5\.5/);
    assert.doesNotMatch(err.message, /secret-token/);
  }
  try {
    new Headers().append('', 'v');
    assert.fail('expected a throw');
  } catch (err) {
    assert.ok(err instanceof InvalidHeaderError);
    assert.match(err.message, /RFC 9110 §5\.1/);
  }
});

test('fromFlat / toFlat round trip keeps order, spelling and duplicates', () => {
  const flat = ['Host', 'a.example', 'set-cookie', 'x=1', 'X-Dup', '1', 'Set-Cookie', 'y=2', 'x-dup', '2'];
  const h = Headers.fromFlat(flat);
  assert.deepEqual(h.toFlat(), flat);
  assert.equal(h.get('x-dup'), '1, 2');
  assert.deepEqual(h.getSetCookie(), ['x=1', 'y=2']);
  assert.deepEqual(Headers.fromFlat(h.toFlat(), { trusted: true }).toFlat(), flat);
  assert.deepEqual(Headers.fromFlat([]).toFlat(), []);
  assert.notEqual(h.toFlat(), h.toFlat(), 'toFlat returns a fresh array');
});

test('fromFlat validates and trims unless trusted', () => {
  assert.deepEqual(Headers.fromFlat(['A', ' 1 ']).toFlat(), ['A', '1']);
  assertHeaderError(() => Headers.fromFlat(['Bad Name', 'v']), 'AVX_INVALID_HEADER_NAME', 'Bad Name');
  assertHeaderError(() => Headers.fromFlat(['X', 'a\r\nb']), 'AVX_INVALID_HEADER_VALUE', 'X');
  assertHeaderError(() => Headers.fromFlat(['X', 'v', 'Y']), 'AVX_INVALID_HEADER_VALUE', 'Y');
  assertHeaderError(
    () => Headers.fromFlat(['X', 'v', 'Y'], { trusted: true }),
    'AVX_INVALID_HEADER_VALUE',
    'Y',
  );
  // trusted: taken verbatim, lookups still case-insensitive for common and uncommon names.
  const h = Headers.fromFlat(['Content-Type', 'text/plain', 'X-UPPER', 'v'], { trusted: true });
  assert.equal(h.get('content-type'), 'text/plain');
  assert.equal(h.get('x-upper'), 'v');
  assert.equal(h.has('X-Upper'), true);
});

test('constructor copies another Headers independently', () => {
  const a = new Headers([
    ['A', '1'],
    ['a', '2'],
  ]);
  const b = new Headers(a);
  b.append('B', '3');
  a.set('A', 'changed');
  assert.deepEqual(b.toFlat(), ['A', '1', 'a', '2', 'B', '3']);
  assert.deepEqual(a.toFlat(), ['A', 'changed']);
});

test('constructor accepts a record: arrays become repeated lines, undefined is skipped', () => {
  const h = new Headers({
    'Content-Type': 'text/html',
    'Set-Cookie': ['a=1', 'b=2'],
    'X-Skip': undefined,
    'Content-Length': 5,
  });
  assert.deepEqual(h.toFlat(), [
    'Content-Type',
    'text/html',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
    'Content-Length',
    '5',
  ]);
  assertHeaderError(() => new Headers({ 'X-Bad': 'a\nb' }), 'AVX_INVALID_HEADER_VALUE', 'X-Bad');
  assertHeaderError(() => new Headers({ 'bad name': 'v' }), 'AVX_INVALID_HEADER_NAME', 'bad name');
});

test('constructor accepts an array of pairs and a Map', () => {
  const pairs: Array<[string, string]> = [
    ['Accept', '*/*'],
    ['accept', 'text/plain'],
  ];
  assert.deepEqual(new Headers(pairs).toFlat(), ['Accept', '*/*', 'accept', 'text/plain']);
  const map = new Map<string, string>([
    ['X-One', '1'],
    ['X-Two', '2'],
  ]);
  assert.deepEqual(new Headers(map).toFlat(), ['X-One', '1', 'X-Two', '2']);
  assert.equal(new Headers().size, 0);
  assert.equal(new Headers([]).size, 0);
  assert.equal(new Headers({}).size, 0);
});

test('constructor rejects malformed pairs', () => {
  for (const bad of [[['only-name']], [['a', 'b', 'c']], ['ab'], [null]]) {
    assertHeaderError(
      () => new Headers(bad as unknown as Array<[string, string]>),
      'AVX_INVALID_HEADER_NAME',
    );
  }
});

test('WHATWG interop: from a global Headers, keeping Set-Cookie lines apart', () => {
  const web = new globalThis.Headers();
  web.append('Content-Type', 'text/plain');
  web.append('Set-Cookie', 'a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT');
  web.append('Set-Cookie', 'b=2');
  web.append('X-Dup', '1');
  web.append('X-Dup', '2');
  const h = new Headers(web);
  assert.deepEqual(h.getSetCookie(), ['a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT', 'b=2']);
  assert.equal(h.get('content-type'), 'text/plain');
  // WHATWG combines other repeated fields before we see them.
  assert.equal(h.get('x-dup'), '1, 2');
  assert.equal(h.size, 4);
});

test('WHATWG interop: a global Headers built from ours', () => {
  const h = new Headers([
    ['Content-Type', 'text/plain'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
    ['X-Dup', '1'],
    ['x-dup', '2'],
  ]);
  // The WHATWG constructor takes any iterable of pairs; its TypeScript type only says string[][].
  const web = new globalThis.Headers(h as unknown as string[][]);
  assert.equal(web.get('content-type'), 'text/plain');
  assert.deepEqual(web.getSetCookie(), ['a=1', 'b=2']);
  assert.equal(web.get('x-dup'), '1, 2');
});

test('toObject: lowercase names, duplicates joined, set-cookie always an array, null prototype', () => {
  const h = new Headers([
    ['Content-Type', 'text/plain'],
    ['X-Dup', '1'],
    ['Set-Cookie', 'a=1'],
    ['x-dup', '2'],
    ['__proto__', 'plain'],
  ]);
  const obj = h.toObject();
  assert.equal(Object.getPrototypeOf(obj), null);
  assert.deepEqual(Object.keys(obj), ['content-type', 'x-dup', 'set-cookie', '__proto__']);
  assert.deepEqual(
    { ...obj },
    { 'content-type': 'text/plain', 'x-dup': '1, 2', 'set-cookie': ['a=1'], ['__proto__']: 'plain' },
  );
  assert.deepEqual({ ...new Headers().toObject() }, {});
});

test('forEach passes (value, name, headers) in order and honours thisArg', () => {
  const h = new Headers([
    ['A', '1'],
    ['b', '2'],
  ]);
  const seen: Array<[string, string]> = [];
  const context = { tag: 'ctx' };
  h.forEach(function (this: unknown, value, name, headers) {
    assert.equal(this, context);
    assert.equal(headers, h);
    seen.push([name, value]);
  }, context);
  assert.deepEqual(seen, [
    ['A', '1'],
    ['b', '2'],
  ]);
});

test('nameAt / valueAt index the field lines', () => {
  const h = new Headers([
    ['A', '1'],
    ['B', '2'],
  ]);
  assert.equal(h.nameAt(0), 'A');
  assert.equal(h.valueAt(0), '1');
  assert.equal(h.nameAt(1), 'B');
  assert.equal(h.valueAt(1), '2');
  assert.equal(h.nameAt(2), undefined);
  assert.equal(h.valueAt(-1), undefined);
});
