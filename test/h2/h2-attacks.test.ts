/**
 * The published HTTP/2 attacks, mounted against the connection core: each must end with
 * bounded work and memory (a GOAWAY ENHANCE_YOUR_CALM, a refused stream, or a reset).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection } from '../../src/h2/h2-connection.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import { H2FrameType } from '../../src/h2/h2-frame-types.js';
import { HpackDecoder } from '../../src/h2/hpack-decoder.js';
import { FrameLog, goawayCode, RecordingHandler, ScriptedPeer } from './h2-test-peer.js';

function server(options = {}) {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler, options);
  conn.start(0);
  conn.takeOutgoing();
  return { handler, conn };
}

test('rapid reset (CVE-2023-44487): streams opened and reset in a loop end the connection with ENHANCE_YOUR_CALM', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface();
  for (let id = 1; id < 20000; id += 2) {
    peer.request(id, '/');
    peer.writer.rstStream(id, H2ErrorCode.CANCEL);
  }
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.code, 'AVX_H2_FLOOD');
  assert.equal(goawayCode(new FrameLog().feed(conn.takeOutgoing())), H2ErrorCode.ENHANCE_YOUR_CALM);
  assert.ok(handler.headers.length <= 201, `${handler.headers.length} requests reached the app`);
  assert.equal(conn.activeStreams, 0);
});

test('rapid reset: a normal rate of cancellations is allowed', () => {
  const { conn, handler } = server();
  let now = 0;
  for (let id = 1; id < 2000; id += 2) {
    const peer = new ScriptedPeer();
    if (id === 1) peer.preface();
    peer.request(id, '/');
    peer.writer.rstStream(id, H2ErrorCode.CANCEL);
    now += 20; // 50 per second
    conn.receive(peer.bytes(), now);
  }
  assert.equal(handler.errors.length, 0);
  assert.equal(handler.headers.length, 1000);
});

test('CONTINUATION flood (CVE-2024-27316): endless CONTINUATION frames are cut off with bounded memory', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface();
  const block = Buffer.from(
    peer.encoder.encode([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x']),
  );
  peer.writer.raw(H2FrameType.HEADERS, 0, 1, block);
  conn.receive(peer.bytes(), 0);
  let frames = 0;
  const junk = Buffer.alloc(16000, 0x41);
  while (handler.errors.length === 0 && frames < 10000) {
    peer.writer.raw(H2FrameType.CONTINUATION, 0, 1, junk);
    conn.receive(peer.bytes(), 0);
    frames++;
  }
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.ENHANCE_YOUR_CALM);
  assert.ok(frames <= 5, `accepted ${frames} CONTINUATION frames of 16 KB`);
  // Many tiny CONTINUATION frames hit the frame-count limit.
  const second = server();
  const p2 = new ScriptedPeer().preface();
  p2.writer.raw(H2FrameType.HEADERS, 0, 1, block);
  for (let i = 0; i < 1000; i++) p2.writer.raw(H2FrameType.CONTINUATION, 0, 1, Buffer.from([0x82]));
  second.conn.receive(p2.bytes(), 0);
  assert.equal(second.handler.errors[0]?.errorCode, H2ErrorCode.ENHANCE_YOUR_CALM);
});

test('HPACK bomb: a header list over SETTINGS_MAX_HEADER_LIST_SIZE gets 431, the connection stays usable', () => {
  const { conn, handler } = server({ maxHeaderListSize: 16384 });
  const peer = new ScriptedPeer().preface();
  // One 4 KB field in the dynamic table, then a block referencing it 1000 times (~4 MB).
  peer.request(1, '/', true, ['x-bomb', 'b'.repeat(4000)]);
  const refs = Buffer.concat([
    Buffer.from(
      peer.encoder.encode([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'localhost']),
    ),
    Buffer.alloc(1000, 0xbe),
  ]);
  peer.writer.headers(3, refs, true, 16384);
  peer.request(5, '/after');
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors.length, 0);
  assert.deepEqual(
    handler.headers.map((h) => h.stream.id),
    [1, 5],
  );
  const log = new FrameLog().feed(conn.takeOutgoing());
  const answer = log.ofType(H2FrameType.HEADERS).find((f) => f.streamId === 3)!;
  assert.deepEqual(new HpackDecoder().decode(answer.payload), [':status', '431']);
});

for (const [name, build, option] of [
  ['SETTINGS flood', (p: ScriptedPeer) => p.writer.settings([]), 'maxSettingsPerSecond'],
  ['PING flood', (p: ScriptedPeer) => p.writer.ping(Buffer.alloc(8), false), 'maxPingsPerSecond'],
  [
    'empty DATA flood',
    (p: ScriptedPeer) => p.writer.data(1, Buffer.alloc(0), false),
    'maxEmptyFramesPerSecond',
  ],
  [
    'unknown-frame flood',
    (p: ScriptedPeer) => p.writer.raw(0xee, 0, 0, Buffer.alloc(0)),
    'maxEmptyFramesPerSecond',
  ],
] as const) {
  test(`${name}: ends with GOAWAY ENHANCE_YOUR_CALM`, () => {
    const { conn, handler } = server();
    const peer = new ScriptedPeer().preface().request(1, '/', false, [], 'POST');
    for (let i = 0; i < 100000; i++) build(peer);
    conn.receive(peer.bytes(), 0);
    assert.equal(handler.errors[0]?.code, 'AVX_H2_FLOOD', name);
    const log = new FrameLog().feed(conn.takeOutgoing());
    assert.equal(goawayCode(log), H2ErrorCode.ENHANCE_YOUR_CALM);
    // Responses to the flood are bounded too (a few ACKs, not 100000).
    assert.ok(log.frames.length < 1000, `${log.frames.length} frames sent back (${option})`);
  });
}

test('zero-window stall: queued data is bounded and a stream stuck on a zero window is reset after sendStallTimeout', () => {
  const { conn, handler } = server({ sendStallTimeout: 5000, streamWriteBufferSize: 65536 });
  const peer = new ScriptedPeer();
  peer.writer.bytes(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
  peer.writer.settings([4, 0]); // INITIAL_WINDOW_SIZE 0
  peer.request(1);
  conn.receive(peer.bytes(), 0);
  const stream = handler.headers[0]!.stream;
  conn.sendHeaders(stream, [':status', '200'], false);
  assert.equal(conn.sendData(stream, Buffer.alloc(100000), false), false); // the driver must wait
  const first = new FrameLog().feed(conn.takeOutgoing());
  assert.equal(first.ofType(H2FrameType.DATA).length, 0);
  conn.tick(1000);
  assert.equal(handler.closed.length, 0);
  conn.tick(6001);
  assert.deepEqual(handler.closed, [{ id: 1, code: H2ErrorCode.CANCEL, byPeer: false }]);
  const log = new FrameLog().feed(conn.takeOutgoing());
  assert.equal(log.ofType(H2FrameType.RST_STREAM)[0]?.payload.readUInt32BE(0), H2ErrorCode.CANCEL);
  assert.equal(stream.pendingBytes, 0);
});

test('stream id exhaustion: the last stream id works, then any lower or reused id is a PROTOCOL_ERROR', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(0x7fffffff, '/last', false);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.headers[0]?.stream.id, 0x7fffffff);
  // An even (server-side) id from the client is a protocol error.
  peer.request(2, '/');
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
});
