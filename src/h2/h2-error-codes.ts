/**
 * The HTTP/2 error codes carried by RST_STREAM and GOAWAY (RFC 9113 §7), with their names for
 * messages and logs. Unknown codes received from a peer are kept as numbers (§7: "unknown or
 * unsupported error codes ... MUST NOT trigger any special behavior").
 */

/** RFC 9113 §7 error codes. */
export const H2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** One of the registered codes (a peer may also send others). */
export type H2ErrorCodeValue = (typeof H2ErrorCode)[keyof typeof H2ErrorCode];

const NAMES: readonly string[] = Object.keys(H2ErrorCode);

/** The registered name of `code` (`PROTOCOL_ERROR`), or `0x..` for an unknown one. */
export function h2ErrorCodeName(code: number): string {
  return NAMES[code] ?? `0x${code.toString(16)}`;
}
