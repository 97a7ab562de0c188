/**
 * The typed errors of the WebSocket implementation (RFC 6455). Each has a stable `code`
 * (`AVX_WS_*`); protocol errors also carry the close code (RFC 6455 §7.4.1) the connection was
 * failed with, so a program can tell a malformed frame (1002) from bad UTF-8 (1007) or an
 * oversized message (1009).
 */
import { AvxError, type AvxErrorOptions } from '../core/errors.js';

/**
 * The peer broke RFC 6455 or RFC 7692, or exceeded one of our limits: the connection is failed
 * (RFC 6455 §7.1.7) with {@link WsProtocolError.closeCode}.
 */
export class WsProtocolError extends AvxError {
  /** The close code sent to the peer: 1002, 1007, 1009, 1010 or 1011 (RFC 6455 §7.4.1). */
  readonly closeCode: number;

  constructor(code: string, closeCode: number, message: string, options?: AvxErrorOptions) {
    super(code, message, options);
    this.closeCode = closeCode;
  }
}

/** The opening handshake failed (RFC 6455 §4): a refused or malformed upgrade, a wrong accept value, ... */
export class WsHandshakeError extends AvxError {
  /** The HTTP status the server answered with, or 0 when the failure is not about a status. */
  readonly status: number;

  constructor(code: string, message: string, status = 0, options?: AvxErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

/**
 * `err` as a handshake failure: a {@link WsHandshakeError} as it is, anything else wrapped as
 * `AVX_WS_HANDSHAKE_FAILED` with `{what} failed: {message}`.
 */
export function handshakeFailure(err: unknown, what: string): WsHandshakeError {
  if (err instanceof WsHandshakeError) return err;
  return new WsHandshakeError('AVX_WS_HANDSHAKE_FAILED', `${what} failed: ${(err as Error).message}`, 0, {
    cause: err,
  });
}

/** A message or control frame was sent on a connection that is closing or closed. */
export class WsClosedError extends AvxError {
  constructor(message = 'the WebSocket is closing or closed (RFC 6455 §5.5.1: no data after a Close frame)') {
    super('AVX_WS_CLOSED', message);
  }
}

/** The peer stopped answering pings within the heartbeat interval (dead-peer detection). */
export class WsHeartbeatTimeoutError extends AvxError {
  constructor(intervalMs: number) {
    super('AVX_WS_HEARTBEAT_TIMEOUT', `no data or pong from the peer within ${intervalMs} ms of a ping`);
  }
}

/** An argument to a WebSocket method broke a rule of RFC 6455 (a close code, a too long reason, ...). */
export class WsUsageError extends AvxError {}

/**
 * The HTTP/2 stream carrying a WebSocket (RFC 8441) was reset, by the peer (RST_STREAM) or by
 * the loss of its connection: the WebSocket closes with 1006, like after a TCP reset (§6).
 */
export class WsStreamResetError extends AvxError {
  /** The RFC 9113 §7 error code of the reset (CANCEL when the connection was lost). */
  readonly errorCode: number;

  constructor(errorCode: number, message: string) {
    super('AVX_WS_STREAM_RESET', message);
    this.errorCode = errorCode;
  }
}
