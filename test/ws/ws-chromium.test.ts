/**
 * Headless Chromium as a WebSocket client of our server: a page served by the same App opens
 * two WebSockets (one offering permessage-deflate, which Chromium always offers, accepted; one
 * where the server declines it), sends text, binary and a 70 000-byte text, writes the echoes
 * into the DOM, and closes with 4000. The page ends with `<script src="/wait">`, held until
 * both sockets closed on the server, so `--dump-dom` waits for the exchange.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';
import { chromiumDom } from '../chromium.js';
import { requirePeer } from '../peers.js';

const PAGE = `<!doctype html><html><body><pre id="plain">pending</pre><pre id="deflate">pending</pre>
<script>
function run(path, id) {
  const ws = new WebSocket('ws://' + location.host + path);
  ws.binaryType = 'arraybuffer';
  const got = [];
  ws.onopen = () => {
    ws.send('hello κόσμε');
    ws.send(new Uint8Array([1, 2, 3, 255]));
    ws.send('x'.repeat(70000));
  };
  ws.onmessage = (e) => {
    got.push(typeof e.data === 'string' ? 'text:' + e.data.length + ':' + e.data.slice(0, 11) : 'binary:' + new Uint8Array(e.data).join(','));
    if (got.length === 3) {
      document.getElementById(id).textContent = got.join('|') + '|ext:' + ws.extensions;
      ws.close(4000, 'page done');
    }
  };
  ws.onerror = () => { document.getElementById(id).textContent = 'error'; };
}
run('/echo', 'plain');
run('/echoz', 'deflate');
</script>
<script src="/wait"></script></body></html>`;

test('headless Chromium talks WebSocket to app.ws, with and without permessage-deflate', async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const closes: string[] = [];
  let release!: () => void;
  const bothClosed = new Promise<void>((r) => {
    release = r;
  });
  const app = new App();
  const echo = (name: string) => (ws: import('../../src/ws/websocket.js').WebSocket) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code, reason) => {
      closes.push(`${name} ${code} ${reason} ${ws.extensions}`);
      if (closes.length === 2) release();
    });
  };
  app.ws('/echo', echo('plain'));
  app.ws('/echoz', echo('deflate'), { perMessageDeflate: true });
  app.get('/page', () => Response.html(PAGE));
  app.get('/wait', async () => {
    // Bounded: a page that never closes gets its script after 15 s and the test fails on the DOM.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([bothClosed, new Promise((r) => (timer = setTimeout(r, 15000)))]);
    clearTimeout(timer);
    return new Response('', { headers: { 'content-type': 'text/javascript' } });
  });
  const server = await app.listen({ port: 0 });
  try {
    const dom = await chromiumDom(`http://127.0.0.1:${server.port}/page`);
    const expected = 'text:11:hello κόσμε|binary:1,2,3,255|text:70000:xxxxxxxxxxx';
    assert.match(dom, new RegExp(`<pre id="plain">${expected}\\|ext:</pre>`));
    assert.match(dom, new RegExp(`<pre id="deflate">${expected}\\|ext:permessage-deflate[^<]*</pre>`));
    assert.deepEqual(closes.sort(), ['deflate 4000 page done permessage-deflate', 'plain 4000 page done ']);
  } finally {
    await server.destroy();
  }
});
