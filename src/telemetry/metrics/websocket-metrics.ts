/**
 * The built-in WebSocket instruments, fed by the `avx:ws:*` diagnostics channels
 * (src/ws/ws-diagnostics.ts), for server and client sockets alike:
 * - `websocket_active_connections{role}` (gauge): open WebSockets, role `server` or `client`
 * - `websocket_connections_total{role}` (counter): WebSockets opened
 * - `websocket_closes_total{role,code}` (counter): WebSockets closed, by close code (RFC 6455
 *   §7.4; 1006 when the connection was lost without a close frame)
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Counter } from './counter.js';
import type { Gauge } from './gauge.js';
import type { MetricsRegistry } from './metrics-registry.js';

interface WsMessage {
  role: string;
  code?: number;
}

/** WebSocket connection instruments in a registry. */
export class WebSocketMetrics {
  readonly active: Gauge;
  readonly opened: Counter;
  readonly closes: Counter;
  private readonly onOpen = (message: unknown) => {
    const role = (message as WsMessage).role;
    this.active.child(role).inc();
    this.opened.child(role).inc();
  };
  private readonly onClose = (message: unknown) => {
    const { role, code } = message as WsMessage;
    this.active.child(role).dec();
    this.closes.child(role, String(code ?? 1005)).inc();
  };

  constructor(registry: MetricsRegistry) {
    this.active = registry.gauge({
      name: 'websocket_active_connections',
      help: 'Open WebSocket connections, by role (server or client)',
      labelNames: ['role'],
    });
    this.opened = registry.counter({
      name: 'websocket_connections_total',
      help: 'WebSocket connections opened, by role (server or client)',
      labelNames: ['role'],
    });
    this.closes = registry.counter({
      name: 'websocket_closes_total',
      help: 'WebSocket connections closed, by role and close code',
      labelNames: ['role', 'code'],
      // Applications may close with codes of their own (4000-4999): bounded.
      maxSeries: 100,
    });
    subscribe('avx:ws:open', this.onOpen);
    subscribe('avx:ws:close', this.onClose);
  }

  /** Stops listening to WebSocket events. */
  close(): void {
    unsubscribe('avx:ws:open', this.onOpen);
    unsubscribe('avx:ws:close', this.onClose);
  }
}
