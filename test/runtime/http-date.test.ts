/**
 * Tests of HTTP dates (RFC 9110 §5.6.7): IMF-fixdate formatting against known values and
 * Date.prototype.toUTCString, parsing of IMF-fixdate, RFC 850 and asctime, rejection of malformed
 * input, and the per-second cache behind the `Date` header.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  formatHttpDate,
  HttpDateCache,
  HttpDateRangeError,
  httpDate,
  httpDateHeaderLine,
  parseHttpDate,
} from '../../src/runtime/http-date.js';

/** The example instant of RFC 9110 §5.6.7. */
const RFC_EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);

test('formats the RFC 9110 example and other known instants', () => {
  assert.equal(formatHttpDate(new Date(RFC_EXAMPLE)), 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(formatHttpDate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
  assert.equal(formatHttpDate(Date.UTC(2000, 1, 29, 23, 59, 59, 999)), 'Tue, 29 Feb 2000 23:59:59 GMT');
  assert.equal(formatHttpDate(Date.UTC(9999, 11, 31, 23, 59, 59)), 'Fri, 31 Dec 9999 23:59:59 GMT');
  const yearOne = new Date(0);
  yearOne.setUTCFullYear(1, 0, 1);
  assert.equal(formatHttpDate(yearOne), 'Mon, 01 Jan 0001 00:00:00 GMT');
  assert.equal(formatHttpDate(-1000), 'Wed, 31 Dec 1969 23:59:59 GMT');
});

test('agrees with Date.prototype.toUTCString over many instants', () => {
  // Step by a prime number of seconds from 1900 to 2100 so every field value comes up.
  const step = 7_919_017 * 1000;
  let checked = 0;
  for (let t = Date.UTC(1900, 0, 1); t < Date.UTC(2100, 0, 1); t += step) {
    const date = new Date(t);
    assert.equal(formatHttpDate(date), date.toUTCString());
    checked++;
  }
  assert.ok(checked > 700);
});

test('refuses invalid dates and years IMF-fixdate cannot express', () => {
  for (const bad of [new Date(Number.NaN), Date.UTC(10000, 0, 1), Date.UTC(-1, 11, 31)]) {
    assert.throws(
      () => formatHttpDate(bad),
      (e: unknown) => e instanceof HttpDateRangeError && e.code === 'AVX_HTTP_DATE_OUT_OF_RANGE',
    );
  }
});

test('parses all three formats of RFC 9110 §5.6.7', () => {
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), RFC_EXAMPLE);
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(2024, 0, 1)), RFC_EXAMPLE);
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), RFC_EXAMPLE);
  assert.equal(parseHttpDate('Sun Nov 06 08:49:37 1994'), RFC_EXAMPLE, 'asctime with a two-digit day');
  assert.equal(
    parseHttpDate('Wednesday, 09-Nov-99 23:12:40 GMT', Date.UTC(2024, 0, 1)),
    Date.UTC(1999, 10, 9, 23, 12, 40),
  );
  assert.equal(parseHttpDate('Thu Dec 31 23:59:59 2099'), Date.UTC(2099, 11, 31, 23, 59, 59));
});

test('formatting then parsing returns the instant, to the second', () => {
  for (let t = Date.UTC(1, 0, 1); t < Date.UTC(9999, 0, 1); t += 86_399_999 * 97) {
    const second = Math.floor(t / 1000) * 1000;
    assert.equal(parseHttpDate(formatHttpDate(t)), second, formatHttpDate(t));
  }
});

test('years 0000..0099 are taken literally, not as 19xx', () => {
  const date = new Date(0);
  date.setUTCFullYear(50, 5, 15);
  assert.equal(parseHttpDate('Wed, 15 Jun 0050 00:00:00 GMT'), date.getTime());
});

test('RFC 850 two-digit years are never more than 50 years in the future', () => {
  const in2024 = Date.UTC(2024, 5, 1);
  const year = (s: string, now: number) => new Date(parseHttpDate(s, now) as number).getUTCFullYear();
  assert.equal(year('Monday, 01-Jan-24 00:00:00 GMT', in2024), 2024);
  assert.equal(year('Monday, 01-Jan-74 00:00:00 GMT', in2024), 2074);
  assert.equal(year('Monday, 01-Jan-75 00:00:00 GMT', in2024), 1975);
  assert.equal(year('Monday, 01-Jan-99 00:00:00 GMT', in2024), 1999);
  assert.equal(year('Monday, 01-Jan-00 00:00:00 GMT', Date.UTC(2080, 0, 1)), 2100);
  assert.equal(year('Monday, 01-Jan-31 00:00:00 GMT', Date.UTC(2080, 0, 1)), 2031);
  assert.equal(year('Monday, 01-Jan-30 00:00:00 GMT', Date.UTC(2080, 0, 1)), 2130);
  assert.equal(year('Monday, 01-Jan-31 00:00:00 GMT', Date.UTC(2081, 0, 1)), 2131);
  assert.equal(year('Monday, 01-Jan-32 00:00:00 GMT', Date.UTC(2081, 0, 1)), 2032);
});

test('accepts a leap second and checks the length of each month', () => {
  assert.equal(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT'), Date.UTC(2017, 0, 1));
  assert.equal(parseHttpDate('Thu, 29 Feb 2024 12:00:00 GMT'), Date.UTC(2024, 1, 29, 12));
  assert.equal(parseHttpDate('Sat, 29 Feb 2000 12:00:00 GMT'), Date.UTC(2000, 1, 29, 12));
  assert.equal(parseHttpDate('Thu, 29 Feb 2023 12:00:00 GMT'), undefined);
  assert.equal(parseHttpDate('Thu, 29 Feb 1900 12:00:00 GMT'), undefined);
  assert.equal(parseHttpDate('Thu, 31 Apr 2024 12:00:00 GMT'), undefined);
  assert.equal(parseHttpDate('Thu, 31 Dec 2024 12:00:00 GMT'), Date.UTC(2024, 11, 31, 12));
});

test('invalid inputs return undefined', () => {
  const invalid = [
    '',
    'garbage',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Nov 1994 08:49:37 gmt',
    'sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 nov 1994 08:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun,  6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 94 08:49:37 GMT',
    'Sun, 06 Nov 1994 8:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT ',
    ' Sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08-49-37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'Sun, 06 Nov 1994 08:49:61 GMT',
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Sun, 32 Nov 1994 08:49:37 GMT',
    'Xyz, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nox 1994 08:49:37 GMT',
    'Sun, 06 Nov 19a4 08:49:37 GMT',
    'Sun, 0+ Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994T08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT\r',
    'Sunday, 06-Nov-94 08:49:37 UTC',
    'Sunday, 06-Nov-1994 08:49:37 GMT',
    'Sunday, 06 Nov 94 08:49:37 GMT',
    'Sunnday, 06-Nov-94 08:49:37 GMT',
    'Sun, 06-Nov-94 08:49:37 GMT',
    'Sunday, 6-Nov-94 08:49:37 GMT',
    'Sunday, 06-Nov-9x 08:49:37 GMT',
    'Sunday, 06-Nov-94 25:49:37 GMT',
    'Sun Nov  6 08:49:37 94',
    'Sun Nov 6 08:49:37 1994',
    'Sun Nov  6 08:49:37  1994',
    'Sun Nov   6 08:49:37 1994',
    'Sun Nov  0 08:49:37 1994',
    'Sun nov  6 08:49:37 1994',
    'Sun Nov  6 08:49 37 1994',
    'Sun Nov  6 08:49:37 1994 GMT',
    'Sun Nov 31 08:49:37 1994',
    '1994-11-06T08:49:37Z',
    '784111777',
  ];
  for (const value of invalid)
    assert.equal(parseHttpDate(value, RFC_EXAMPLE), undefined, JSON.stringify(value));
});

test('the cache reformats only when the second changes', () => {
  let now = RFC_EXAMPLE + 250;
  const cache = new HttpDateCache(() => now);
  const first = cache.current();
  const firstLine = cache.headerLine();
  assert.equal(first, 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(firstLine.toString('latin1'), 'Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n');
  now += 700;
  assert.equal(cache.headerLine(), firstLine, 'same second: the very same Buffer');
  assert.equal(cache.current(), first);
  now += 100; // 08:49:38.050
  const next = cache.headerLine();
  assert.notEqual(next, firstLine);
  assert.equal(next.toString('latin1'), 'Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n');
  assert.equal(
    firstLine.toString('latin1'),
    'Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n',
    'old line left intact',
  );
  assert.equal(cache.current(), 'Sun, 06 Nov 1994 08:49:38 GMT');
  now -= 5000; // the system clock was set back
  assert.equal(cache.current(), 'Sun, 06 Nov 1994 08:49:33 GMT');
  now = -1; // 1969-12-31T23:59:59.999Z belongs to second -1, not second 0
  assert.equal(cache.current(), 'Wed, 31 Dec 1969 23:59:59 GMT');
});

test('httpDate and httpDateHeaderLine give the current date', () => {
  const before = Math.floor(Date.now() / 1000) * 1000;
  const value = httpDate();
  const line = httpDateHeaderLine().toString('latin1');
  const after = Date.now();
  const candidates = new Set([formatHttpDate(before), formatHttpDate(after)]);
  assert.ok(candidates.has(value), `${value} is not one of ${[...candidates]}`);
  assert.ok(line.startsWith('Date: ') && line.endsWith(' GMT\r\n'));
  assert.ok(candidates.has(line.slice(6, -2)));
  const parsed = parseHttpDate(value);
  assert.ok(parsed !== undefined && parsed >= before && parsed <= after);
});
