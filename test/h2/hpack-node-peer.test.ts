/**
 * Our HPACK encoder against Node's (nghttp2's) decoder: every request story of
 * hpack-test-case raw-data is encoded by us and sent as HEADERS frames over a raw socket to a
 * node:http2 server, which must receive exactly the same header lists; every response story is
 * encoded by us as a server's responses to a node:http2 client, which must receive exactly them.
 */
import assert from 'node:assert/strict';
import { createServer, connect as http2Connect, type ServerHttp2Stream } from 'node:http2';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { H2FrameParser } from '../../src/h2/h2-frame-parser.js';
import { H2_CLIENT_PREFACE, H2Flag, H2FrameType } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { flatHeaders, type HpackStory, loadStories, requireHpackVectors } from './hpack-vectors.js';

const SKIP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'content-length',
]);
/**
 * The fields of a story as HTTP/2 allows them: pseudo-header fields first (RFC 9113 §8.3), no
 * connection-specific ones, and no value with leading or trailing whitespace (§8.2.1), which
 * nghttp2 drops from what it delivers.
 */
function validH2Fields(flat: string[]): string[] {
  const pseudo: string[] = [];
  const regular: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const value = flat[i + 1]!;
    if (SKIP.has(flat[i]!) || /^[ \t]|[ \t]$/.test(value)) continue;
    (flat[i]!.startsWith(':') ? pseudo : regular).push(flat[i]!, value);
  }
  return [...pseudo, ...regular];
}

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

test('a node:http2 client receives exactly the response header lists our encoder sent (raw-data response stories)', async (t) => {
  if (!requireHpackVectors(t)) return;
  let blocks = 0;
  let stories = 0;
  // Our side is a raw-socket HTTP/2 server: it answers request i of each connection with the
  // encoding of case i of the story, in order, on one HPACK context.
  let story: HpackStory | undefined;
  const expected = new Map<number, string[]>();
  const server = createNetServer((socket) => {
    const writer = new H2FrameWriter();
    const encoder = new HpackEncoder();
    const current = story!;
    let next = 0;
    const parser = new H2FrameParser(
      {
        onFrame(type, flags, streamId) {
          if (type === H2FrameType.SETTINGS && (flags & H2Flag.ACK) === 0) writer.settingsAck();
          if (type === H2FrameType.HEADERS) {
            const c = current.cases[next++];
            if (c === undefined) return;
            const flat = validH2Fields(flatHeaders(c));
            expected.set(streamId, flat);
            writer.headers(streamId, encoder.encode(flat), true, 16384);
          }
          const out = writer.take();
          if (out.length > 0) socket.write(Buffer.concat(out));
        },
      },
      { expectPreface: true, maxFrameSize: 1 << 24 },
    );
    socket.on('data', (chunk) => parser.execute(chunk));
    socket.on('error', () => {});
    writer.settings([]);
    socket.write(Buffer.concat(writer.take()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    for (const s of loadStories('raw-data')) {
      const first = flatHeaders(s.cases[0]!);
      if (!first.includes(':status')) continue; // request stories
      stories++;
      story = s;
      expected.clear();
      const session = http2Connect(`http://127.0.0.1:${port}`, {
        maxHeaderListPairs: 1000,
        settings: { maxHeaderListSize: 1 << 20 },
      });
      session.on('error', () => {});
      const received: Promise<[number, string[]]>[] = [];
      for (let i = 0; i < s.cases.length; i++) {
        const req = session.request({ ':path': `/${i}` }, { endStream: true });
        received.push(
          new Promise((resolve, reject) => {
            req.on('response', (_headers: unknown, _flags: unknown, raw: string[]) =>
              resolve([req.id!, raw]),
            );
            req.on('error', (err) => reject(new Error(`${s.file} case ${i}: ${err.message}`)));
            req.resume();
          }),
        );
      }
      let timer: NodeJS.Timeout | undefined;
      const all = await Promise.race([
        Promise.all(received),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${s.file}: no responses within 10 s`)), 10000);
        }),
      ]);
      clearTimeout(timer);
      for (const [sid, raw] of all) {
        assert.deepEqual(raw, expected.get(sid), `${s.file} stream ${sid}`);
        blocks++;
      }
      session.destroy();
    }
  } finally {
    server.close();
  }
  t.diagnostic(`a node:http2 client decoded ${blocks} blocks of ${stories} response stories as sent`);
  assert.ok(stories >= 10 && blocks > 2000, `${blocks} blocks, ${stories} stories`);
});
