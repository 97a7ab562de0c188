/**
 * Our HPACK encoder against Node's (nghttp2's) decoder: every request story of
 * hpack-test-case raw-data is encoded by us and sent as HEADERS frames over a raw socket to a
 * node:http2 server, which must receive exactly the same header lists.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerHttp2Stream } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { H2FrameParser } from '../../src/h2/h2-frame-parser.js';
import { H2_CLIENT_PREFACE, H2Flag, H2FrameType } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { flatHeaders, loadStories, requireHpackVectors } from './hpack-vectors.js';

const SKIP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'content-length',
]);
// content-length is dropped: these requests carry no body, and a peer rightly refuses a mismatch.

test('node:http2 receives exactly the header lists our encoder sent (raw-data request stories)', async (t) => {
  if (!requireHpackVectors(t)) return;
  const received = new Map<number, string[]>();
  let notify: (() => void) | undefined;
  const server = createServer({ maxHeaderListPairs: 1000, settings: { maxHeaderListSize: 1 << 20 } });
  server.on(
    'stream',
    (stream: ServerHttp2Stream, _headers: unknown, _flags: unknown, rawHeaders: string[]) => {
      received.set(stream.id!, rawHeaders);
      stream.respond({ ':status': 200 }, { endStream: true });
      notify?.();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  let blocks = 0;
  let stories = 0;
  try {
    for (const story of loadStories('raw-data')) {
      const first = flatHeaders(story.cases[0]!);
      if (!first.includes(':method')) continue; // response stories
      stories++;
      received.clear();
      const socket: Socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      const writer = new H2FrameWriter();
      const encoder = new HpackEncoder();
      let settingsSeen!: () => void;
      const ready = new Promise<void>((r) => {
        settingsSeen = r;
      });
      const parser = new H2FrameParser(
        {
          onFrame(type, flags) {
            if (type === H2FrameType.SETTINGS && (flags & H2Flag.ACK) === 0) settingsSeen();
          },
        },
        { expectPreface: false, maxFrameSize: 1 << 24 },
      );
      socket.on('data', (c) => parser.execute(c));
      socket.write(H2_CLIENT_PREFACE);
      writer.settings([]);
      socket.write(Buffer.concat(writer.take()));
      await ready;
      writer.settingsAck();
      const expected = new Map<number, string[]>();
      let id = 1;
      for (const c of story.cases) {
        const flat = flatHeaders(c).filter((_, i, a) => !SKIP.has(a[i - (i & 1)]!));
        writer.headers(id, encoder.encode(flat), true, 16384);
        expected.set(id, flat);
        id += 2;
      }
      socket.write(Buffer.concat(writer.take()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${story.file}: ${received.size}/${expected.size} streams`)),
          10000,
        );
        notify = () => {
          if (received.size === expected.size) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      });
      for (const [sid, flat] of expected) {
        assert.deepEqual(received.get(sid), flat, `${story.file} stream ${sid}`);
        blocks++;
      }
      socket.destroy();
    }
  } finally {
    server.close();
  }
  t.diagnostic(`node:http2 decoded ${blocks} blocks of ${stories} request stories as sent`);
  assert.ok(stories >= 20 && blocks > 300, `${blocks} blocks, ${stories} stories`);
});
