/**
 * Lifecycle events of the server on `node:diagnostics_channel`, so that telemetry (ours or an
 * APM agent's) can observe requests without reaching into the drivers. Publishing costs one
 * `hasSubscribers` check when nobody listens.
 *
 * Channels:
 * - `avx:server:connection:open`  `{ socket, protocol, secure }`
 * - `avx:server:connection:close` `{ socket, protocol }`
 * - `avx:server:request:start`    `{ request }`
 * - `avx:server:response:finish`  `{ request, status, bytes, error? }` (bytes of body written, -1 unknown)
 * - `avx:server:stream:open`      `{ protocol, streamId }` (an HTTP/2 stream began: a request or a push)
 * - `avx:server:stream:close`     `{ protocol, streamId, errorCode }` (0, or the RST_STREAM code)
 */
import { channel } from 'node:diagnostics_channel';

export const connectionOpenChannel = channel('avx:server:connection:open');
export const connectionCloseChannel = channel('avx:server:connection:close');
export const requestStartChannel = channel('avx:server:request:start');
export const responseFinishChannel = channel('avx:server:response:finish');
export const streamOpenChannel = channel('avx:server:stream:open');
export const streamCloseChannel = channel('avx:server:stream:close');
