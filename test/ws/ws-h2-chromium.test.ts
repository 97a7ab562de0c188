/**
 * Headless Chromium as a WebSocket-over-HTTP/2 client (RFC 8441): the page comes over TLS with
 * ALPN h2, our server announces SETTINGS_ENABLE_CONNECT_PROTOCOL, and Chromium opens its two
 * `wss:` WebSockets (one with permessage-deflate accepted) as extended CONNECT streams on the
 * page's own HTTP/2 connection. The page sends text, binary and a 1 MiB text (through HTTP/2
 * flow control), writes the echoes into the DOM and closes with 4000; `<script src="/wait">`
 * holds `--dump-dom` until both sockets closed on the server, which must be prompt.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../src/server/app.js';
import type { Request } from '../../src/server/request.js';
import { Response } from '../../src/server/response.js';
import type { WebSocket } from '../../src/ws/websocket.js';
import { chromiumDom } from '../chromium.js';
import { requirePeer } from '../peers.js';
import { testCertificate } from '../tls-certificate.js';

const PAGE = `<!doctype html><html><body><pre id="plain">pending</pre><pre id="deflate">pending</pre>
<script>
function run(path, id) {
  const ws = new WebSocket('wss://' + location.host + path);
  ws.binaryType = 'arraybuffer';
  const got = [];
  ws.onopen = () => {
    ws.send('hello κόσμε');
    ws.send(new Uint8Array([1, 2, 3, 255]));
    ws.send('x'.repeat(1 << 20));
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

test('headless Chromium opens WebSockets over HTTP/2 (RFC 8441) to app.ws, with and without permessage-deflate', async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const { cert, key } = testCertificate();
  const closes: string[] = [];
  const connections: string[] = [];
  let pagePort = 0;
  let pageAt = 0;
  let closedAt = 0;
  let release!: () => void;
  const bothClosed = new Promise<void>((r) => {
    release = r;
  });
  const app = new App();
  const echo = (name: string) => (ws: WebSocket, req: Request) => {
    connections.push(`${name} ${req.protocol} ${req.method} ${req.remotePort === pagePort}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code, reason) => {
      closes.push(`${name} ${code} ${reason} ${ws.extensions}`);
      if (closes.length === 2) {
        closedAt = Date.now();
        release();
      }
    });
  };
  app.ws('/echo', echo('plain'));
  app.ws('/echoz', echo('deflate'), { perMessageDeflate: true });
  app.get('/page', (req) => {
    pagePort = req.remotePort;
    pageAt = Date.now();
    return Response.html(PAGE);
  });
  app.get('/wait', async () => {
    // Bounded: a page that never closes gets its script after 15 s and the test fails on the DOM.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([bothClosed, new Promise((r) => (timer = setTimeout(r, 15000)))]);
    clearTimeout(timer);
    return new Response('', { headers: { 'content-type': 'text/javascript' } });
  });
  const server = await app.listen({ port: 0, tls: { cert, key } });
  try {
    const dom = await chromiumDom(`https://localhost:${server.port}/page`, {
      flags: ['--ignore-certificate-errors'],
      budgetMs: 5000,
    });
    const expected = 'text:11:hello κόσμε|binary:1,2,3,255|text:1048576:xxxxxxxxxxx';
    assert.match(dom, new RegExp(`<pre id="plain">${expected}\\|ext:</pre>`));
    assert.match(dom, new RegExp(`<pre id="deflate">${expected}\\|ext:permessage-deflate[^<]*</pre>`));
    // Extended CONNECT on the page's own HTTP/2 connection, not an HTTP/1.1 upgrade.
    assert.deepEqual(connections.sort(), ['deflate h2 CONNECT true', 'plain h2 CONNECT true']);
    assert.deepEqual(closes.sort(), ['deflate 4000 page done permessage-deflate', 'plain 4000 page done ']);
    // Chromium keeps its side of the stream open after the close handshake: our END_STREAM and
    // RST_STREAM NO_ERROR end it, without waiting for the 10 s closeTimeout.
    assert.ok(closedAt - pageAt < 5000, `closed after ${closedAt - pageAt} ms`);
  } finally {
    await server.destroy();
  }
});
