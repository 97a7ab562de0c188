/**
 * WebSocket frame opcodes (RFC 6455 §5.2, §11.8). 0x3-0x7 and 0xB-0xF are reserved: a frame
 * carrying one fails the connection with 1002.
 */
export const WsOpcode = {
  /** A continuation of a fragmented message (RFC 6455 §5.4). */
  Continuation: 0x0,
  /** A text message, UTF-8 (RFC 6455 §5.6). */
  Text: 0x1,
  /** A binary message. */
  Binary: 0x2,
  /** Close (RFC 6455 §5.5.1). */
  Close: 0x8,
  /** Ping (RFC 6455 §5.5.2). */
  Ping: 0x9,
  /** Pong (RFC 6455 §5.5.3). */
  Pong: 0xa,
} as const;
export type WsOpcode = (typeof WsOpcode)[keyof typeof WsOpcode];

/** Control frames have the high bit of the opcode set (RFC 6455 §5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}
