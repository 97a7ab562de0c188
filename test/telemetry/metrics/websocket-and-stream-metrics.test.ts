import assert from 'node:assert/strict';
import { connect, constants } from 'node:http2';
import { test } from 'node:test';
import WsPeer from 'ws';
import { Client } from '../../../src/client/client.js';
import { App } from '../../../src/server/app.js';
import { metrics } from '../../../src/telemetry/metrics/metrics-middleware.js';
import type { MetricsSnapshot } from '../../../src/telemetry/metrics/metrics-snapshot.js';
import { WebSocket } from '../../../src/ws/websocket.js';

function value(snapshot: MetricsSnapshot, name: string, labels: Record<string, string>): number {
  const family = snapshot.metrics.find((m) => m.name === name);
  const series = family?.series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return series?.value ?? 0;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not reached within 2 s');
}

test('WebSocket connections are counted by role, and closes by code', async () => {
  const instrument = metrics({ process: false });
  const app = new App();
  app.use(instrument);
  app.ws('/echo', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  const snap = () => instrument.registry.snapshot();
  try {
    const ours = await WebSocket.connect(`ws://127.0.0.1:${server.port}/echo`);
    const peer = new WsPeer(`ws://127.0.0.1:${server.port}/echo`);
    await new Promise((resolve, reject) => peer.once('open', resolve).once('error', reject));
    await until(() => value(snap(), 'websocket_active_connections', { role: 'server' }) === 2);
    assert.equal(value(snap(), 'websocket_active_connections', { role: 'client' }), 1);
    assert.equal(value(snap(), 'websocket_connections_total', { role: 'server' }), 2);

    ours.close(1000, 'done');
    peer.close(4001, 'app');
    await until(() => value(snap(), 'websocket_active_connections', { role: 'server' }) === 0);
    await until(() => value(snap(), 'websocket_active_connections', { role: 'client' }) === 0);
    assert.equal(value(snap(), 'websocket_closes_total', { role: 'server', code: '1000' }), 1);
    assert.equal(value(snap(), 'websocket_closes_total', { role: 'server', code: '4001' }), 1);
    assert.equal(value(snap(), 'websocket_closes_total', { role: 'client', code: '1000' }), 1);
    assert.equal(value(snap(), 'websocket_connections_total', { role: 'client' }), 1);
  } finally {
    instrument.close();
    await server.close();
  }
});

test('HTTP/2 streams are counted while open, and resets by error code', async () => {
  const instrument = metrics({ process: false });
  const app = new App();
  app.use(instrument);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  app.get('/slow', async () => {
    await held;
    return 'late';
  });
  app.get('/fast', () => 'fast');
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  const snap = () => instrument.registry.snapshot();
  const client = new Client({ http2: true, retry: false });
  const session = connect(`http://127.0.0.1:${server.port}`);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const slow = [client.get(`${base}/slow`), client.get(`${base}/slow`)];
    await until(() => value(snap(), 'http_server_active_streams', { protocol: 'h2' }) === 2);
    assert.equal(await (await client.get(`${base}/fast`)).text(), 'fast');
    // A stream the peer cancels is counted as a reset with its code's name.
    const cancelled = session.request({ ':path': '/slow' });
    cancelled.on('error', () => {});
    await until(() => value(snap(), 'http_server_active_streams', { protocol: 'h2' }) === 3);
    cancelled.close(constants.NGHTTP2_CANCEL);
    await until(
      () => value(snap(), 'http_server_stream_resets_total', { protocol: 'h2', error_code: 'CANCEL' }) === 1,
    );
    release();
    for (const r of slow) assert.equal(await (await r).text(), 'late');
    await until(() => value(snap(), 'http_server_active_streams', { protocol: 'h2' }) === 0);
    assert.equal(value(snap(), 'http_server_streams_total', { protocol: 'h2' }), 4);
  } finally {
    release();
    session.close();
    await client.close();
    instrument.close();
    await server.close();
  }
});
