/**
 * WebSocket lifecycle events on `node:diagnostics_channel`, for telemetry (ours or an APM
 * agent's). Publishing costs one `hasSubscribers` check when nobody listens.
 *
 * Channels:
 * - `avx:ws:open`  `{ websocket, role }` (role `'server'` or `'client'`; after the handshake)
 * - `avx:ws:close` `{ websocket, role, code }` (the close code, 1006 when the connection was lost)
 */
import { channel } from 'node:diagnostics_channel';

export const wsOpenChannel = channel('avx:ws:open');
export const wsCloseChannel = channel('avx:ws:close');
