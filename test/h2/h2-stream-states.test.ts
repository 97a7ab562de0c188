/**
 * The RFC 9113 §5.1 state machine around closed streams, and the peer's
 * SETTINGS_MAX_HEADER_LIST_SIZE on what we send (§6.5.2): frames after a stream closed are
 * ignored when we reset it, and STREAM_CLOSED when the peer had ended or reset it; a HEADERS
 * below an id already used is PROTOCOL_ERROR (§5.1.1); a header section over the peer's limit
 * is refused with a typed error and not sent. Byte vectors with our writer and encoder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection } from '../../src/h2/h2-connection.js';
import type { H2ConnectionOptions } from '../../src/h2/h2-connection-options.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import { H2FrameType, H2Setting } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { FrameLog, goawayCode, RecordingHandler, ScriptedPeer } from './h2-test-peer.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const REQUEST = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'];

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

/** A server that answered GET / on stream 1 completely: the stream is closed by both END_STREAMs. */
function closedNormally() {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/');
  conn.receive(peer.bytes(), 0);
  conn.sendHeaders(handler.headers[0]!.stream, [':status', '204'], true);
  out(conn);
  assert.deepEqual(handler.closed, [{ id: 1, code: 0, byPeer: false }]);
  return { conn, handler, peer };
}

test('regression: DATA on a stream closed by both END_STREAMs is STREAM_CLOSED, not silently dropped', () => {
  const { conn, handler, peer } = closedNormally();
  peer.writer.data(1, Buffer.from('late'), true);
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.STREAM_CLOSED);
  assert.equal(goawayCode(out(conn)), H2ErrorCode.STREAM_CLOSED);
});

test('regression: HEADERS on a stream closed by both END_STREAMs is STREAM_CLOSED, not silently dropped', () => {
  const { conn, handler, peer } = closedNormally();
  peer.request(1, '/again');
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.STREAM_CLOSED);
  assert.equal(handler.headers.length, 1);
});

test('DATA after the peer reset the stream is STREAM_CLOSED (RFC 9113 §5.1)', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/', false, [], 'POST');
  peer.writer.rstStream(1, H2ErrorCode.CANCEL);
  peer.writer.data(1, Buffer.from('x'), false);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.STREAM_CLOSED);
});

test('frames on a stream WE reset are ignored (the peer may not have seen the RST yet), window still counted', () => {
  const { conn, handler } = server({ connectionWindowSize: 65535 });
  const peer = new ScriptedPeer().preface().request(1, '/', false, [], 'POST');
  conn.receive(peer.bytes(), 0);
  conn.resetStream(handler.headers[0]!.stream, H2ErrorCode.CANCEL);
  out(conn);
  for (let i = 0; i < 4; i++) peer.writer.data(1, Buffer.alloc(10000), false);
  peer.writer.headers(1, peer.encoder.encode(['x-trailer', '1']), true, 16384);
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.equal(handler.data.length, 0);
  // RFC 9113 §6.9: the octets count for the connection window, and are credited back.
  const wu = out(conn).ofType(H2FrameType.WINDOW_UPDATE);
  assert.equal(wu[0]?.streamId, 0);
  assert.equal(wu[0]?.payload.readUInt32BE(0), 40000);
});

test('frames on streams refused over MAX_CONCURRENT_STREAMS or ignored after GOAWAY are ignored', () => {
  const { conn, handler } = server({ maxConcurrentStreams: 1 });
  const peer = new ScriptedPeer().preface().request(1, '/', false).request(3, '/', false);
  peer.writer.data(3, Buffer.from('x'), true);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  conn.goaway();
  peer.request(5, '/', false);
  peer.writer.data(5, Buffer.from('y'), true);
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.equal(handler.headers.length, 1);
});

test('DATA on a half-closed (remote) stream is a stream error STREAM_CLOSED (RFC 9113 §5.1)', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/');
  peer.writer.data(1, Buffer.from('x'), false);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors.length, 0);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.equal(rst[0]?.streamId, 1);
  assert.equal(rst[0]?.payload.readUInt32BE(0), H2ErrorCode.STREAM_CLOSED);
});

test('HEADERS on a stream id below one already opened, never used, is PROTOCOL_ERROR (RFC 9113 §5.1.1)', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(5, '/', false).request(3, '/');
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
  assert.equal(handler.headers.length, 1);
});

test('client: a late response on a stream it reset is ignored; HEADERS after a complete response is STREAM_CLOSED', () => {
  const handler = new RecordingHandler();
  const client = new H2Connection('client', handler);
  client.start(0);
  const s1 = client.openStream(REQUEST, true);
  const s3 = client.openStream(REQUEST, true);
  client.resetStream(s1, H2ErrorCode.CANCEL);
  client.takeOutgoing();
  const w = new H2FrameWriter();
  const enc = new HpackEncoder();
  w.settings([]);
  w.headers(1, enc.encode([':status', '200']), false, 16384);
  w.data(1, Buffer.from('late'), true);
  w.headers(3, enc.encode([':status', '204']), true, 16384);
  client.receive(Buffer.concat(w.take()), 0);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.deepEqual(
    handler.headers.map((h) => h.stream.id),
    [3],
  );
  assert.equal(s3.state, 4);
  w.headers(3, enc.encode([':status', '200']), true, 16384);
  client.receive(Buffer.concat(w.take()), 1);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.STREAM_CLOSED);
});

/** A server whose client announced SETTINGS_MAX_HEADER_LIST_SIZE = `limit`, with request 1 open. */
function serverWithPeerLimit(limit: number) {
  const { conn, handler } = server();
  const peer = new ScriptedPeer();
  peer.writer.bytes(PREFACE);
  peer.writer.settings([H2Setting.MAX_HEADER_LIST_SIZE, limit]);
  peer.request(1, '/', false, [], 'POST');
  conn.receive(peer.bytes(), 0);
  out(conn);
  return { conn, stream: handler.headers[0]!.stream };
}

test('the peer SETTINGS_MAX_HEADER_LIST_SIZE: a larger response head is refused with a typed error, not sent', () => {
  const { conn, stream } = serverWithPeerLimit(200);
  assert.equal(conn.peerMaxHeaderListSize, 200);
  // 2 fields: ':status'+'200' = 10 + 32, 'x-big' + 200 = 205 + 32 -> 279 > 200.
  assert.throws(() => conn.sendHeaders(stream, [':status', '200', 'x-big', 'v'.repeat(200)], true), {
    code: 'AVX_H2_HEADER_LIST_TOO_LARGE',
  });
  assert.equal(out(conn).frames.length, 0, 'nothing was sent');
  assert.equal(stream.state, 1, 'the stream is still open');
  // Within the limit it goes out; then trailers over the limit are refused too.
  conn.sendHeaders(stream, [':status', '200', 'x-ok', 'v'.repeat(50)], false);
  assert.throws(() => conn.sendTrailers(stream, ['x-trailer', 'v'.repeat(300)]), {
    code: 'AVX_H2_HEADER_LIST_TOO_LARGE',
  });
  assert.equal(out(conn).ofType(H2FrameType.HEADERS).length, 1);
});

test('the peer SETTINGS_MAX_HEADER_LIST_SIZE: a client refuses to open a stream with a larger request head', () => {
  const handler = new RecordingHandler();
  const client = new H2Connection('client', handler);
  client.start(0);
  client.takeOutgoing();
  const w = new H2FrameWriter();
  w.settings([H2Setting.MAX_HEADER_LIST_SIZE, 300]);
  client.receive(Buffer.concat(w.take()), 0);
  client.takeOutgoing();
  assert.throws(() => client.openStream([...REQUEST, 'cookie', 'c'.repeat(400)], true), {
    code: 'AVX_H2_HEADER_LIST_TOO_LARGE',
  });
  assert.equal(client.activeStreams, 0);
  assert.equal(client.takeOutgoing().length, 0);
  const ok = client.openStream(REQUEST, true);
  assert.equal(ok.id, 1, 'the refused request used no stream id');
});

test('a stream closed long ago (forgotten by the bounded log) gets the benefit of the doubt: late frames ignored', () => {
  const { conn, handler } = server({ maxConcurrentStreams: 10 });
  const peer = new ScriptedPeer().preface();
  conn.receive(peer.bytes(), 0);
  // 70 streams opened and answered (the log keeps 64), one at a time.
  for (let id = 1; id < 140; id += 2) {
    conn.receive(peer.request(id, '/').bytes(), 0);
    conn.sendHeaders(handler.headers.at(-1)!.stream, [':status', '204'], true);
  }
  out(conn);
  assert.equal(handler.closed.length, 70);
  peer.writer.data(1, Buffer.from('very late'), true);
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.errors.length, 0, 'stream 1 is forgotten: ignored');
  peer.writer.data(139, Buffer.from('late'), true);
  conn.receive(peer.bytes(), 2);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.STREAM_CLOSED, 'stream 139 is remembered');
});
