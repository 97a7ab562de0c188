/**
 * The options of a WebSocket connection shared by both ends (limits, heartbeat, close timeout,
 * backpressure), with their defaults in one place. Server-only options are in ws-server.ts, the
 * client's in ws-client-handshake.ts.
 */
import type { TimerWheel } from '../runtime/timer-wheel.js';

/** Options of a WebSocket connection, server or client side. */
export interface WebSocketOptions {
  /**
   * Largest message accepted, in bytes, after reassembly and inflating; a larger one fails the
   * connection with close code 1009 (RFC 6455 §7.4.1). Default 104857600 (100 MiB, as `ws`).
   */
  maxMessageSize?: number;
  /** Largest single frame payload accepted, in bytes (1009 beyond). Default: `maxMessageSize`. */
  maxFrameSize?: number;
  /**
   * Heartbeat period in milliseconds: a Ping is sent every period, and a peer from which
   * nothing (no data, no Pong) arrived during a whole period is considered dead and the
   * connection destroyed (close code 1006, a `WsHeartbeatTimeoutError`). 0 disables it.
   * Default 30000 (30 s).
   */
  heartbeatInterval?: number;
  /**
   * How long to wait, in milliseconds, for the peer to finish the close handshake (its Close,
   * and for a client the server's TCP close, RFC 6455 §7.1.1) before destroying the socket.
   * Default 10000 (10 s).
   */
  closeTimeout?: number;
  /**
   * `bufferedAmount` (bytes) above which the promise returned by `send` waits for the socket
   * to drain. Default 1048576 (1 MiB).
   */
  highWaterMark?: number;
  /**
   * Messages the async iterator may hold for a slow consumer before reading from the socket
   * pauses (backpressure to the peer). Default 64.
   */
  iteratorQueueLimit?: number;
  /** The timer wheel for heartbeats and close timeouts. Default: the process-wide wheel. */
  timerWheel?: TimerWheel;
}

/** {@link WebSocketOptions} with every default filled in. */
export interface ResolvedWebSocketOptions {
  maxMessageSize: number;
  maxFrameSize: number;
  heartbeatInterval: number;
  closeTimeout: number;
  highWaterMark: number;
  iteratorQueueLimit: number;
  timerWheel: TimerWheel | undefined;
}

/** Fills in the defaults of {@link WebSocketOptions}. */
export function resolveWebSocketOptions(options: WebSocketOptions = {}): ResolvedWebSocketOptions {
  const maxMessageSize = options.maxMessageSize ?? 104857600;
  return {
    maxMessageSize,
    maxFrameSize: options.maxFrameSize ?? maxMessageSize,
    heartbeatInterval: options.heartbeatInterval ?? 30000,
    closeTimeout: options.closeTimeout ?? 10000,
    highWaterMark: options.highWaterMark ?? 1048576,
    iteratorQueueLimit: options.iteratorQueueLimit ?? 64,
    timerWheel: options.timerWheel,
  };
}
