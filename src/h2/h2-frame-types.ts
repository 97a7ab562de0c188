/**
 * HTTP/2 wire constants: the connection preface (RFC 9113 §3.4), frame types (§6, §11.2),
 * flags (§6.1-§6.10), SETTINGS identifiers (§6.5.2, RFC 8441 §3, RFC 9218 §2.1) and their bounds.
 */
import { Buffer } from 'node:buffer';

/** RFC 9113 §3.4: the client connection preface. */
export const H2_CLIENT_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** RFC 9113 §4.1: the frame header length. */
export const H2_FRAME_HEADER_LENGTH = 9;

/** RFC 9113 §6 frame types. */
export const H2FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
  /** RFC 9218 §7.1. */
  PRIORITY_UPDATE: 0x10,
} as const;

/** RFC 9113 §6 flags. */
export const H2Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** RFC 9113 §6.5.2 SETTINGS parameters. */
export const H2Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  /** RFC 8441 §3: the peer accepts extended CONNECT (`:protocol`). */
  ENABLE_CONNECT_PROTOCOL: 0x8,
  /** RFC 9218 §2.1. */
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

/** RFC 9113 §6.5.2: the smallest and largest SETTINGS_MAX_FRAME_SIZE. */
export const H2_MIN_MAX_FRAME_SIZE = 16384;
export const H2_MAX_MAX_FRAME_SIZE = 16777215;
/** RFC 9113 §6.9.1: the largest flow-control window. */
export const H2_MAX_WINDOW = 0x7fffffff;
/** RFC 9113 §6.9.2: the initial window of every stream and of the connection. */
export const H2_DEFAULT_WINDOW = 65535;
/** RFC 9113 §5.1.1: the largest stream identifier. */
export const H2_MAX_STREAM_ID = 0x7fffffff;
