/**
 * WebSocket close status codes and Close frame payloads (RFC 6455 §5.5.1, §7.4). A Close
 * payload is empty, or a 2-byte big-endian code followed by a UTF-8 reason; the whole payload
 * is at most 125 bytes (§5.5), so a reason is at most 123 bytes.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { WsProtocolError, WsUsageError } from './ws-errors.js';

/** Close codes (RFC 6455 §7.4.1 and the IANA registry, §11.7). */
export const WsCloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Never sent: no code was in the Close frame (RFC 6455 §7.1.5). */
  NoStatus: 1005,
  /** Never sent: the connection closed without a Close frame (RFC 6455 §7.1.5). */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
} as const;

/** Longest close reason in UTF-8 bytes: 125 (control payload, §5.5) minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * True when `code` may appear in a Close frame on the wire (RFC 6455 §7.4.1, §7.4.2): the
 * defined codes 1000-1003 and 1007-1014 (1012-1014 registered with IANA), and 3000-4999
 * (libraries, frameworks, applications). 1004, 1005, 1006, 1015, 0-999, 1016-2999 and 5000+
 * are not.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}

/** A decoded Close frame payload. */
export interface WsClosePayload {
  /** The status code, or 1005 when the frame had none (RFC 6455 §7.1.5). */
  code: number;
  /** The reason, '' when none. */
  reason: string;
}

/**
 * Decodes a received Close payload (RFC 6455 §5.5.1). Throws {@link WsProtocolError}: 1002 for a
 * 1-byte payload or a code that may not be sent (§7.4), 1007 for a reason that is not UTF-8 (§8.1).
 */
export function decodeClosePayload(payload: Buffer): WsClosePayload {
  const n = payload.length;
  if (n === 0) return { code: WsCloseCode.NoStatus, reason: '' };
  if (n === 1) {
    throw new WsProtocolError(
      'AVX_WS_CLOSE_PAYLOAD',
      1002,
      'a Close frame body must be empty or start with a 2-byte status code (RFC 6455 §5.5.1)',
    );
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) {
    throw new WsProtocolError(
      'AVX_WS_CLOSE_CODE',
      1002,
      `close code ${code} may not be sent in a Close frame (RFC 6455 §7.4)`,
    );
  }
  if (n === 2) return { code, reason: '' };
  const reasonBytes = payload.subarray(2);
  if (!isUtf8(reasonBytes)) {
    throw new WsProtocolError(
      'AVX_WS_INVALID_UTF8',
      1007,
      'the close reason is not valid UTF-8 (RFC 6455 §5.5.1)',
    );
  }
  return { code, reason: reasonBytes.toString('utf8') };
}

/**
 * Encodes a Close payload to send. `code` undefined gives an empty payload (then `reason` must be
 * empty). Throws {@link WsUsageError} (`AVX_WS_INVALID_CLOSE_CODE`, `AVX_WS_CLOSE_REASON_TOO_LONG`)
 * for a code that may not be sent or a reason over 123 UTF-8 bytes.
 */
export function encodeClosePayload(code: number | undefined, reason = ''): Buffer {
  if (code === undefined) {
    if (reason !== '')
      throw new WsUsageError('AVX_WS_INVALID_CLOSE_CODE', 'a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new WsUsageError('AVX_WS_INVALID_CLOSE_CODE', `close code ${code} may not be sent (RFC 6455 §7.4)`);
  }
  const length = Buffer.byteLength(reason);
  if (length > MAX_CLOSE_REASON_BYTES) {
    throw new WsUsageError(
      'AVX_WS_CLOSE_REASON_TOO_LONG',
      `a close reason is at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes (RFC 6455 §5.5), got ${length}`,
    );
  }
  const out = Buffer.allocUnsafe(2 + length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  if (length > 0) out.write(reason, 2, 'utf8');
  return out;
}
