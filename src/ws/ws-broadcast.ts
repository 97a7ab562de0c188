/**
 * Broadcasting one message to many WebSockets. A server frame is unmasked (RFC 6455 §5.1), so
 * the same bytes can go to every server-side connection without permessage-deflate: the message
 * is encoded once and the one buffer written to each socket. Connections that compress, or
 * client-side ones (which must mask each frame with its own key, §5.3), get an ordinary `send`.
 */

import type { WebSocket, WebSocketSendOptions } from './websocket.js';
import { WsFrameWriter } from './ws-frame-writer.js';
import { WsOpcode } from './ws-opcode.js';

const serverFrames = new WsFrameWriter(false);

/**
 * Sends `data` to every open WebSocket in `clients` (a string as text, bytes as binary, unless
 * `options.binary` says otherwise). Returns how many it was sent to; closed ones are skipped.
 */
export function broadcast(
  clients: Iterable<WebSocket>,
  data: string | Buffer,
  options?: WebSocketSendOptions,
): number {
  const binary = options?.binary ?? typeof data !== 'string';
  const frame = serverFrames.encode(binary ? WsOpcode.Binary : WsOpcode.Text, true, false, data);
  let sent = 0;
  for (const ws of clients) {
    if (ws.readyState !== 1) continue;
    if (ws.acceptsEncoded) {
      if (ws.sendEncoded(frame)) sent++;
    } else {
      ws.send(data, options);
      sent++;
    }
  }
  return sent;
}
