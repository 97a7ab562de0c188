/**
 * The pieces of the opening handshake (RFC 6455 §4) shared by server and client: the
 * `Sec-WebSocket-Key` nonce and its `Sec-WebSocket-Accept` answer (§4.2.2 item 5.4: base64 of
 * SHA-1 of the key and the GUID), and the token lists of `Connection`, `Upgrade` and
 * `Sec-WebSocket-Protocol` (RFC 9110 §5.6.1 lists, tokens compared as §4.2.1 says).
 */
import { createHash, randomBytes } from 'node:crypto';
import { TOKEN_CHARS } from '../core/char-classes.js';

/** RFC 6455 §1.3: the GUID appended to the key. */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 §4.2.2: the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`. */
export function wsAcceptValue(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID, 'latin1')
    .digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1 item 7). */
export function newWsKey(): string {
  return randomBytes(16).toString('base64');
}

/** True when `key` is the base64 of exactly 16 bytes (RFC 6455 §4.1 item 7, §4.2.1 item 5). */
export function isValidWsKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2b ||
      c === 0x2f;
    if (!ok) return false;
  }
  // The last character before '==' carries 2 bits: only A, Q, g, w leave no stray bits.
  const last = key.charCodeAt(21);
  return last === 0x41 || last === 0x51 || last === 0x67 || last === 0x77;
}

/** True when the comma-separated list `value` contains `token` (ASCII case-insensitive). */
export function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const part of value.split(',')) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/**
 * The subprotocols of a `Sec-WebSocket-Protocol` value (RFC 6455 §4.1 item 10, §11.3.4: a list
 * of distinct tokens); null when one is not a token or appears twice.
 */
export function parseWsProtocols(value: string): string[] | null {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (!isTokenString(name) || out.includes(name)) return null;
    out.push(name);
  }
  return out;
}

/** True when `s` is a non-empty token (RFC 9110 §5.6.2). */
export function isTokenString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}
