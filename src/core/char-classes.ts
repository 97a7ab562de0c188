/**
 * Byte classification tables for HTTP syntax, indexed by octet value. Lookups in a Uint8Array
 * are what the parsers and validators use instead of regular expressions on hot paths.
 *
 * RFC 9110 §5.6.2: token = 1*tchar;
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
 *           / DIGIT / ALPHA
 * RFC 9110 §5.5:   field-value = *field-content; field-vchar = VCHAR / obs-text; plus SP / HTAB
 *                  inside the value.
 */

function table(predicate: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = predicate(i) ? 1 : 0;
  return t;
}

const TCHAR_PUNCTUATION = "!#$%&'*+-.^_`|~";

/** 1 where the byte is a `tchar` (RFC 9110 §5.6.2). */
export const TOKEN_CHARS: Uint8Array = table(
  (b) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    TCHAR_PUNCTUATION.includes(String.fromCharCode(b)),
);

/**
 * 1 where the byte may appear inside a field value: VCHAR, obs-text, SP and HTAB
 * (RFC 9110 §5.5). CR, LF, NUL and the other controls are excluded.
 */
export const FIELD_VALUE_CHARS: Uint8Array = table((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/**
 * 1 where the byte may appear in a request-target: visible ASCII only. Controls, SP, DEL and
 * bytes above 0x7F are excluded: a URI is ASCII and anything else must be percent-encoded
 * (RFC 9112 §3.2, RFC 3986 §2), which is what browsers send.
 */
export const TARGET_CHARS: Uint8Array = table((b) => b > 0x20 && b < 0x7f);

/** 1 where the byte is a hexadecimal digit (RFC 9112 §7.1 chunk-size). */
export const HEX_CHARS: Uint8Array = table(
  (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66),
);

/** Value of a hexadecimal digit byte, or 255 where the byte is not one. */
export const HEX_VALUES: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/**
 * 1 where the byte may appear in a Host value (RFC 9110 §7.2: `uri-host [ ":" port ]`,
 * RFC 3986 §3.2.2): unreserved, sub-delims, `%` of pct-encoded, `:` of the port and of IPv6
 * literals, and the brackets around those. Not a full grammar check: it catches what is
 * plainly not an authority (whitespace, `/`, `?`, `#`, `@` of userinfo, quotes, non-ASCII).
 */
export const HOST_CHARS: Uint8Array = table(
  (b) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    "-._~!$&'()*+,;=%:[]".includes(String.fromCharCode(b)),
);

/** True when every character of `s` is a tchar: `s` is a valid RFC 9110 token. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * True when `s` is a valid field value: only field-vchar, SP and HTAB, and no leading or
 * trailing whitespace (RFC 9110 §5.5). Characters above U+00FF are rejected because a
 * field value is octets; callers encode non-Latin-1 text themselves.
 */
export function isFieldValue(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHARS[c] === 0) return false;
  }
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(n - 1);
  return first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09;
}

/** True when `s` is empty (allowed, RFC 9112 §3.2) or made only of {@link HOST_CHARS}. */
export function isHostValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || HOST_CHARS[c] === 0) return false;
  }
  return true;
}
