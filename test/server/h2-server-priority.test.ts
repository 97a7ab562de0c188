/**
 * RFC 9218 §5, §8 on the h2 server: a handler that sets `priority` on its own response changes
 * the order in which the server sends that response's DATA (merged over the client's signal),
 * and the field still reaches the client. Checked with node:http2 as the client, on loopback,
 * over one connection whose window is the bottleneck.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import { App } from '../../src/server/app.js';
import { Response } from '../../src/server/response.js';

const BODY = Buffer.alloc(256 * 1024, 0x61);

/** Requests `paths` on one node:http2 session; resolves with the order the bodies ended in. */
async function fetchAll(
  port: number,
  paths: string[],
  headers: Record<string, string> = {},
): Promise<{ ended: string[]; chunks: string[]; priority: Map<string, string | undefined> }> {
  // Large stream windows: the 65535-octet connection window decides who sends (RFC 9113 §6.9.1).
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 24 } });
  const ended: string[] = [];
  const chunks: string[] = [];
  const priority = new Map<string, string | undefined>();
  try {
    await Promise.all(
      paths.map(
        (path) =>
          new Promise<void>((resolve, reject) => {
            const req = session.request({ ':path': path, ...headers });
            let n = 0;
            req.on('response', (h) => priority.set(path, h.priority as string | undefined));
            req.on('data', (c: Buffer) => {
              n += c.length;
              if (chunks.at(-1) !== path) chunks.push(path);
            });
            req.on('end', () => {
              if (n !== BODY.length) reject(new Error(`${path}: ${n} octets`));
              ended.push(path);
              resolve();
            });
            req.on('error', reject);
            req.end();
          }),
      ),
    );
  } finally {
    session.close();
  }
  return { ended, chunks, priority };
}

/**
 * An app whose handlers wait until all `count` requests are in, then answer in arrival order
 * (all in one turn of the event loop, before any WINDOW_UPDATE can arrive): the first answer
 * takes the whole connection window and the others queue behind it in the scheduler.
 */
function gatedApp(count: number, respond: (path: string) => Response): App {
  const app = new App();
  const waiting: (() => void)[] = [];
  app.get('/r/:name', async (req) => {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === count) for (const release of waiting) release();
    });
    return respond(req.params.name!);
  });
  return app;
}

test("RFC 9218 §8: a handler's `priority: u=0` response is sent before the earlier, default-priority ones", async () => {
  const app = gatedApp(3, (name) =>
    name === 'urgent' ? new Response(BODY, { headers: { priority: 'u=0' } }) : new Response(BODY),
  );
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { ended, chunks, priority } = await fetchAll(server.port, ['/r/a', '/r/b', '/r/urgent']);
    // Without the server's own signal: stream-id order, a, b, urgent (RFC 9218 §4.2 default).
    assert.deepEqual(ended, ['/r/urgent', '/r/a', '/r/b']);
    // `a` got the window first; then the urgent response whole, then the rest in id order.
    assert.deepEqual(chunks, ['/r/a', '/r/urgent', '/r/a', '/r/b']);
    // RFC 9218 §5: the field is part of the response the client sees.
    assert.equal(priority.get('/r/urgent'), 'u=0');
    assert.equal(priority.get('/r/a'), undefined);
  } finally {
    await server.destroy();
  }
});

test("RFC 9218 §8: the response's field overrides the request's urgency (u=2 asked, u=1 or u=6 answered)", async () => {
  // Every request asks for u=2; the server lowers `a` to u=6 and raises `c` to u=1.
  const app = gatedApp(
    3,
    (name) =>
      new Response(BODY, {
        headers: name === 'a' ? { priority: 'u=6' } : name === 'c' ? { priority: 'u=1' } : {},
      }),
  );
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { ended } = await fetchAll(server.port, ['/r/a', '/r/b', '/r/c'], { priority: 'u=2' });
    assert.deepEqual(ended, ['/r/c', '/r/b', '/r/a']);
  } finally {
    await server.destroy();
  }
});
