/**
 * HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
 * parsing it and the two obsolete forms recipients must accept (RFC 850 and ANSI C asctime), and
 * the cached current date for the `Date` header field (RFC 9110 §6.6.1), as a string and as a
 * pre-encoded `Date: ...\r\n` header line.
 *
 * Caching design: the cache compares the current second with the cached one on each call and
 * reformats when it changed, instead of being refreshed by a timer on the TimerWheel. One
 * `Date.now()` and a division per call (tens of nanoseconds, a few times per response) is cheaper
 * than it sounds next to the alternatives: a wheel timer re-armed every second would keep the
 * wheel awake for as long as the process lives, cost a wake-up every second even when no
 * response is sent, and could serve a value up to a tick stale; the comparison costs nothing when
 * idle and can never be stale, including when the system clock is set back.
 */
import { Buffer } from 'node:buffer';
import { AvxError } from '../core/errors.js';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** '00' .. '99'. */
const TWO_DIGITS: string[] = [];
for (let i = 0; i < 100; i++) TWO_DIGITS.push(i < 10 ? `0${i}` : `${i}`);

const MS_PER_DAY = 86_400_000;
const CHAR_0 = 0x30;
const CHAR_SPACE = 0x20;
const CHAR_COMMA = 0x2c;
const CHAR_COLON = 0x3a;
const CHAR_DASH = 0x2d;
/** Length of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE_LENGTH = 29;
/** Length of an asctime date, `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_LENGTH = 24;

/** A date outside what IMF-fixdate can express (years 0000 to 9999), or an invalid Date. */
export class HttpDateRangeError extends AvxError {
  /** The time value that was given, in milliseconds since the epoch (NaN for an invalid Date). */
  readonly time: number;

  constructor(time: number) {
    super(
      'AVX_HTTP_DATE_OUT_OF_RANGE',
      `cannot format ${time} as an HTTP date: IMF-fixdate needs a valid date in the years 0000 to 9999 (RFC 9110 §5.6.7)`,
    );
    this.time = time;
  }
}

/**
 * Formats a date as an IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
 * Milliseconds are dropped. Throws {@link HttpDateRangeError} for an invalid Date or a year
 * outside 0000..9999.
 * @param date A Date or a time value in milliseconds since the epoch.
 */
export function formatHttpDate(date: Date | number): string {
  const d = typeof date === 'number' ? new Date(date) : date;
  const year = d.getUTCFullYear();
  // NaN (invalid Date) fails both comparisons.
  if (!(year >= 0 && year <= 9999)) throw new HttpDateRangeError(d.getTime());
  return (
    `${DAY_NAMES[d.getUTCDay()]}, ${TWO_DIGITS[d.getUTCDate()]} ${MONTH_NAMES[d.getUTCMonth()]} ` +
    `${TWO_DIGITS[(year / 100) | 0]}${TWO_DIGITS[year % 100]} ` +
    `${TWO_DIGITS[d.getUTCHours()]}:${TWO_DIGITS[d.getUTCMinutes()]}:${TWO_DIGITS[d.getUTCSeconds()]} GMT`
  );
}

/**
 * Parses an HTTP date in any of the three forms of RFC 9110 §5.6.7 and returns its time value in
 * milliseconds since the epoch, or `undefined` when `value` is not exactly one of them:
 *
 * - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
 * - RFC 850 (obsolete): `Sunday, 06-Nov-94 08:49:37 GMT`; its two-digit year is read as the
 *   year with those last two digits in the window from 49 years before to 50 years after
 *   `now`'s year, so never more than 50 years in the future.
 * - asctime (obsolete): `Sun Nov  6 08:49:37 1994`
 *
 * Names are case-sensitive as the grammar says; the day of the month must exist (no 31 Apr);
 * second 60 (a leap second) is accepted. The day name is not checked against the date, since
 * RFC 9110 does not ask recipients to.
 *
 * @param now Time value, in milliseconds, that RFC 850 years are interpreted against. Default
 *   `Date.now()`.
 */
export function parseHttpDate(value: string, now?: number): number | undefined {
  const length = value.length;
  if (length === IMF_FIXDATE_LENGTH && value.charCodeAt(3) === CHAR_COMMA) return parseImfFixdate(value);
  if (length === ASCTIME_LENGTH && value.charCodeAt(3) === CHAR_SPACE) return parseAsctime(value);
  return parseRfc850(value, now);
}

/** `day-name "," SP day SP month SP year SP hour ":" minute ":" second SP "GMT"`. */
function parseImfFixdate(s: string): number | undefined {
  if (nameAt(s, 0, DAY_NAMES) < 0 || s.charCodeAt(4) !== CHAR_SPACE || s.charCodeAt(7) !== CHAR_SPACE) {
    return undefined;
  }
  if (s.charCodeAt(11) !== CHAR_SPACE || s.charCodeAt(16) !== CHAR_SPACE || !s.endsWith(' GMT'))
    return undefined;
  return toTimeValue(digitsAt(s, 12, 4), nameAt(s, 8, MONTH_NAMES), digitsAt(s, 5, 2), s, 17);
}

/** `day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP hour ":" minute ":" second SP year`. */
function parseAsctime(s: string): number | undefined {
  if (nameAt(s, 0, DAY_NAMES) < 0 || s.charCodeAt(7) !== CHAR_SPACE || s.charCodeAt(10) !== CHAR_SPACE) {
    return undefined;
  }
  if (s.charCodeAt(19) !== CHAR_SPACE) return undefined;
  const day = s.charCodeAt(8) === CHAR_SPACE ? digitsAt(s, 9, 1) : digitsAt(s, 8, 2);
  return toTimeValue(digitsAt(s, 20, 4), nameAt(s, 4, MONTH_NAMES), day, s, 11);
}

/** `day-name-l "," SP day "-" month "-" 2DIGIT SP hour ":" minute ":" second SP "GMT"`. */
function parseRfc850(s: string, now: number | undefined): number | undefined {
  const comma = s.indexOf(',');
  if (comma < 6 || comma > 9 || s.length !== comma + 24) return undefined;
  let dayName = -1;
  for (let i = 0; i < LONG_DAY_NAMES.length; i++) {
    if (LONG_DAY_NAMES[i].length === comma && s.startsWith(LONG_DAY_NAMES[i])) dayName = i;
  }
  if (dayName < 0 || s.charCodeAt(comma + 1) !== CHAR_SPACE || s.charCodeAt(comma + 4) !== CHAR_DASH) {
    return undefined;
  }
  if (
    s.charCodeAt(comma + 8) !== CHAR_DASH ||
    s.charCodeAt(comma + 11) !== CHAR_SPACE ||
    !s.endsWith(' GMT')
  ) {
    return undefined;
  }
  const twoDigitYear = digitsAt(s, comma + 9, 2);
  if (twoDigitYear < 0) return undefined;
  const currentYear = new Date(now ?? Date.now()).getUTCFullYear();
  // The year with these last two digits in (currentYear - 50, currentYear + 50]: never more than
  // 50 years in the future (RFC 9110 §5.6.7), and otherwise the nearest.
  let year = currentYear - (currentYear % 100) + twoDigitYear;
  if (year > currentYear + 50) year -= 100;
  else if (year <= currentYear - 50) year += 100;
  return toTimeValue(year, nameAt(s, comma + 5, MONTH_NAMES), digitsAt(s, comma + 2, 2), s, comma + 12);
}

/**
 * Checks the calendar fields, reads `hour ":" minute ":" second` at `timeAt`, and returns the
 * time value. `year`, `month` (0-based) and `day` are -1 when they failed to parse.
 */
function toTimeValue(
  year: number,
  month: number,
  day: number,
  s: string,
  timeAt: number,
): number | undefined {
  if (year < 0 || month < 0 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (s.charCodeAt(timeAt + 2) !== CHAR_COLON || s.charCodeAt(timeAt + 5) !== CHAR_COLON) return undefined;
  const hour = digitsAt(s, timeAt, 2);
  const minute = digitsAt(s, timeAt + 3, 2);
  const second = digitsAt(s, timeAt + 6, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  return daysSinceEpoch(year, month, day) * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000;
}

/** The decimal number in `s[at .. at + count)`, or -1 unless those are all ASCII digits. */
function digitsAt(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const digit = s.charCodeAt(i) - CHAR_0;
    if (!(digit >= 0 && digit <= 9)) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** Index in `names` (all three letters long) of the name at `s[at]`, or -1. */
function nameAt(s: string, at: number, names: readonly string[]): number {
  for (let i = 0; i < names.length; i++) if (s.startsWith(names[i], at)) return i;
  return -1;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return isLeapYear(year) ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to the given proleptic Gregorian date (`month` 0-based). Counts in
 * 400-year cycles of 146097 days over years that start on 1 March, so that the leap day is the
 * last day of its year; unlike `Date.UTC`, years 0..99 are taken literally.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const marchYear = month < 2 ? year - 1 : year;
  const cycle = Math.floor(marchYear / 400);
  const yearOfCycle = marchYear - cycle * 400;
  const monthFromMarch = month < 2 ? month + 10 : month - 2;
  // Month lengths from March repeat 31,30,31,30,31 every five months: 153 days.
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfCycle =
    yearOfCycle * 365 + Math.floor(yearOfCycle / 4) - Math.floor(yearOfCycle / 100) + dayOfYear;
  // 719468 days from 0000-03-01 to 1970-01-01.
  return cycle * 146_097 + dayOfCycle - 719_468;
}

/**
 * The current date as an IMF-fixdate and as a `Date` header line, recomputed only when the
 * second changes. Use the process-wide instance through {@link httpDate} and
 * {@link httpDateHeaderLine}; construct one only to inject a clock.
 */
export class HttpDateCache {
  private readonly clock: () => number;
  private second = Number.NaN;
  private value = '';
  private line: Buffer = Buffer.alloc(0);

  /** @param clock Wall clock in milliseconds since the epoch. Default `Date.now`. */
  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /** The current date as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
  current(): string {
    const second = Math.floor(this.clock() / 1000);
    if (second !== this.second) this.update(second);
    return this.value;
  }

  /**
   * `Date: <IMF-fixdate>\r\n` as latin1 bytes, ready to be written into a response head. A new
   * Buffer is made when the second changes and an old one is never rewritten, so a Buffer still
   * queued on a socket stays intact; callers must not modify it.
   */
  headerLine(): Buffer {
    const second = Math.floor(this.clock() / 1000);
    if (second !== this.second) this.update(second);
    return this.line;
  }

  private update(second: number): void {
    this.second = second;
    this.value = formatHttpDate(second * 1000);
    this.line = Buffer.from(`Date: ${this.value}\r\n`, 'latin1');
  }
}

const processDateCache = new HttpDateCache();

/** The current date as an IMF-fixdate for the `Date` header field, cached for the second. */
export function httpDate(): string {
  return processDateCache.current();
}

/** The pre-encoded `Date: <IMF-fixdate>\r\n` header line, cached for the second; do not modify it. */
export function httpDateHeaderLine(): Buffer {
  return processDateCache.headerLine();
}
