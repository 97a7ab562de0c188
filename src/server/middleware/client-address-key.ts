/**
 * The rate-limit middleware's default key (rate-limit.ts): the peer address, with IPv4-mapped
 * IPv6 addresses as IPv4 and other IPv6 addresses grouped by their prefix (/56 unless
 * `RateLimitOptions.ipv6Subnet` says otherwise), so that one client cannot escape its limit by
 * rotating through the addresses of its subnet. Includes the small IPv6 text parser
 * (RFC 4291 §2.2) it needs.
 */

/**
 * The default key for a peer address: IPv4 as is, IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as the
 * IPv4 address, other IPv6 addresses cut to their first `prefixBits` bits and written as
 * `<prefix>::/<bits>` (all of them when `prefixBits` >= 128). Text that is not an address is
 * returned unchanged.
 */
export function clientAddressKey(address: string, prefixBits = 56): string {
  if (address.indexOf(':') === -1) return address;
  if (address.length > 7 && address.slice(0, 7).toLowerCase() === '::ffff:' && address.indexOf('.') !== -1) {
    return address.slice(7);
  }
  if (prefixBits >= 128) return address;
  const words = ipv6Words(address);
  if (words === undefined) return address;
  const bits = prefixBits > 0 ? Math.floor(prefixBits) : 0;
  let out = '';
  const n = Math.ceil(bits / 16);
  for (let i = 0; i < n; i++) {
    const keep = Math.min(16, bits - i * 16);
    const word = words[i]! & ((0xffff << (16 - keep)) & 0xffff);
    out += i === 0 ? word.toString(16) : `:${word.toString(16)}`;
  }
  return `${out}${n === 8 ? '' : '::'}/${bits}`;
}

/** The eight 16-bit words of an IPv6 address in text form (RFC 4291 §2.2), or undefined. */
function ipv6Words(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;
  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? '' : text.slice(gap + 2);
  const first = parseGroups(head);
  const last = parseGroups(tail);
  if (first === undefined || last === undefined) return undefined;
  const missing = 8 - first.length - last.length;
  if (gap === -1 ? missing !== 0 : missing < 1) return undefined;
  const words = first;
  for (let i = 0; i < missing; i++) words.push(0);
  for (const w of last) words.push(w);
  return words;
}

/** Colon-separated hex groups, the last of which may be a dotted IPv4 address (two words). */
function parseGroups(text: string): number[] | undefined {
  const words: number[] = [];
  if (text === '') return words;
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.indexOf('.') !== -1) {
      const octets = part.split('.');
      if (octets.length !== 4) return undefined;
      const b = octets.map((o) => parseNumber(o, 10, 3));
      if (b.some((x) => x > 255)) return undefined;
      words.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    } else {
      const word = parseNumber(part, 16, 4);
      if (word > 0xffff) return undefined;
      words.push(word);
    }
  }
  return words;
}

/** `text` as 1..maxDigits digits of `radix` (10 or 16); a value above 0xffff when it is not. */
function parseNumber(text: string, radix: 10 | 16, maxDigits: number): number {
  if (text.length === 0 || text.length > maxDigits) return 0x10000;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const lower = c | 0x20;
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (radix === 16 && lower >= 0x61 && lower <= 0x66) digit = lower - 0x61 + 10;
    else return 0x10000;
    value = value * radix + digit;
  }
  return value;
}
