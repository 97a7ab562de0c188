import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../../src/server/app.js';
import { sse } from '../../src/server/middleware/sse.js';
import { openSocket } from './server-test-kit.js';

test('SSE over a real connection: events, heartbeats, Last-Event-ID, teardown when the client leaves', async () => {
  let finished = false;
  let lastIdSeen: string | undefined;
  const app = new App();
  app.get('/events', (req) =>
    sse(
      req,
      async function* (lastEventId) {
        lastIdSeen = lastEventId;
        try {
          for (let n = Number(lastEventId ?? 0) + 1; ; n++) {
            yield { event: 'count', data: `n=${n}\nline two`, id: String(n) };
            await sleep(60);
          }
        } finally {
          finished = true;
        }
      },
      { heartbeatMs: 20 },
    ),
  );
  const server = await app.listen({ port: 0 });
  try {
    const socket = await openSocket(server.port);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\nAccept: text/event-stream\r\n\r\n');
    for (let i = 0; i < 50 && !text.includes('id: 43'); i++) await sleep(20);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /content-type: text\/event-stream/i);
    assert.match(text, /Transfer-Encoding: chunked/);
    assert.match(text, /event: count\nid: 42\ndata: n=42\ndata: line two\n\n/);
    assert.match(text, /: ping/);
    assert.equal(lastIdSeen, '41');
    assert.equal(finished, false);
    socket.destroy();
    for (let i = 0; i < 50 && !finished; i++) await sleep(20);
    assert.equal(finished, true, "the source's finally block ran after the client left");
  } finally {
    await server.close();
  }
});
