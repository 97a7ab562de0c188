/**
 * Options of `H2Connection`, every limit with its default and unit, and the resolved form.
 * The defaults are safe for a public server: bounded memory per connection, and flood limits
 * well above what browsers, curl and gRPC clients do in normal use (RFC 9113 §10.5).
 */
import { H2_DEFAULT_WINDOW } from './h2-frame-types.js';

/** Options of {@link H2Connection}. Every field is optional. */
export interface H2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we announce: streams the peer may open at once. Default 100. */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we announce: receive window per stream, in octets. Default 262144. */
  initialWindowSize?: number;
  /** Receive window of the whole connection, in octets (raised by WINDOW_UPDATE at start). Default 1048576. */
  connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we announce: largest frame payload accepted, in octets. Default 16384. */
  maxFrameSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we announce and enforce, in octets (RFC 9113 §6.5.2). Default 65536. */
  maxHeaderListSize?: number;
  /** SETTINGS_HEADER_TABLE_SIZE we announce: the peer encoder's dynamic table, in octets. Default 4096. */
  headerTableSize?: number;
  /** Dynamic table our encoder uses at most, in octets. Default 4096. */
  encoderTableSize?: number;
  /** Largest compressed header block (HEADERS + CONTINUATION), in octets. Default 65536. */
  maxHeaderBlockSize?: number;
  /** CONTINUATION frames allowed in one header block (CVE-2024-27316). Default 32. */
  maxContinuationFrames?: number;
  /** Data queued per stream before `sendData` returns false, in octets. Default 65536. */
  streamWriteBufferSize?: number;
  /** Time allowed for the peer to acknowledge our SETTINGS, in ms (RFC 9113 §6.5.3). Default 10000. */
  settingsTimeout?: number;
  /** Time a stream may wait with data queued and no send window before it is reset, in ms. Default 30000. */
  sendStallTimeout?: number;
  /**
   * Streams reset by the peer, refused, or reset for malformed requests: sustained rate per
   * second (CVE-2023-44487 rapid reset). Default 100.
   */
  maxResetsPerSecond?: number;
  /** Burst allowance for resets. Default 200. */
  resetBurst?: number;
  /** SETTINGS frames per second from the peer (burst twice that). Default 20. */
  maxSettingsPerSecond?: number;
  /** PING frames per second from the peer (burst twice that). Default 20. */
  maxPingsPerSecond?: number;
  /**
   * Frames that carry nothing (empty DATA without END_STREAM, empty header fragments, unknown
   * types, PRIORITY) per second (burst twice that). Default 200.
   */
  maxEmptyFramesPerSecond?: number;
  /**
   * Client role: accept server push (RFC 9113 §8.4): SETTINGS_ENABLE_PUSH is left at 1 and each
   * valid PUSH_PROMISE goes to the handler's `onPushPromise` (refused with CANCEL when it has
   * none). When false, a client announces SETTINGS_ENABLE_PUSH = 0 and treats any PUSH_PROMISE as
   * a connection error PROTOCOL_ERROR. Servers ignore it (they push only when the client's
   * SETTINGS_ENABLE_PUSH is 1). Default false.
   */
  enablePush?: boolean;
  /**
   * Server role: announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3) and accept extended
   * CONNECT requests (`:method CONNECT` with `:protocol`, §4). Without it a `:protocol` field makes
   * the request malformed. Ignored by clients, which only learn the peer's value. Default false
   * here; the server driver turns it on when the app serves a protocol over extended CONNECT
   * (a WebSocket route), see `H2ServerConnection`.
   */
  enableConnectProtocol?: boolean;
}

/** {@link H2ConnectionOptions} with the defaults applied. */
export type ResolvedH2ConnectionOptions = Required<H2ConnectionOptions>;

/** Applies the defaults. */
export function resolveH2ConnectionOptions(options: H2ConnectionOptions = {}): ResolvedH2ConnectionOptions {
  return {
    maxConcurrentStreams: options.maxConcurrentStreams ?? 100,
    initialWindowSize: options.initialWindowSize ?? 262144,
    connectionWindowSize: Math.max(options.connectionWindowSize ?? 1048576, H2_DEFAULT_WINDOW),
    maxFrameSize: options.maxFrameSize ?? 16384,
    maxHeaderListSize: options.maxHeaderListSize ?? 65536,
    headerTableSize: options.headerTableSize ?? 4096,
    encoderTableSize: options.encoderTableSize ?? 4096,
    maxHeaderBlockSize: options.maxHeaderBlockSize ?? 65536,
    maxContinuationFrames: options.maxContinuationFrames ?? 32,
    streamWriteBufferSize: options.streamWriteBufferSize ?? 65536,
    settingsTimeout: options.settingsTimeout ?? 10000,
    sendStallTimeout: options.sendStallTimeout ?? 30000,
    maxResetsPerSecond: options.maxResetsPerSecond ?? 100,
    resetBurst: options.resetBurst ?? 200,
    maxSettingsPerSecond: options.maxSettingsPerSecond ?? 20,
    maxPingsPerSecond: options.maxPingsPerSecond ?? 20,
    maxEmptyFramesPerSecond: options.maxEmptyFramesPerSecond ?? 200,
    enablePush: options.enablePush ?? false,
    enableConnectProtocol: options.enableConnectProtocol ?? false,
  };
}
