/**
 * Decoding of header octets to strings. HTTP field values are octets (RFC 9110 §5.5); latin1
 * maps each octet to one UTF-16 unit, so nothing is lost and the string's length is the byte
 * count. Node's Buffer has an internal `latin1Slice` that skips `toString`'s argument
 * handling; it is used when present and `toString('latin1')` otherwise.
 */
import { Buffer } from 'node:buffer';

type Latin1Sliceable = Buffer & { latin1Slice?: (start: number, end: number) => string };

const fast = typeof (Buffer.prototype as Latin1Sliceable).latin1Slice === 'function';

/** `buf[start, end)` as a latin1 string. */
export const latin1: (buf: Buffer, start: number, end: number) => string = fast
  ? (buf, start, end) => (buf as Latin1Sliceable).latin1Slice!(start, end)
  : (buf, start, end) => buf.toString('latin1', start, end);
