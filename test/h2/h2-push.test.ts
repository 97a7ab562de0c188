/**
 * Server push in the sans-I/O core (RFC 9113 §8.4, §6.6): `pushPromise` on a server only when
 * the client allows it, the promised stream's states (§5.1 reserved), PUSH_PROMISE refused by
 * servers and by clients that disabled push, and accepted and validated by a client with
 * `enablePush`. Byte vectors written with our frame writer and HPACK encoder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection } from '../../src/h2/h2-connection.js';
import type { H2ConnectionOptions } from '../../src/h2/h2-connection-options.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import { H2FrameType, H2Setting } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import type { H2Stream } from '../../src/h2/h2-stream.js';
import { HpackDecoder } from '../../src/h2/hpack-decoder.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { FrameLog, goawayCode, RecordingHandler, ScriptedPeer } from './h2-test-peer.js';

const PROMISED = [':method', 'GET', ':scheme', 'https', ':authority', 'x', ':path', '/style.css'];

function server(options: H2ConnectionOptions = {}) {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler, options);
  conn.start(0);
  conn.takeOutgoing();
  return { handler, conn };
}

function out(conn: H2Connection): FrameLog {
  return new FrameLog().feed(conn.takeOutgoing());
}

/** A client handler that accepts pushes. */
class PushRecorder extends RecordingHandler {
  promises: { associated: number; promised: H2Stream; fields: string[] }[] = [];
  onPushPromise(associated: H2Stream, promised: H2Stream, fields: string[]): void {
    this.promises.push({ associated: associated.id, promised, fields });
  }
}

/** A client core with one request open on stream 1, its preface and SETTINGS taken. */
function client(options: H2ConnectionOptions = {}, handler = new PushRecorder()) {
  const conn = new H2Connection('client', handler, options);
  conn.start(0);
  // Our preface (24 octets), then our frames.
  const settings = new FrameLog().feed([Buffer.concat(conn.takeOutgoing()).subarray(24)]);
  const stream = conn.openStream(PROMISED, true);
  conn.takeOutgoing();
  // The server's SETTINGS (empty) and its ACK of ours.
  const w = new H2FrameWriter();
  w.settings([]);
  w.settingsAck();
  conn.receive(Buffer.concat(w.take()), 0);
  conn.takeOutgoing();
  return { conn, handler, stream, settings };
}

/** Frames a scripted server sends (our writer and encoder). */
function serverFrames(write: (w: H2FrameWriter, enc: HpackEncoder) => void): Buffer {
  const w = new H2FrameWriter();
  write(w, new HpackEncoder());
  return Buffer.concat(w.take());
}

test('push: PUSH_PROMISE on the request stream, then the pushed response on an even stream', () => {
  const { conn, handler } = server();
  conn.receive(new ScriptedPeer().preface().request(1, '/page').bytes(), 0);
  out(conn);
  const request = handler.headers[0]!.stream;
  const promised = conn.pushPromise(request, PROMISED);
  assert.ok(promised);
  assert.equal(promised.id, 2);
  conn.sendHeaders(promised, [':status', '200', 'content-type', 'text/css'], false);
  conn.sendData(promised, Buffer.from('body{}'), true);
  conn.sendHeaders(request, [':status', '200'], true);
  const log = out(conn);
  const decoder = new HpackDecoder();
  // Frame order: PUSH_PROMISE on 1, HEADERS + DATA on 2, then the response on 1.
  assert.deepEqual(
    log.frames.map((f) => [f.type, f.streamId]),
    [
      [H2FrameType.PUSH_PROMISE, 1],
      [H2FrameType.HEADERS, 2],
      [H2FrameType.DATA, 2],
      [H2FrameType.HEADERS, 1],
    ],
  );
  const pp = log.frames[0]!;
  assert.equal(pp.flags & 0x4, 0x4, 'END_HEADERS');
  assert.equal(pp.payload.readUInt32BE(0), 2, 'promised stream id');
  assert.deepEqual(decoder.decode(pp.payload.subarray(4)), PROMISED);
  assert.deepEqual(decoder.decode(log.frames[1]!.payload), [':status', '200', 'content-type', 'text/css']);
  assert.equal(log.frames[2]!.payload.toString(), 'body{}');
  assert.equal(log.frames[2]!.flags & 1, 1);
  assert.deepEqual(handler.closed.map((c) => c.id).sort(), [1, 2]);
  assert.equal(conn.activeStreams, 0);
});

test('push: a large promised request is split into PUSH_PROMISE + CONTINUATION', () => {
  const { conn, handler } = server();
  conn.receive(new ScriptedPeer().preface().request(1, '/page', false).bytes(), 0);
  out(conn);
  const fields = [...PROMISED, 'x-big', 'v'.repeat(40000)];
  const promised = conn.pushPromise(handler.headers[0]!.stream, fields)!;
  const log = out(conn);
  assert.deepEqual(
    log.frames.map((f) => f.type),
    [H2FrameType.PUSH_PROMISE, H2FrameType.CONTINUATION, H2FrameType.CONTINUATION],
  );
  assert.ok(log.frames.every((f) => f.payload.length <= 16384));
  assert.equal(log.frames.at(-1)!.flags & 0x4, 0x4);
  const block = Buffer.concat([
    log.frames[0]!.payload.subarray(4),
    ...log.frames.slice(1).map((f) => f.payload),
  ]);
  assert.deepEqual(new HpackDecoder().decode(block), fields);
  assert.equal(promised.id, 2);
});

test('push: none when the client sent SETTINGS_ENABLE_PUSH = 0, at its stream limit, or after the response', () => {
  {
    const { conn, handler } = server();
    const peer = new ScriptedPeer();
    peer.writer.bytes(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    peer.writer.settings([H2Setting.ENABLE_PUSH, 0]);
    peer.request(1, '/page', false);
    conn.receive(peer.bytes(), 0);
    assert.equal(conn.peerEnablePush, false);
    assert.equal(conn.pushPromise(handler.headers[0]!.stream, PROMISED), undefined);
    assert.equal(out(conn).ofType(H2FrameType.PUSH_PROMISE).length, 0);
  }
  {
    const { conn, handler } = server();
    const peer = new ScriptedPeer();
    peer.writer.bytes(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    peer.writer.settings([H2Setting.MAX_CONCURRENT_STREAMS, 1]);
    peer.request(1, '/page', false);
    conn.receive(peer.bytes(), 0);
    const request = handler.headers[0]!.stream;
    assert.ok(conn.pushPromise(request, PROMISED));
    assert.equal(
      conn.pushPromise(request, PROMISED),
      undefined,
      'the second exceeds MAX_CONCURRENT_STREAMS 1',
    );
  }
  {
    const { conn, handler } = server();
    conn.receive(new ScriptedPeer().preface().request(1, '/page').bytes(), 0);
    const request = handler.headers[0]!.stream;
    conn.sendHeaders(request, [':status', '204'], true);
    assert.equal(conn.pushPromise(request, PROMISED), undefined, 'the stream is closed');
  }
});

test('push: the promised request must be a well-formed GET or HEAD; clients cannot push', () => {
  const { conn, handler } = server();
  conn.receive(new ScriptedPeer().preface().request(1, '/page', false).bytes(), 0);
  const request = handler.headers[0]!.stream;
  assert.throws(
    () => conn.pushPromise(request, [':method', 'POST', ':scheme', 'https', ':authority', 'x', ':path', '/']),
    { code: 'AVX_H2_MALFORMED_HEADERS' },
  );
  assert.throws(() => conn.pushPromise(request, [':method', 'GET', ':authority', 'x', ':path', '/']), {
    code: 'AVX_H2_MALFORMED_HEADERS',
  });
  const { conn: c, stream } = client();
  assert.throws(() => c.pushPromise(stream, PROMISED), { code: 'AVX_H2_PROTOCOL' });
});

test('push: a client that sends PUSH_PROMISE is a connection error PROTOCOL_ERROR (RFC 9113 §8.4)', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/', false);
  peer.writer.pushPromise(1, 2, peer.encoder.encode(PROMISED), 16384);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
  assert.equal(goawayCode(out(conn)), H2ErrorCode.PROTOCOL_ERROR);
});

test('push refused: a client announces SETTINGS_ENABLE_PUSH = 0 and fails the connection on PUSH_PROMISE', () => {
  const { conn, handler, settings } = client({}, new RecordingHandler() as PushRecorder);
  const ours = settings.ofType(H2FrameType.SETTINGS)[0]!.payload;
  const values = new Map<number, number>();
  for (let p = 0; p < ours.length; p += 6) values.set(ours.readUInt16BE(p), ours.readUInt32BE(p + 2));
  assert.equal(values.get(H2Setting.ENABLE_PUSH), 0);
  conn.receive(
    serverFrames((w, enc) => w.pushPromise(1, 2, enc.encode(PROMISED), 16384)),
    0,
  );
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
  assert.equal(goawayCode(out(conn)), H2ErrorCode.PROTOCOL_ERROR);
});

test('push accepted: a client with enablePush omits ENABLE_PUSH = 0 and receives the pushed response', () => {
  const handler = new PushRecorder();
  const c = new H2Connection('client', handler, { enablePush: true });
  const serverHandler = new RecordingHandler();
  const s = new H2Connection('server', serverHandler);
  c.start(0);
  s.start(0);
  const stream = c.openStream(
    PROMISED.map((v) => (v === '/style.css' ? '/page' : v)),
    true,
  );
  const pump = () => {
    for (let i = 0; i < 4; i++) {
      s.receive(Buffer.concat(c.takeOutgoing()), 0);
      c.receive(Buffer.concat(s.takeOutgoing()), 0);
    }
  };
  pump();
  assert.equal(s.peerEnablePush, true);
  const request = serverHandler.headers[0]!.stream;
  const promised = s.pushPromise(request, PROMISED)!;
  s.sendHeaders(promised, [':status', '200'], false);
  s.sendData(promised, Buffer.from('pushed'), true);
  s.sendHeaders(request, [':status', '200'], true);
  pump();
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.equal(handler.promises.length, 1);
  assert.equal(handler.promises[0]!.associated, stream.id);
  assert.equal(handler.promises[0]!.promised.id, 2);
  assert.deepEqual(handler.promises[0]!.fields, PROMISED);
  const pushedHeaders = handler.headers.find((h) => h.stream.id === 2);
  assert.deepEqual(pushedHeaders?.fields, [':status', '200']);
  assert.equal(
    handler.data
      .filter((d) => d.stream.id === 2)
      .map((d) => d.data.toString())
      .join(''),
    'pushed',
  );
  assert.deepEqual(handler.closed.map((x) => [x.id, x.code]).sort(), [
    [1, 0],
    [2, 0],
  ]);
});

test('push accepted: a client without onPushPromise refuses each promise with CANCEL', () => {
  const { conn, handler } = client({ enablePush: true }, new RecordingHandler() as PushRecorder);
  conn.receive(
    serverFrames((w, enc) => w.pushPromise(1, 2, enc.encode(PROMISED), 16384)),
    0,
  );
  assert.equal(handler.errors.length, 0);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.equal(rst[0]?.streamId, 2);
  assert.equal(rst[0]?.payload.readUInt32BE(0), H2ErrorCode.CANCEL);
});

test('push accepted: illegal promised ids and associated streams are connection errors (RFC 9113 §6.6)', () => {
  const cases: [string, (w: H2FrameWriter, enc: HpackEncoder) => void][] = [
    ['odd promised id', (w, enc) => w.pushPromise(1, 3, enc.encode(PROMISED), 16384)],
    ['promised id 0', (w, enc) => w.pushPromise(1, 0, enc.encode(PROMISED), 16384)],
    [
      'promised id not above the last one',
      (w, enc) => {
        w.pushPromise(1, 4, enc.encode(PROMISED), 16384);
        w.pushPromise(1, 2, enc.encode(PROMISED), 16384);
      },
    ],
    ['associated stream idle', (w, enc) => w.pushPromise(5, 2, enc.encode(PROMISED), 16384)],
    ['associated stream 0', (w, enc) => w.pushPromise(0, 2, enc.encode(PROMISED), 16384)],
  ];
  for (const [name, write] of cases) {
    const { conn, handler } = client({ enablePush: true });
    conn.receive(serverFrames(write), 0);
    assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR, name);
  }
});

test('push accepted: a promised POST is refused on the promised stream (RFC 9113 §8.4.1)', () => {
  const { conn, handler } = client({ enablePush: true });
  conn.receive(
    serverFrames((w, enc) =>
      w.pushPromise(
        1,
        2,
        enc.encode([':method', 'POST', ':scheme', 'https', ':authority', 'x', ':path', '/']),
        16384,
      ),
    ),
    0,
  );
  assert.equal(handler.errors.length, 0);
  assert.equal(handler.promises.length, 0);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.equal(rst[0]?.streamId, 2);
  assert.equal(rst[0]?.payload.readUInt32BE(0), H2ErrorCode.PROTOCOL_ERROR);
});

test('push accepted: DATA on a reserved (remote) stream is a PROTOCOL_ERROR (RFC 9113 §5.1)', () => {
  const { conn, handler } = client({ enablePush: true });
  conn.receive(
    serverFrames((w, enc) => {
      w.pushPromise(1, 2, enc.encode(PROMISED), 16384);
      w.data(2, Buffer.from('early'), true);
    }),
    0,
  );
  assert.equal(handler.promises.length, 1);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
});

test('push accepted: PUSH_PROMISE split by CONTINUATION is assembled', () => {
  const { conn, handler } = client({ enablePush: true });
  const fields = [...PROMISED, 'x-long', 'y'.repeat(300)];
  conn.receive(
    serverFrames((w, enc) => w.pushPromise(1, 2, enc.encode(fields), 100)),
    0,
  );
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.deepEqual(handler.promises[0]?.fields, fields);
});
