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

function out(conn: H2Connection): FrameLog {
  return new FrameLog().feed(conn.takeOutgoing());
}

test('SETTINGS exchange: our SETTINGS first, the peer SETTINGS acknowledged, ours acked without timeout', () => {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler);
  conn.start(0);
  const first = out(conn);
  assert.equal(first.frames[0]!.type, H2FrameType.SETTINGS);
  assert.equal(first.frames[1]!.type, H2FrameType.WINDOW_UPDATE);
  const peer = new ScriptedPeer().preface();
  peer.writer.settingsAck();
  conn.receive(peer.bytes(), 1);
  const log = out(conn);
  assert.equal(log.frames.length, 1);
  assert.equal(log.frames[0]!.type, H2FrameType.SETTINGS);
  assert.equal(log.frames[0]!.flags, 1);
  conn.tick(60000);
  assert.equal(handler.errors.length, 0);
});

test('SETTINGS timeout: no ACK within settingsTimeout is a SETTINGS_TIMEOUT connection error', () => {
  const { conn, handler } = server({ settingsTimeout: 1000 });
  conn.receive(new ScriptedPeer().preface().bytes(), 0);
  conn.tick(500);
  assert.equal(handler.errors.length, 0);
  conn.tick(1500);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.SETTINGS_TIMEOUT);
  assert.equal(goawayCode(out(conn)), H2ErrorCode.SETTINGS_TIMEOUT);
});

test('a bad preface is a PROTOCOL_ERROR', () => {
  const { conn, handler } = server();
  conn.receive(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 0);
  assert.equal(handler.errors[0]?.code, 'AVX_H2_BAD_PREFACE');
});

test('request, response and stream states, with byte-at-a-time input', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/a', false);
  peer.writer.data(1, Buffer.from('hello'), false);
  peer.writer.data(1, Buffer.from(' world'), true);
  const bytes = peer.bytes();
  for (let i = 0; i < bytes.length; i++) conn.receive(bytes.subarray(i, i + 1), 0);
  assert.equal(handler.headers.length, 1);
  assert.deepEqual(handler.headers[0]!.fields.slice(0, 6), [
    ':method',
    'GET',
    ':scheme',
    'http',
    ':path',
    '/a',
  ]);
  assert.equal(Buffer.concat(handler.data.map((d) => d.data)).toString(), 'hello world');
  assert.equal(handler.data.at(-1)!.endStream, true);
  const stream = handler.headers[0]!.stream;
  conn.sendHeaders(stream, [':status', '200', 'content-type', 'text/plain'], false);
  conn.sendData(stream, Buffer.from('ok'), true);
  const log = out(conn);
  const hdr = log.ofType(H2FrameType.HEADERS)[0]!;
  assert.deepEqual(new HpackDecoder().decode(hdr.payload), [':status', '200', 'content-type', 'text/plain']);
  const data = log.ofType(H2FrameType.DATA)[0]!;
  assert.equal(data.payload.toString(), 'ok');
  assert.equal(data.flags & 1, 1);
  assert.deepEqual(handler.closed, [{ id: 1, code: 0, byPeer: false }]);
  assert.equal(conn.activeStreams, 0);
});

test('CONTINUATION assembly and padding are handled; PRIORITY frames ignored; unknown frame types ignored', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface();
  peer.writer.priority(3, 0, false, 200);
  peer.writer.raw(0xfa, 0, 0, Buffer.from('unknown'));
  const block = Buffer.from(
    peer.encoder.encode([
      ':method',
      'GET',
      ':scheme',
      'https',
      ':path',
      '/c',
      ':authority',
      'x',
      'x-long',
      'v'.repeat(100),
    ]),
  );
  peer.writer.headers(1, block, true, 20); // split across CONTINUATION frames of 20 octets
  // padded HEADERS: pad length 4
  const b2 = Buffer.from(
    peer.encoder.encode([':method', 'GET', ':scheme', 'https', ':path', '/p', ':authority', 'x']),
  );
  peer.writer.raw(
    H2FrameType.HEADERS,
    0x4 | 0x1 | 0x8,
    5,
    Buffer.concat([Buffer.from([4]), b2, Buffer.alloc(4)]),
  );
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.equal(handler.headers.length, 2);
  assert.equal(handler.headers[0]!.fields[7], 'x');
  assert.equal(handler.headers[0]!.fields[9], 'v'.repeat(100));
  assert.equal(handler.headers[1]!.fields[5], '/p');
});

test('a frame other than CONTINUATION inside a header block is a PROTOCOL_ERROR', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface();
  const block = Buffer.from(
    peer.encoder.encode([':method', 'GET', ':scheme', 'https', ':path', '/', ':authority', 'x']),
  );
  peer.writer.raw(H2FrameType.HEADERS, 0x1, 1, block); // no END_HEADERS
  peer.writer.ping(Buffer.alloc(8), false);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
});

test('frames larger than SETTINGS_MAX_FRAME_SIZE are FRAME_SIZE_ERROR', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/', false);
  peer.writer.data(1, Buffer.alloc(16385), true);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.FRAME_SIZE_ERROR);
});

test('malformed requests are stream errors (RFC 9113 §8.1.1, §8.2, §8.3)', () => {
  const cases: string[][] = [
    [':method', 'GET', ':path', '/', ':authority', 'x'], // no :scheme
    [':method', 'GET', ':scheme', 'http', ':path', '/', 'Upper', 'x'],
    [':method', 'GET', ':scheme', 'http', ':path', '/', 'connection', 'keep-alive'],
    [':method', 'GET', ':scheme', 'http', ':path', '/', 'te', 'gzip'],
    [':method', 'GET', ':scheme', 'http', 'x', 'y', ':path', '/'],
    [':method', 'GET', ':scheme', 'http', ':path', '/', ':status', '200'],
    [':method', 'GET', ':method', 'GET', ':scheme', 'http', ':path', '/'],
    [':method', 'GET', ':scheme', 'http', ':path', ''],
    [':method', 'GET', ':scheme', 'http', ':path', '/', 'x', 'a\nb'],
  ];
  for (const fields of cases) {
    const { conn, handler } = server();
    const peer = new ScriptedPeer().preface();
    peer.writer.headers(1, peer.encoder.encode(fields), true, 16384);
    conn.receive(peer.bytes(), 0);
    assert.equal(handler.headers.length, 0, JSON.stringify(fields));
    const rst = out(conn).ofType(H2FrameType.RST_STREAM);
    assert.equal(rst[0]?.payload.readUInt32BE(0), H2ErrorCode.PROTOCOL_ERROR, JSON.stringify(fields));
    assert.equal(handler.errors.length, 0);
  }
});

test('content-length must match the DATA received (RFC 9113 §8.1.1)', () => {
  const { conn } = server();
  const peer = new ScriptedPeer().preface().request(1, '/', false, ['content-length', '10'], 'POST');
  peer.writer.data(1, Buffer.from('short'), true);
  conn.receive(peer.bytes(), 0);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.equal(rst[0]?.payload.readUInt32BE(0), H2ErrorCode.PROTOCOL_ERROR);
});

test('trailers arrive after DATA; the priority field is parsed (RFC 9218)', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/', false, ['priority', 'u=1, i'], 'POST');
  peer.writer.data(1, Buffer.from('x'), false);
  peer.writer.headers(1, peer.encoder.encode(['x-checksum', 'abc']), true, 16384);
  conn.receive(peer.bytes(), 0);
  assert.deepEqual(handler.headers[0]!.stream.priority, { urgency: 1, incremental: true });
  assert.equal(handler.headers[1]!.trailers, true);
  assert.deepEqual(handler.headers[1]!.fields, ['x-checksum', 'abc']);
});

test('MAX_CONCURRENT_STREAMS: streams over the limit are refused', () => {
  const { conn, handler } = server({ maxConcurrentStreams: 2 });
  const peer = new ScriptedPeer()
    .preface()
    .request(1, '/', false)
    .request(3, '/', false)
    .request(5, '/', false);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.headers.length, 2);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.equal(rst[0]!.streamId, 5);
  assert.equal(rst[0]!.payload.readUInt32BE(0), H2ErrorCode.REFUSED_STREAM);
});

test('flow control: sending waits for WINDOW_UPDATE; SETTINGS_INITIAL_WINDOW_SIZE changes apply to open streams', () => {
  const { conn, handler } = server({ streamWriteBufferSize: 1000 });
  const peer = new ScriptedPeer();
  peer.writer.bytes(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
  peer.writer.settings([4, 100]); // INITIAL_WINDOW_SIZE = 100
  peer.request(1);
  conn.receive(peer.bytes(), 0);
  const stream = handler.headers[0]!.stream;
  conn.sendHeaders(stream, [':status', '200'], false);
  assert.equal(conn.sendData(stream, Buffer.alloc(5000, 1), false), false);
  let log = out(conn);
  assert.equal(
    log.ofType(H2FrameType.DATA).reduce((n, f) => n + f.payload.length, 0),
    100,
  );
  peer.writer.windowUpdate(1, 400);
  conn.receive(peer.bytes(), 1);
  log = out(conn);
  assert.equal(
    log.ofType(H2FrameType.DATA).reduce((n, f) => n + f.payload.length, 0),
    400,
  );
  peer.writer.settings([4, 10000]); // +9900 for the open stream
  conn.receive(peer.bytes(), 2);
  log = out(conn);
  const data = log.ofType(H2FrameType.DATA);
  assert.equal(
    data.reduce((n, f) => n + f.payload.length, 0),
    4500,
  );
  assert.equal(data.at(-1)!.flags & 1, 0);
  assert.deepEqual(handler.writable, [1]);
  assert.equal(conn.sendData(stream, Buffer.alloc(0), true), true);
  assert.equal(out(conn).ofType(H2FrameType.DATA)[0]!.flags & 1, 1);
  assert.deepEqual(handler.closed, [{ id: 1, code: 0, byPeer: false }]);
});

test('flow control: the receive window is credited only as data is consumed', () => {
  const { conn, handler } = server({ initialWindowSize: 1000, connectionWindowSize: 65535 });
  const peer = new ScriptedPeer().preface().request(1, '/', false, [], 'POST');
  peer.writer.data(1, Buffer.alloc(1000), false);
  conn.receive(peer.bytes(), 0);
  assert.equal(out(conn).ofType(H2FrameType.WINDOW_UPDATE).length, 0);
  // More than the window: FLOW_CONTROL_ERROR on the stream.
  peer.writer.data(1, Buffer.alloc(1), false);
  conn.receive(peer.bytes(), 0);
  assert.equal(
    out(conn).ofType(H2FrameType.RST_STREAM)[0]?.payload.readUInt32BE(0),
    H2ErrorCode.FLOW_CONTROL_ERROR,
  );
  const { conn: c2, handler: h2 } = server({ initialWindowSize: 1000 });
  const p2 = new ScriptedPeer().preface().request(1, '/', false, [], 'POST');
  p2.writer.data(1, Buffer.alloc(600), false);
  c2.receive(p2.bytes(), 0);
  c2.consume(h2.headers[0]!.stream, 600);
  const wu = out(c2).ofType(H2FrameType.WINDOW_UPDATE);
  assert.equal(wu[0]?.streamId, 1);
  assert.equal(wu[0]?.payload.readUInt32BE(0), 600);
  assert.ok(handler);
});

test('PING is answered; RST_STREAM closes the stream; GOAWAY is reported', () => {
  const { conn, handler } = server();
  const peer = new ScriptedPeer().preface().request(1, '/', false);
  peer.writer.ping(Buffer.from('12345678'), false);
  peer.writer.rstStream(1, H2ErrorCode.CANCEL);
  peer.writer.goaway(0, 0);
  conn.receive(peer.bytes(), 0);
  const log = out(conn);
  const pong = log.ofType(H2FrameType.PING)[0]!;
  assert.equal(pong.flags, 1);
  assert.equal(pong.payload.toString(), '12345678');
  assert.deepEqual(handler.closed, [{ id: 1, code: H2ErrorCode.CANCEL, byPeer: true }]);
  assert.equal(handler.goaways.length, 1);
});

test('graceful GOAWAY carries the last stream id; later streams are ignored', () => {
  const { conn, handler } = server();
  conn.receive(new ScriptedPeer().preface().request(1, '/', false).request(3, '/', false).bytes(), 0);
  conn.goaway();
  const g = out(conn).ofType(H2FrameType.GOAWAY)[0]!;
  assert.equal(g.payload.readUInt32BE(0), 3);
  assert.equal(g.payload.readUInt32BE(4), 0);
  const peer = new ScriptedPeer();
  peer.request(5);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.headers.length, 2);
});

test('client role: opens streams, receives responses, refuses server push', () => {
  const handler = new RecordingHandler();
  const client = new H2Connection('client', handler);
  const serverHandler = new RecordingHandler();
  const srv = new H2Connection('server', serverHandler);
  serverHandler.autoRespond = { conn: srv, body: Buffer.from('pong') };
  client.start(0);
  srv.start(0);
  const stream = client.openStream(
    [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'],
    true,
  );
  for (let i = 0; i < 4; i++) {
    srv.receive(Buffer.concat(client.takeOutgoing()), 0);
    client.receive(Buffer.concat(srv.takeOutgoing()), 0);
  }
  assert.equal(handler.headers[0]!.stream, stream);
  assert.deepEqual(handler.headers[0]!.fields, [':status', '200']);
  assert.equal(handler.data.map((d) => d.data.toString()).join(''), 'pong');
  assert.deepEqual(handler.closed, [{ id: 1, code: 0, byPeer: false }]);
  // stream id exhaustion
  client.nextLocalStreamId = 0x7fffffff;
  client.openStream([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'], true);
  assert.throws(
    () => client.openStream([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'], true),
    (err: Error & { code?: string }) => err.code === 'AVX_H2_STREAM_IDS_EXHAUSTED',
  );
});
