import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDemoApp } from '../../src/cli/demo-app.js';
import { requirePeer } from '../peers.js';

/** Loads `url` in headless Chromium and returns the DOM after scripts ran. */
function chromiumDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'avx-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=4000',
    '--dump-dom',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile('chromium', args, { timeout: 60000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('headless Chromium loads the demo page over HTTP/1.1: JSON, static CSS and the SSE clock work', async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  const server = await createDemoApp().listen({ port: 0 });
  try {
    const dom = await chromiumDom(`http://127.0.0.1:${server.port}/?once`);
    assert.match(dom, /<b id="protocol">http\/1\.1<\/b>/);
    assert.match(dom, /<code id="hello">\{"hello":"world"/);
    assert.match(dom, /<b id="clock">\d{4}-\d{2}-\d{2}T/);
  } finally {
    await server.destroy();
  }
});
