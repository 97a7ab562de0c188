/**
 * HTTP/3 frame and stream type codes (RFC 9114 §7.2, §6.2, §11.2) and the reserved code
 * points: the HTTP/2 frame types that have no HTTP/3 meaning (§7.2.8) and the greasing values
 * 0x1f * N + 0x21 of frame, stream and setting types (§7.2.8, §6.2.3, §7.2.4.1).
 */

/** RFC 9114 §7.2: frame types. */
export const H3FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

/** RFC 9114 §6.2 and RFC 9204 §4.2: unidirectional stream types. */
export const H3StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

/**
 * RFC 9114 §7.2.8: frame types of HTTP/2 without an HTTP/3 counterpart (PRIORITY 0x02, PING
 * 0x06, WINDOW_UPDATE 0x08, CONTINUATION 0x09); receiving one is H3_FRAME_UNEXPECTED.
 */
export function isReservedH2FrameType(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/** RFC 9114 §7.2.8, §6.2.3, §7.2.4.1: a reserved greasing value, 0x1f * N + 0x21. */
export function isGreaseValue(value: number): boolean {
  return value >= 0x21 && (value - 0x21) % 0x1f === 0;
}

/** The largest client-initiated bidirectional stream id we handle (2^53 - 4; RFC 9000 §2.1). */
export const H3_MAX_REQUEST_STREAM_ID = 2 ** 53 - 4;
