/**
 * Interoperability with the `ws` library (npm devDependency), both ways: `ws` as the client of
 * our server (app.ws), and as the server of our client (WebSocket.connect). Text, binary,
 * fragmented, 16 MiB, permessage-deflate (RFC 7692) and close exchanges, over loopback.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import WsClient, { type RawData, WebSocketServer } from 'ws';
import { App } from '../../src/server/app.js';
import type { WebSocket as AvxWebSocket } from '../../src/ws/websocket.js';
import { WebSocket } from '../../src/ws/websocket.js';

const BIG = (() => {
  const b = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < b.length; i += 997) b[i] = (i >> 8) & 0xff;
  return b;
})();

/** Collects the next `n` messages of a `ws` socket. */
function nextMessages(ws: WsClient, n: number): Promise<{ data: Buffer; isBinary: boolean }[]> {
  return new Promise((resolve) => {
    const out: { data: Buffer; isBinary: boolean }[] = [];
    const onMessage = (data: RawData, isBinary: boolean) => {
      out.push({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary });
      if (out.length === n) {
        ws.off('message', onMessage);
        resolve(out);
      }
    };
    ws.on('message', onMessage);
  });
}

async function take(ws: AvxWebSocket, n: number): Promise<{ data: Buffer; isBinary: boolean }[]> {
  const out: { data: Buffer; isBinary: boolean }[] = [];
  if (n === 0) return out;
  for await (const m of ws) {
    out.push(m);
    if (out.length === n) break;
  }
  return out;
}

for (const compress of [false, true]) {
  test(`ws client -> avx server${compress ? ' with permessage-deflate' : ''}: text, binary, fragmented, 16 MiB, ping, close`, async () => {
    const serverCloses: [number, string][] = [];
    const app = new App();
    app.ws(
      '/echo',
      (ws) => {
        ws.on('message', (data, isBinary) => {
          if (!isBinary && data.toString() === 'close please') ws.close(4002, 'server bye');
          else ws.send(data, { binary: isBinary });
        });
        ws.on('close', (code, reason) => serverCloses.push([code, reason]));
      },
      { perMessageDeflate: compress },
    );
    const server = await app.listen({ port: 0 });
    try {
      const client = new WsClient(`ws://127.0.0.1:${server.port}/echo`, { maxPayload: 64 * 1024 * 1024 });
      await once(client, 'open');
      assert.equal(client.extensions, compress ? 'permessage-deflate' : '');
      const replies = nextMessages(client, 5);
      client.send('hello κόσμε');
      client.send(Buffer.from([0, 1, 2, 255]));
      client.send('frag', { fin: false });
      client.send('men', { fin: false });
      client.send('ted', { fin: true });
      client.send('{"json":true}'.repeat(500));
      client.send(BIG);
      const got = await replies;
      assert.deepEqual(
        got.slice(0, 4).map((m) => [m.isBinary, m.isBinary ? m.data.toString('hex') : m.data.toString()]),
        [
          [false, 'hello κόσμε'],
          [true, '000102ff'],
          [false, 'fragmented'],
          [false, '{"json":true}'.repeat(500)],
        ],
      );
      assert.ok(got[4].isBinary && got[4].data.equals(BIG), '16 MiB came back intact');
      const pong = once(client, 'pong');
      client.ping('are you there');
      assert.equal((await pong)[0].toString(), 'are you there');
      // Close started by the client.
      const closed = once(client, 'close');
      client.close(4001, 'client bye');
      const [code] = await closed;
      assert.equal(code, 4001);
      for (let i = 0; i < 100 && serverCloses.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(serverCloses, [[4001, 'client bye']]);
      // Close started by the server.
      const second = new WsClient(`ws://127.0.0.1:${server.port}/echo`);
      await once(second, 'open');
      const secondClosed = once(second, 'close');
      second.send('close please');
      const [code2, reason2] = await secondClosed;
      assert.equal(code2, 4002);
      assert.equal(reason2.toString(), 'server bye');
    } finally {
      await server.destroy();
    }
  });

  test(`avx client -> ws server${compress ? ' with permessage-deflate' : ''}: text, binary, fragmented, 16 MiB, close`, async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: compress,
      maxPayload: 64 * 1024 * 1024,
    });
    await once(wss, 'listening');
    const serverCloses: [number, string][] = [];
    wss.on('connection', (peer) => {
      peer.on('message', (data: Buffer, isBinary: boolean) => {
        const text = data.toString();
        if (!isBinary && text === 'fragments please') {
          peer.send('one ', { fin: false });
          peer.send('two ', { fin: false });
          peer.send('three', { fin: true });
        } else if (!isBinary && text === 'close please') {
          peer.close(4003, 'ws server bye');
        } else {
          peer.send(data, { binary: isBinary });
        }
      });
      peer.on('close', (code: number, reason: Buffer) => serverCloses.push([code, reason.toString()]));
    });
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
      const ws = await WebSocket.connect(url, { perMessageDeflate: true, maxMessageSize: 64 * 1024 * 1024 });
      assert.equal(ws.extensions.startsWith('permessage-deflate'), compress);
      ws.send('hello κόσμε');
      ws.send(Buffer.from([0, 1, 2, 255]));
      ws.send('fragments please');
      ws.send('{"json":true}'.repeat(500));
      ws.send(BIG);
      const got = await take(ws, 5);
      assert.deepEqual(
        got.slice(0, 4).map((m) => [m.isBinary, m.isBinary ? m.data.toString('hex') : m.data.toString()]),
        [
          [false, 'hello κόσμε'],
          [true, '000102ff'],
          [false, 'one two three'],
          [false, '{"json":true}'.repeat(500)],
        ],
      );
      assert.ok(got[4].isBinary && got[4].data.equals(BIG), '16 MiB came back intact');
      const pong = once(ws, 'pong');
      ws.ping('ping from avx');
      assert.equal((await pong)[0].toString(), 'ping from avx');
      const closed = once(ws, 'close');
      ws.close(4004, 'avx bye');
      assert.equal((await closed)[0], 4004);
      for (let i = 0; i < 100 && serverCloses.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(serverCloses, [[4004, 'avx bye']]);
      const second = await WebSocket.connect(url);
      const secondClosed = once(second, 'close');
      second.send('close please');
      assert.deepEqual(await secondClosed, [4003, 'ws server bye']);
    } finally {
      for (const c of wss.clients) c.terminate();
      wss.close();
    }
  });
}

test('subprotocol negotiation with ws, both ways', async () => {
  const app = new App();
  app.ws('/p', (ws) => ws.close(1000), { protocols: ['b', 'a'] });
  const server = await app.listen({ port: 0 });
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (set) => (set.has('y') ? 'y' : false),
  });
  await once(wss, 'listening');
  try {
    const client = new WsClient(`ws://127.0.0.1:${server.port}/p`, ['a', 'b']);
    await once(client, 'open');
    assert.equal(client.protocol, 'b');
    client.terminate();
    const ws = await WebSocket.connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, {
      protocols: ['x', 'y'],
    });
    assert.equal(ws.protocol, 'y');
    ws.terminate();
  } finally {
    await server.destroy();
    for (const c of wss.clients) c.terminate();
    wss.close();
  }
});
