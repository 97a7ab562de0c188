import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDemoApp } from '../../src/cli/demo-app.js';
import { chromiumDom } from '../chromium.js';
import { requirePeer } from '../peers.js';

test('headless Chromium loads the demo page over HTTP/1.1: JSON, static CSS and the SSE clock work', async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const server = await createDemoApp().listen({ port: 0 });
  try {
    const dom = await chromiumDom(`http://127.0.0.1:${server.port}/?once`, { budgetMs: 4000 });
    assert.match(dom, /<b id="protocol">http\/1\.1<\/b>/);
    assert.match(dom, /<code id="hello">\{"hello":"world"/);
    assert.match(dom, /<b id="clock">\d{4}-\d{2}-\d{2}T/);
  } finally {
    await server.destroy();
  }
});
